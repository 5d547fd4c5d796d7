import Foundation

/// Finds a folder of vendor descriptions at run time, the same way for every simulated vendor.
enum SpecsLocator {
    /// `explicit` if given, else `$environmentVariable`, else the first `Tests/Fixtures` holding `marker` found walking
    /// up from the current directory, then from the executable's.
    static func locate(explicit: String?, environmentVariable: String, marker: String, environment: [String: String]) -> URL? {
        if let explicit { return URL(fileURLWithPath: explicit) }
        if let path = environment[environmentVariable], !path.isEmpty { return URL(fileURLWithPath: path) }
        let starts = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
            URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent(),
            Bundle.main.executableURL?.deletingLastPathComponent(),
        ].compactMap { $0 }
        for start in starts {
            var directory = start.standardizedFileURL
            while true {
                let candidate = directory.appending(path: "Tests/Fixtures")
                if FileManager.default.fileExists(atPath: candidate.appending(path: marker).path) { return candidate }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        return nil
    }
}
