/// How often the integrations that use a repository read it in full (a full scan), set per repository in its
/// `options` as `syncFrequency` — the `frequency` of the v2 connections API (docs/api.md). `manually`: no scheduled
/// full scan, only operators' requests. A side's or an integration's own `fullScan` / `fullScanEnabled` still take
/// precedence; without the option, the global settings apply.
public enum SyncFrequency: String, Sendable, Hashable, CaseIterable {
    case hourly, daily, weekly, monthly, manually

    /// The repository option that holds it.
    public static let optionKey = "syncFrequency"

    /// The full-scan interval; nil for `manually` (a month is 30 days).
    public var interval: ConfigDuration? {
        switch self {
        case .hourly: ConfigDuration(seconds: 3600)
        case .daily: ConfigDuration(seconds: 86400)
        case .weekly: ConfigDuration(seconds: 7 * 86400)
        case .monthly: ConfigDuration(seconds: 30 * 86400)
        case .manually: nil
        }
    }

    /// The value closest to global settings (`manually` when full scans are off; otherwise the first value whose
    /// interval is at least the setting's), for repositories without their own.
    public static func nearest(to settings: Settings) -> SyncFrequency {
        guard settings.fullScanEnabled else { return .manually }
        return Self.allCases.first { ($0.interval?.seconds ?? 0) >= settings.fullScanInterval.seconds } ?? .monthly
    }
}

extension RepositoryConfig {
    /// The repository's own full-scan frequency (`options.syncFrequency`), if it has a valid one.
    public var syncFrequency: SyncFrequency? { self.options[SyncFrequency.optionKey].flatMap(SyncFrequency.init(rawValue:)) }
}
