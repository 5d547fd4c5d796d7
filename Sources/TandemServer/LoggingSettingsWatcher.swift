public import Logging
public import Postgres
public import ServiceLifecycle
import TandemStore

/// Reads the log level setting every `interval` and applies it to this process (`LogLevelOverride`, which
/// `SettingsLogHandler` follows): the troubleshooting level takes effect within one interval of being set, and the
/// process returns to its normal level within one interval of its expiry, without anyone acting.
public struct LoggingSettingsWatcher: Service, CustomStringConvertible {
    public let postgres: PostgresClient
    public let interval: Duration
    public let logger: Logger
    public var description: String { "LoggingSettingsWatcher" }

    public init(postgres: PostgresClient, interval: Duration = .seconds(30), logger: Logger) {
        self.postgres = postgres
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await self.refresh()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }

    /// One read and apply; a database that is away leaves the current level as it is.
    public func refresh() async {
        guard let settings = try? await LoggingSettings.load(self.postgres) else { return }
        let level = LogLevelOverride.level(for: settings)
        if level != LogLevelOverride.current {
            LogLevelOverride.current = level
            self.logger.notice("Log level changed by the settings", metadata: ["tandem.log.level": "\(level?.rawValue ?? "start-up level")"])
        }
    }
}
