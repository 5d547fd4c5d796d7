import Foundation

/// The path of this package's executable `name`, built next to the test bundle; the environment variable `variable`,
/// when set, names another. Shared by the test targets that run the package's processes.
func builtExecutable(_ name: String, overriddenBy variable: String) -> String {
    if let path = ProcessInfo.processInfo.environment[variable] { return path }
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [bundle, bundle.deletingLastPathComponent()] {
        let path = candidate.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent(name).path
}
