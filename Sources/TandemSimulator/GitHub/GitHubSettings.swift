import Foundation

/// What the operations routes read and change (`GET|PUT /sim/github/<site>/settings`).
public struct GitHubSettings: Codable, Sendable, Equatable {
    /// Added to every API call.
    public var latencyMilliseconds: Int = 0
    /// The primary quota: requests per token per window (GitHub: 5,000 an hour for a user's token).
    public var primaryLimit: Int = 5000
    /// The primary quota's window; `x-ratelimit-reset` is its end.
    public var primaryWindowSeconds: Int = 3600
    /// The status of an answer over the primary quota: 403 (GitHub's usual) or 429.
    public var primaryLimitStatus: Int = 403
    /// The secondary limit on content-creating requests (POST, PATCH, PUT, DELETE) per token: more than this many in
    /// a minute, or than `secondaryPerHour` in an hour, answers 403 with `retry-after: 60`.
    public var secondaryPerMinute: Int = 80
    public var secondaryPerHour: Int = 500
    /// The next n answers are a bare 429: no body, no rate-limit headers (counted down as they are given).
    public var bare429Count: Int = 0
    /// Repositories (`owner/name`) archived: read-only, every write answers 403.
    public var archived: [String] = []
    /// The token that sees every repository (the user `tandem`).
    public var token: String = "ghs-sim-token"
    /// A token of the same user without the `repo` scope: private repositories answer 404 to it.
    public var noScopeToken: String = "ghs-noscope-token"

    public init() {}
}
