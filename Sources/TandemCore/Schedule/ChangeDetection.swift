/// How a full scan trades load against fidelity (guide L7700–7716).
public enum FullScanStyle: String, Sendable, Hashable, Codable, CaseIterable {
    case optimized
    case highPerformance = "high-performance"
    case highFidelity = "high-fidelity"
}

/// Where a setting came from in the override chain.
public enum SettingLevel: String, Sendable, Hashable, Codable, CaseIterable {
    case builtIn = "built-in"
    case global
    case integration
    case collection
}

/// Change detection and full scan settings at one level; nil inherits from the level above (guide L7653–7739).
public struct ChangeDetectionSettings: Sendable, Hashable {
    public var changeDetection: Schedule?
    public var fullScan: Schedule?
    public var fullScanStyle: FullScanStyle?
    public var fullScanEnabled: Bool?

    public init(changeDetection: Schedule? = nil, fullScan: Schedule? = nil, fullScanStyle: FullScanStyle? = nil, fullScanEnabled: Bool? = nil) {
        self.changeDetection = changeDetection
        self.fullScan = fullScan
        self.fullScanStyle = fullScanStyle
        self.fullScanEnabled = fullScanEnabled
    }

    /// Checks the schedules set at this level.
    public func validate() throws(ScheduleError) {
        try self.changeDetection?.validate()
        try self.fullScan?.validate()
    }
}

/// The settings in force for one collection of one integration, and the level each came from.
public struct ResolvedChangeDetection: Sendable, Hashable {
    public var changeDetection: Schedule
    public var fullScan: Schedule
    public var fullScanStyle: FullScanStyle
    public var fullScanEnabled: Bool
    public var changeDetectionLevel: SettingLevel
    public var fullScanLevel: SettingLevel

    /// Resolves the chain built-in → global → integration → collection: the most specific level that sets a value
    /// wins. An override affects only its integration (guide L7695–7696). Built in: change detection every minute, a
    /// full scan every 24 hours, optimized, enabled (guide L7654, L7669).
    public init(
        global: ChangeDetectionSettings = ChangeDetectionSettings(), integration: ChangeDetectionSettings? = nil,
        collection: ChangeDetectionSettings? = nil
    ) {
        let empty = ChangeDetectionSettings()
        let chain: [(SettingLevel, ChangeDetectionSettings)] = [
            (SettingLevel.collection, collection ?? empty), (SettingLevel.integration, integration ?? empty), (SettingLevel.global, global),
        ]
        func pick<T>(_ key: KeyPath<ChangeDetectionSettings, T?>, _ builtIn: T) -> (T, SettingLevel) {
            for (level, settings) in chain { if let v = settings[keyPath: key] { return (v, level) } }
            return (builtIn, .builtIn)
        }
        (self.changeDetection, self.changeDetectionLevel) = pick(\.changeDetection, Schedule.interval(seconds: 60))
        (self.fullScan, self.fullScanLevel) = pick(\.fullScan, Schedule.interval(seconds: 86_400))
        self.fullScanStyle = pick(\.fullScanStyle, FullScanStyle.optimized).0
        self.fullScanEnabled = pick(\.fullScanEnabled, true).0
    }
}
