import ArgumentParser
import Foundation
import Logging
import TandemStore

@main
struct Tandem: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tandem",
        abstract: "Tandem keeps work items in sync between issue trackers.",
        discussion: """
            Settings come from the environment first, and flags override them:
              TANDEM_DATABASE_URL        any libpq connection string or URI (multi-host included)
              TANDEM_REDIS_URL           redis://[:password@]host:port/db
              TANDEM_MASTER_KEY          the master key that encrypts credentials (base64 or hex, 32 bytes)
              TANDEM_MASTER_KEY_FILE     or a file holding it
              LOG_LEVEL                  trace, debug, info, notice, warning, error, critical (default info)
            """,
        subcommands: [
            Migrate.self, Apply.self, Export.self, Keys.self, Repositories.self,
        ] + Self.extraSubcommands
    )

    /// Bootstraps logging once, then parses and runs the command.
    static func main() async {
        // The level can be changed at run time by the settings (a troubleshooting level that expires): see
        // LoggingSettingsWatcher, which `tandem server`, `tandem coordinator` and `tandem worker` run.
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Self.logLevel()
            return SettingsLogHandler(base: handler)
        }
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    /// `--log-level` (anywhere on the command line) over `LOG_LEVEL` over info.
    static func logLevel() -> Logger.Level {
        let arguments = CommandLine.arguments
        var text = ProcessInfo.processInfo.environment["LOG_LEVEL"]
        if let index = arguments.firstIndex(of: "--log-level"), index + 1 < arguments.count { text = arguments[index + 1] }
        return text.flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
    }
}
