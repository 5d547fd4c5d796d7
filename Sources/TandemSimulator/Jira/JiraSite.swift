import Foundation
import HTTP
import Synchronization
import TandemConnectors

/// One simulated Jira site (Cloud or Data Center), created on first use: its catalog, its issues, a search index that
/// lags behind the writes, its settings (time zone, lag, latency, rate limit, credentials) and its counters.
final class JiraSite: Sendable {
    typealias Settings = JiraSettings

    struct Stats: Codable, Sendable {
        var calls: Int
        var writes: Int
        var requestValidationFailures: Int
        var responseValidationFailures: Int
        var rateLimited: Int
        var issues: Int
        var lastResponseFailure: String?
    }

    struct State: Sendable {
        var settings = Settings()
        var nextIssueID = 10000
        var nextCommentID = 10000
        var nextAttachmentID = 10000
        var nextLinkID = 10000
        var counters: [String: Int] = [:]
        var issues: [Int: JiraIssue] = [:]
        /// What search sees: per issue, versions with the time each becomes visible (nil: deleted).
        var index: [Int: [(visibleAt: Date, issue: JiraIssue?)]] = [:]
        var attachmentData: [Int: Data] = [:]
        var tokens: Double = 500
        var tokensAt = Date()
        var forcedRateLimits = 0
        var writes = 0
        var rateLimited = 0
        var log: [SimulatorWire.WriteEvent] = []
        var nextSeq = 1
    }

    let flavour: JiraFlavour
    let name: String
    let catalog: JiraCatalog
    let state: Mutex<State>
    let counters = SiteCounters()

    init(flavour: JiraFlavour, name: String, settings: Settings) {
        self.flavour = flavour
        self.name = name
        self.catalog = JiraCatalog(flavour: flavour)
        var state = State()
        state.settings = settings
        state.tokens = Double(settings.rateLimitCapacity)
        self.state = Mutex(state)
    }

    var settings: Settings { self.state.withLock { $0.settings } }
    var zone: TimeZone { TimeZone(identifier: self.settings.timeZone) ?? TimeZone(identifier: "America/Los_Angeles")! }

    func stats() -> Stats {
        self.state.withLock { state in
            Stats(
                calls: self.counters.callCount, writes: state.writes,
                requestValidationFailures: self.counters.requestFailureCount,
                responseValidationFailures: self.counters.responseFailureCount, rateLimited: state.rateLimited,
                issues: state.issues.count, lastResponseFailure: self.counters.lastResponseFailure)
        }
    }

    // MARK: - Rate limit

    /// Takes a token; nil when allowed, else the seconds to wait. Also reports the bucket for the headers.
    func takeToken(now: Date) -> (retryAfter: Int?, remaining: Int, capacity: Int, fill: Double) {
        self.state.withLock { state in
            let capacity = state.settings.rateLimitCapacity
            let fill = state.settings.rateLimitRefillPerSecond
            if state.forcedRateLimits > 0 {
                state.forcedRateLimits -= 1
                state.rateLimited += 1
                return (max(1, Int((1 / max(fill, 0.001)).rounded(.up))), 0, capacity, fill)
            }
            guard capacity > 0 else { return (nil, 0, 0, fill) }
            state.tokens = min(Double(capacity), state.tokens + now.timeIntervalSince(state.tokensAt) * fill)
            state.tokensAt = now
            guard state.tokens >= 1 else {
                state.rateLimited += 1
                let wait = fill > 0 ? (1 - state.tokens) / fill : 60
                return (max(1, Int(wait.rounded(.up))), 0, capacity, fill)
            }
            state.tokens -= 1
            return (nil, Int(state.tokens), capacity, fill)
        }
    }

    // MARK: - Writes

    /// Records a write: the issue's new version, visible to search after the index lag, and the write log.
    static func commit(_ issue: JiraIssue?, id: Int, operation: String, title: String?, in state: inout State, now: Date) {
        if let issue { state.issues[id] = issue } else { state.issues[id] = nil }
        let visibleAt = now.addingTimeInterval(Double(state.settings.indexLagMilliseconds) / 1000)
        var versions = state.index[id] ?? []
        // Versions already visible except the newest visible one are never read again.
        if let lastVisible = versions.lastIndex(where: { $0.visibleAt <= now }), lastVisible > 0 { versions.removeFirst(lastVisible) }
        versions.append((visibleAt, issue))
        state.index[id] = versions
        state.writes += 1
        state.log.append(SimulatorWire.WriteEvent(seq: state.nextSeq, time: now, id: issue?.key ?? String(id), operation: operation, title: title))
        state.nextSeq += 1
        if state.log.count > 200_000 { state.log.removeFirst(state.log.count - 200_000) }
    }

    /// The issues search sees at `now`.
    static func indexed(_ state: State, now: Date) -> [JiraIssue] {
        state.index.values.compactMap { versions in versions.last(where: { $0.visibleAt <= now })?.issue }
    }

    /// An issue by id or key.
    static func find(_ idOrKey: String, in state: State) -> JiraIssue? {
        if let id = Int(idOrKey) { return state.issues[id] }
        let upper = idOrKey.uppercased()
        return state.issues.values.first { $0.key == upper }
    }

    func newIssue(
        project: JiraCatalog.Project, typeID: String, fields: [String: JSONValue], properties: [String: JSONValue], in state: inout State, now: Date
    )
        -> JiraIssue
    {
        let id = state.nextIssueID
        state.nextIssueID += 1
        let number = (state.counters[project.key] ?? 0) + 1
        state.counters[project.key] = number
        var stored = fields
        if stored["reporter"] == nil { stored["reporter"] = .string(self.catalog.apiUser.accountID) }
        if stored["priority"] == nil { stored["priority"] = "3" }
        let issue = JiraIssue(
            id: id, key: "\(project.key)-\(number)", projectKey: project.key, typeID: typeID, statusID: self.catalog.initialStatus, created: now,
            updated: now, creator: self.catalog.apiUser.accountID, fields: stored, properties: properties)
        return issue
    }

    /// Creates `count` issues at once (the seed route), no latency, all visible to search after the lag.
    func seed(project: String, count: Int, prefix: String, now: Date) throws(JiraFailure) -> [String] {
        guard let project = self.catalog.project(project) else { throw JiraFailure.bad(["project": "valid project is required"]) }
        return self.state.withLock { state in
            (0..<count).map { n in
                let summary = "\(prefix) \(n)"
                let issue = self.newIssue(
                    project: project, typeID: "10001", fields: ["summary": .string(summary)], properties: [:], in: &state, now: now)
                Self.commit(issue, id: issue.id, operation: "create", title: summary, in: &state, now: now)
                return issue.key
            }
        }
    }

    func reset() {
        self.state.withLock { state in
            let settings = state.settings
            state = State()
            state.settings = settings
            state.tokens = Double(settings.rateLimitCapacity)
        }
        self.counters.reset()
    }
}
