public import Foundation
public import Logging
public import Postgres
import Synchronization
public import TandemConfig
public import TandemCore

/// The log level setting ("Change Logging Frequency"): a normal level, and a troubleshooting level that reverts by
/// itself at its expiry (at most 24 hours ahead). Stored in `settings` as `logging.level` and `logging.troubleshooting`.
public struct LoggingSettings: Sendable, Hashable {
    public static let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
    public static let troubleshootingLevels = ["debug", "trace"]
    public static let maximumTroubleshootingSeconds = 24 * 3600

    public var level = "info"
    /// Whether `level` was set (through the API), rather than the default.
    public var levelIsSet = false
    public var troubleshootingLevel: String?
    public var troubleshootingUntil: Date?

    public init() {}

    /// The level processes should log at now: the troubleshooting level until it expires, then the normal one.
    public func effectiveLevel(at now: Date = Date()) -> String {
        if let level = self.troubleshootingLevel, let until = self.troubleshootingUntil, until > now { return level }
        return self.level
    }

    public func isTroubleshooting(at now: Date = Date()) -> Bool { self.troubleshootingUntil.map { $0 > now } ?? false }

    public var json: JSONNode {
        var troubleshooting: JSONNode? = nil
        if let level = self.troubleshootingLevel, let until = self.troubleshootingUntil, until > Date() {
            troubleshooting = .object(["level": .string(level), "until": .string(until.formatted(.iso8601))])
        }
        return .object(["level": .string(self.level), "effectiveLevel": .string(self.effectiveLevel()), "troubleshooting": troubleshooting])
    }

    public static func load(_ client: PostgresClient) async throws -> LoggingSettings {
        var settings = LoggingSettings()
        for row in try await client.query("SELECT key, value::text FROM settings WHERE key IN ('logging.level', 'logging.troubleshooting')") {
            let value = (try? JSONNode.parse(try row.decode(String.self, at: 1))) ?? .null
            switch try row.decode(String.self, at: 0) {
            case "logging.level":
                if case .string(let level) = value, Self.levels.contains(level) {
                    settings.level = level
                    settings.levelIsSet = true
                }
            case "logging.troubleshooting":
                if case .string(let level)? = value["level"], case .string(let until)? = value["until"],
                    let date = try? Date(until, strategy: .iso8601)
                {
                    settings.troubleshootingLevel = level
                    settings.troubleshootingUntil = date
                }
            default: break
            }
        }
        return settings
    }

    /// Sets the normal level and/or starts (`seconds` > 0) or ends (`seconds` == 0) troubleshooting, with an audit row.
    public static func update(
        _ client: PostgresClient, level: String?, troubleshooting: (level: String, seconds: Int)?, actor: String
    ) async throws -> LoggingSettings {
        if let level, !Self.levels.contains(level) {
            throw AdminError(.invalid, field: "level", "'\(level)' is not a log level (levels: \(Self.levels.joined(separator: ", ")))")
        }
        if let troubleshooting {
            if !Self.troubleshootingLevels.contains(troubleshooting.level) {
                throw AdminError(.invalid, field: "troubleshooting.level", "must be debug or trace")
            }
            if troubleshooting.seconds < 0 || troubleshooting.seconds > Self.maximumTroubleshootingSeconds {
                throw AdminError(.invalid, field: "troubleshooting.minutes", "must be between 0 (end now) and 1440 (24 hours)")
            }
        }
        let before = try await Self.load(client)
        return try await client.withTransaction { connection in
            var after = before
            if let level {
                after.level = level
                after.levelIsSet = true
                try await connection.query(
                    """
                    INSERT INTO settings (key, value) VALUES ('logging.level', \(PostgresJSON(raw: JSONNode.string(level).text)))
                    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
                    """)
            }
            if let troubleshooting {
                if troubleshooting.seconds == 0 {
                    after.troubleshootingLevel = nil
                    after.troubleshootingUntil = nil
                    try await connection.query("DELETE FROM settings WHERE key = 'logging.troubleshooting'")
                } else {
                    let until = Date().addingTimeInterval(TimeInterval(troubleshooting.seconds))
                    after.troubleshootingLevel = troubleshooting.level
                    after.troubleshootingUntil = until
                    let value = JSONNode.object(["level": .string(troubleshooting.level), "until": .string(until.formatted(.iso8601))])
                    try await connection.query(
                        """
                        INSERT INTO settings (key, value) VALUES ('logging.troubleshooting', \(PostgresJSON(raw: value.text)))
                        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
                        """)
                }
            }
            if after != before {
                try await AuditLog.record(
                    connection, actor: actor, action: "update", entity: "settings", name: "logging",
                    changes: .object(["before": before.json, "after": after.json]))
            }
            return after
        }
    }
}

/// The login policy's settings (`auth.*`), changed through the API with an audit row.
extension AuthPolicy {
    public var json: JSONNode {
        .object([
            "maxFailedLogins": .int(self.maxFailedLogins), "lockoutSeconds": .int(self.lockoutSeconds), "sessionSeconds": .int(self.sessionSeconds),
        ])
    }

    public static let ranges: [String: ClosedRange<Int>] = [
        "maxFailedLogins": 1...100, "lockoutSeconds": 60...86400, "sessionSeconds": 300...(30 * 86400),
    ]

    public func save(_ client: PostgresClient, before: AuthPolicy, actor: String) async throws {
        guard self != before else { return }
        try await client.withTransaction { connection in
            for (key, value) in [
                ("auth.maxFailedLogins", self.maxFailedLogins), ("auth.lockoutSeconds", self.lockoutSeconds),
                ("auth.sessionSeconds", self.sessionSeconds),
            ] {
                try await connection.query(
                    """
                    INSERT INTO settings (key, value) VALUES (\(key), \(PostgresJSON(raw: String(value))))
                    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
                    """)
            }
            try await AuditLog.record(
                connection, actor: actor, action: "update", entity: "settings", name: "security",
                changes: .object(["before": before.json, "after": self.json]))
        }
    }
}

// MARK: - Applying the setting to a running process

/// The level the settings ask this process to log at, when they ask for one: the troubleshooting level while it lasts,
/// else `logging.level` once it has been set through the API. nil: the process keeps its start-up level (LOG_LEVEL or
/// --log-level). `SettingsLogHandler` reads it on every log call; `LoggingSettingsWatcher` (TandemServer) refreshes it.
public enum LogLevelOverride {
    static let storage = Mutex<Logger.Level?>(nil)

    public static var current: Logger.Level? {
        get { Self.storage.withLock { $0 } }
        set { Self.storage.withLock { $0 = newValue } }
    }

    /// What `settings` ask for now (see above).
    public static func level(for settings: LoggingSettings, at now: Date = Date()) -> Logger.Level? {
        if settings.isTroubleshooting(at: now), let level = settings.troubleshootingLevel { return Logger.Level(rawValue: level) }
        return settings.levelIsSet ? Logger.Level(rawValue: settings.level) : nil
    }
}

/// A log handler whose level follows `LogLevelOverride` when it is set, and its own level otherwise.
public struct SettingsLogHandler: LogHandler {
    public var base: any LogHandler
    public init(base: any LogHandler) { self.base = base }

    public var logLevel: Logger.Level {
        get { LogLevelOverride.current ?? self.base.logLevel }
        set { self.base.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { self.base.metadata }
        set { self.base.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.base[metadataKey: key] }
        set { self.base[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        // The base handler filters by its own level; the level check above has already decided.
        var base = self.base
        base.logLevel = .trace
        base.log(event: event)
    }
}
