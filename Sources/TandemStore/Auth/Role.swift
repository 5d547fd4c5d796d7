/// The guide's user roles (L3559–3643). A user may hold several; their capabilities add up.
public enum Role: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    /// Everything a user can do, plus user administration.
    case admin
    /// Creates, modifies and runs repositories, models, collections and integrations; reviews and retries errors.
    case user
    /// Read-only: reviews errors, configurations, settings and the configuration history; changes nothing.
    case troubleshooting
    /// Views artifact pair details.
    case viewPairs = "view-pairs"
    /// Deletes artifact pairs (and views them, to find what to delete).
    case deletePairs = "delete-pairs"

    public static func < (a: Role, b: Role) -> Bool {
        (Self.allCases.firstIndex(of: a) ?? 0) < (Self.allCases.firstIndex(of: b) ?? 0)
    }
}

/// What an endpoint needs. Each API endpoint belongs to exactly one class; `Capability.allowed` is the whole
/// authorization matrix (tested cell by cell in TandemServerTests).
public enum Capability: String, Sendable, Hashable, CaseIterable, Codable {
    /// One's own account: `GET /me`, own password, own API tokens, logout. Any user with at least one role.
    case account
    /// Creating users, resetting anyone's password, changing roles.
    case manageUsers = "manage-users"
    /// Reading repositories, models, collections, integrations (secrets never shown to anyone).
    case readConfiguration = "read-configuration"
    /// Creating, changing and deleting them, and testing a repository connection.
    case writeConfiguration = "write-configuration"
    /// Running and stopping integrations, "Process All Artifacts", "Initiate Synchronization".
    case runIntegrations = "run-integrations"
    /// Reading global settings.
    case readSettings = "read-settings"
    /// Changing global settings (intervals, concurrency, rate-limit defaults).
    case writeSettings = "write-settings"
    /// Changing the log level ("Change Logging Frequency"), the troubleshooting level included.
    case changeLogging = "change-logging"
    /// Reading the audit log (the configuration history).
    case readAudit = "read-audit"
    /// Reviewing activity: errors, blockers, jobs, queues, workers, metrics.
    case readActivity = "read-activity"
    /// Retrying, clearing and ignoring errors; pausing and resuming queues.
    case actOnActivity = "act-on-activity"
    /// Viewing artifact pairs.
    case viewPairs = "view-pairs"
    /// Deleting artifact pairs.
    case deletePairs = "delete-pairs"

    /// The roles that grant this capability.
    public var allowed: Set<Role> {
        switch self {
        case .account: Set(Role.allCases)
        case .manageUsers: [.admin]
        case .readConfiguration, .readSettings, .readAudit, .readActivity: [.admin, .user, .troubleshooting]
        case .writeConfiguration, .runIntegrations, .actOnActivity, .changeLogging: [.admin, .user]
        case .writeSettings: [.admin]
        case .viewPairs: [.admin, .viewPairs, .deletePairs]
        case .deletePairs: [.admin, .deletePairs]
        }
    }

    /// Whether a holder of `roles` has this capability.
    public func isGranted(to roles: some Sequence<Role>) -> Bool { roles.contains { self.allowed.contains($0) } }
}
