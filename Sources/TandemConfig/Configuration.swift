public import TandemConnectors
public import TandemCore

/// The whole configuration of a Tandem installation, as `tandem apply` reads it and `tandem export` writes it.
/// The schema is documented in `docs/configuration.md`.
public struct TandemConfiguration: Sendable, Hashable {
    public static let currentVersion = 1

    public var version: Int = Self.currentVersion
    public var settings = Settings()
    /// Whether the configuration says what the settings are. A file without `settings` leaves the stored ones as they
    /// are when applied (unless with --prune, which resets them to their defaults).
    public var hasSettings = true
    public var repositories: [RepositoryConfig] = []
    public var models: [ModelConfig] = []
    public var collections: [CollectionConfig] = []
    public var integrations: [IntegrationConfig] = []

    public init() {}
}

/// A duration as written in configuration: `90s`, `5m`, `24h`, `7d` (or a plain number of seconds).
public struct ConfigDuration: Sendable, Hashable, CustomStringConvertible {
    public var seconds: Int
    public init(seconds: Int) { self.seconds = seconds }

    /// Parses `90`, `90s`, `5m`, `2h`, `1d`; nil when malformed or not positive.
    public init?(parsing text: String) {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        var digits = Substring(text)
        var multiplier = 1
        if let last = text.last, let unit = units[last] {
            multiplier = unit
            digits = text.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Int(digits), value > 0,
            value <= Int.max / multiplier
        else { return nil }
        self.seconds = value * multiplier
    }

    /// The shortest exact form: `24h` rather than `86400s`.
    public var description: String {
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60)] where self.seconds % size == 0 {
            return "\(self.seconds / size)\(unit)"
        }
        return "\(self.seconds)s"
    }
}

/// A secret in configuration: always a reference to an environment variable, `${NAME}`, so that files can be kept
/// in version control and promoted between environments. The value is resolved when the file is applied and is stored
/// encrypted; `export` writes the reference back.
public struct SecretReference: Sendable, Hashable, CustomStringConvertible {
    public var variable: String
    public init(variable: String) { self.variable = variable }

    /// Parses `${NAME}`; NAME is letters, digits and underscores, not starting with a digit.
    public init?(parsing text: String) {
        guard text.hasPrefix("${"), text.hasSuffix("}") else { return nil }
        let name = text.dropFirst(2).dropLast()
        guard let first = name.first, !first.isNumber,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        else { return nil }
        self.variable = String(name)
    }

    public var description: String { "${\(self.variable)}" }

    /// The prefix of the environment variables a configuration's secrets may name. `apply` reads no other variable,
    /// so a configuration cannot copy the applying process's own settings (its database URL, say) into a repository's
    /// credentials, where a connection test would send them to whatever server the repository names.
    public static let environmentPrefix = "TANDEM_SECRET_"

    /// Whether `apply` may read this variable from the environment.
    public var isReadableFromEnvironment: Bool {
        self.variable.hasPrefix(Self.environmentPrefix) && self.variable.count > Self.environmentPrefix.count
    }
}

public enum RateLimitScope: String, Sendable, Hashable, CaseIterable {
    case all
    case lowPriority = "low-priority"
}

public struct EventRateLimit: Sendable, Hashable {
    public var eventsPerMinute: Int
    public var scope: RateLimitScope
    public init(eventsPerMinute: Int = 200, scope: RateLimitScope = .lowPriority) {
        self.eventsPerMinute = eventsPerMinute
        self.scope = scope
    }
}

/// Global settings (the Settings page of the Hub).
public struct Settings: Sendable, Hashable {
    public var changeDetectionInterval = ConfigDuration(seconds: 60)
    public var fullScanInterval = ConfigDuration(seconds: 86400)
    public var fullScanEnabled = true
    public var maxConcurrencyPerIntegration = 10
    public var eventRateLimit = EventRateLimit()
    public init() {}
}

// MARK: - Repositories

/// The tool a repository is: a registered connector's kind (`ConnectorRegistry`).
public typealias RepositoryKind = ConnectorKind

public enum AuthConfig: Sendable, Hashable {
    case none
    case basic(username: String, password: SecretReference)
    /// An API key sent in a header (`header`) or a query parameter (`parameter`).
    case apiKey(key: SecretReference, header: String?, parameter: String?)
    /// `Authorization: Token …`
    case token(SecretReference)
    /// `Authorization: Bearer …`
    case bearer(SecretReference)

    public var kind: String {
        switch self {
        case .none: "none"
        case .basic: "basic"
        case .apiKey: "api-key"
        case .token: "token"
        case .bearer: "bearer"
        }
    }

    /// The key that holds the secret in a file (`password`, `key`, `token`).
    public var secretKey: String {
        switch self {
        case .none: ""
        case .basic: "password"
        case .apiKey: "key"
        case .token, .bearer: "token"
        }
    }

    public var secrets: [SecretReference] {
        switch self {
        case .none: []
        case .basic(_, let p): [p]
        case .apiKey(let k, _, _), .token(let k), .bearer(let k): [k]
        }
    }
}

public struct ProxyConfig: Sendable, Hashable {
    public var url: String
    public var username: String?
    public var password: SecretReference?
    public init(url: String, username: String? = nil, password: SecretReference? = nil) {
        self.url = url
        self.username = username
        self.password = password
    }
}

public struct RepositoryConfig: Sendable, Hashable {
    public var name: String
    public var kind: RepositoryKind
    public var url: String
    public var auth: AuthConfig = .none
    public var enabled = true
    public var allowInsecure = false
    /// Logs every API call to this repository at notice level (method, redacted URL, status, duration; never headers or
    /// bodies), without lowering the process's log level: seed 003's `debug_mode`, for troubleshooting one connection.
    public var debugLogging = false
    public var proxy: ProxyConfig?
    public var eventRateLimit: EventRateLimit?
    public var concurrencyLimit: Int?
    /// Connector-specific settings, e.g. Redmine's `markerField` (the custom field that holds Tandem's create marker).
    public var options: [String: String] = [:]
    public init(name: String, kind: RepositoryKind, url: String) {
        self.name = name
        self.kind = kind
        self.url = url
    }

    /// Every secret this repository needs, auth first.
    public var secrets: [SecretReference] { self.auth.secrets + (self.proxy?.password.map { [$0] } ?? []) }

    /// The event rate it runs at: its own; else its tool's default (the pace the tool's API tolerates), no faster
    /// than the global setting; else the global setting.
    public func effectiveEventRateLimit(_ settings: Settings) -> EventRateLimit {
        if let own = self.eventRateLimit { return own }
        var limit = settings.eventRateLimit
        if let tool = self.kind.registration.defaultLimits.eventsPerMinute { limit.eventsPerMinute = min(tool, limit.eventsPerMinute) }
        return limit
    }

    /// Requests at once: its own, else its tool's default (nil: no limit beyond the workers').
    public var effectiveConcurrencyLimit: Int? { self.concurrencyLimit ?? self.kind.registration.defaultLimits.concurrency }
}

// MARK: - Models

public struct ModelFieldConfig: Sendable, Hashable {
    public var name: String
    public var type: FieldType
    public var required = false
    public var values: [String] = []
    public var allowUnmapped = false
    public init(name: String, type: FieldType) {
        self.name = name
        self.type = type
    }
}

public struct ModelConfig: Sendable, Hashable {
    public var name: String
    public var fields: [ModelFieldConfig] = []
    public init(name: String) { self.name = name }
    public func field(_ name: String) -> ModelFieldConfig? {
        WorkCounter.record(self.fields.count)
        return self.fields.first { $0.name == name }
    }
}

// MARK: - Collections

/// A transform, one direction of a field mapping (guide L5708–5745).
public enum TransformKind: String, Sendable, Hashable, CaseIterable {
    case copy, append, none
    case richTextToPlain = "rich-text-to-plain"
    case plainToRichText = "plain-to-rich-text"
    case markdownToHTML = "markdown-to-html"
    case htmlToMarkdown = "html-to-markdown"
    case selectToString = "select-to-string"
    case stringToSelect = "string-to-select"
    case joinValues = "join-values"
    case stringToRelationships = "string-to-relationships"
    case locationToWebLink = "location-to-web-link"
}

public struct ValueMapEntry: Sendable, Hashable {
    /// Repository values that map onto `model`; the first is written back to the repository.
    public var repository: [String]
    public var model: String
    public init(repository: [String], model: String) {
        self.repository = repository
        self.model = model
    }
}

public struct FieldMappingConfig: Sendable, Hashable {
    /// The repository field's name (its id in the repository's schema).
    public var field: String
    public var modelField: String
    /// The repository field's type when it differs from the model field's (e.g. a plain-text description into a
    /// rich-text model field); conversions are checked against it.
    public var type: FieldType?
    public var toModel: TransformKind = .copy
    public var toRepository: TransformKind = .copy
    public var valueMap: [ValueMapEntry] = []
    /// The model value used for a repository value that has no mapping.
    public var defaultValue: String?
    /// A constant written to the repository instead of a mapped value.
    public var constant: String?
    public init(field: String, modelField: String) {
        self.field = field
        self.modelField = modelField
    }
}

public struct TransitionConfig: Sendable, Hashable {
    public var from: String
    public var to: String
    public var name: String
    public init(from: String, to: String, name: String) {
        self.from = from
        self.to = to
        self.name = name
    }
}

public struct CollectionConfig: Sendable, Hashable {
    public var name: String
    public var repository: String
    public var artifactType: String
    public var projects: [String]
    public var model: String
    public var fields: [FieldMappingConfig] = []
    /// The repository's status field driven by `transitions`, if the repository changes status by transitions.
    public var statusField: String?
    public var transitions: [TransitionConfig] = []
    public init(name: String, repository: String, artifactType: String, projects: [String], model: String) {
        self.name = name
        self.repository = repository
        self.artifactType = artifactType
        self.projects = projects
        self.model = model
    }
    public func mapping(forModelField name: String) -> FieldMappingConfig? { self.fields.first { $0.modelField == name } }
}

// MARK: - Integrations

public enum CreationFlowConfig: String, Sendable, Hashable, CaseIterable {
    case twoWay = "two-way"
    case leftToRight = "left-to-right"
    case rightToLeft = "right-to-left"
    case none
}

public struct FieldFlowConfig: Sendable, Hashable {
    public var leftToRight: FlowFrequency
    public var rightToLeft: FlowFrequency
    public init(leftToRight: FlowFrequency = .updateNormally, rightToLeft: FlowFrequency = .updateNormally) {
        self.leftToRight = leftToRight
        self.rightToLeft = rightToLeft
    }
}

public enum ConditionOperator: String, Sendable, Hashable, CaseIterable {
    case equals, notEquals = "not-equals", `in`, notIn = "not-in", contains
    case greaterThan = "greater-than", lessThan = "less-than", isEmpty = "is-empty", isNotEmpty = "is-not-empty"
}

public struct ConditionConfig: Sendable, Hashable {
    /// Which side's artifact is tested; nil tests both collections (the Hub's linked "double filter").
    public var side: Side?
    public var field: String
    public var op: ConditionOperator
    public var values: [String]
    public init(side: Side?, field: String, op: ConditionOperator, values: [String]) {
        self.side = side
        self.field = field
        self.op = op
        self.values = values
    }
}

extension FilterScope: CaseIterable {
    public static var allCases: [FilterScope] { [.creationAndUpdate, .creationOnly] }
}

public struct ConditionalFlowConfig: Sendable, Hashable {
    public var when: [ConditionConfig]
    public var fieldFlows: [String: FieldFlowConfig]
    public init(when: [ConditionConfig], fieldFlows: [String: FieldFlowConfig]) {
        self.when = when
        self.fieldFlows = fieldFlows
    }
}

public struct RouteConfig: Sendable, Hashable {
    /// The side whose new artifacts this route places on the other side.
    public var from: Side
    public var sourceProjects: [String]
    /// Static route: one target project.
    public var targetProject: String?
    /// Conditional route: a single-select model field and, per target project, the values that send there.
    public var field: String?
    public var targets: [String: [String]] = [:]
    public init(from: Side, sourceProjects: [String], targetProject: String?) {
        self.from = from
        self.sourceProjects = sourceProjects
        self.targetProject = targetProject
    }
}

public enum ConflictPolicyKind: String, Sendable, Hashable, CaseIterable {
    case error
    case leftDominates = "left-dominates"
    case rightDominates = "right-dominates"
}

public enum FlowDirection: String, Sendable, Hashable, CaseIterable {
    case both
    case leftToRight = "left-to-right"
    case rightToLeft = "right-to-left"
    case none
}

public struct AttachmentFlowConfig: Sendable, Hashable {
    public var direction: FlowDirection = .none
    public var maxSizeBytes: Int?
    public var excludeTypes: [String] = []
    public init() {}
}

/// An interval or a Quartz cron expression.
public enum ScheduleConfig: Sendable, Hashable {
    case interval(ConfigDuration)
    case cron(String)
}

public struct SideScheduleConfig: Sendable, Hashable {
    public var changeDetection: ScheduleConfig?
    public var fullScan: ScheduleConfig?
    public var fullScanEnabled: Bool?
    public init() {}
    public var isEmpty: Bool { self.changeDetection == nil && self.fullScan == nil && self.fullScanEnabled == nil }
}

public struct IntegrationConfig: Sendable, Hashable {
    public var name: String
    public var left: String
    public var right: String
    public var running = false
    public var creation: CreationFlowConfig = .twoWay
    public var fieldFlows: [String: FieldFlowConfig] = [:]
    public var conditionalFieldFlows: [ConditionalFlowConfig] = []
    public var routes: [RouteConfig] = []
    public var filterScope: FilterScope = .creationAndUpdate
    public var filters: [ConditionConfig] = []
    public var comments: FlowDirection = .both
    public var attachments = AttachmentFlowConfig()
    public var conflictDefault: ConflictPolicyKind = .error
    public var conflictFields: [String: ConflictPolicyKind] = [:]
    /// Schedules for the whole integration, then per side; unset values fall back to the global settings.
    public var schedule = SideScheduleConfig()
    public var leftSchedule = SideScheduleConfig()
    public var rightSchedule = SideScheduleConfig()
    public var maxConcurrency: Int?
    public init(name: String, left: String, right: String) {
        self.name = name
        self.left = left
        self.right = right
    }
}
