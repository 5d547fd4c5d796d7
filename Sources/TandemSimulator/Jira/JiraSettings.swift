import Foundation

/// What the operations routes read and change (`GET|PUT /sim/<jira|jira-dc>/<site>/settings`).
public struct JiraSettings: Codable, Sendable, Equatable {
    /// The API user's profile time zone: JQL dates and every time stamp in bodies use it.
    public var timeZone: String = "America/Los_Angeles"
    /// How long after a write the search index shows it.
    public var indexLagMilliseconds: Int = 2000
    /// Added to every API call.
    public var latencyMilliseconds: Int = 0
    /// Burst size of the rate limit's token bucket (0: no limit).
    public var rateLimitCapacity: Int = 500
    /// Tokens added per second.
    public var rateLimitRefillPerSecond: Double = 100
    /// Cloud: basic `email:apiToken`.
    public var email: String = "tandem@example.com"
    public var apiToken: String = "jira-token"
    /// Data Center: `Bearer <personalAccessToken>` or basic `username:password`.
    public var personalAccessToken: String = "jira-pat"
    public var username: String = "tandem"
    public var password: String = "jira-password"
    /// Projects where the API user may browse but not create or edit (403).
    public var readOnlyProjects: [String] = []

    public init() {}
}
