import Foundation
import Synchronization
import TandemConnectors

/// One simulated GitHub (an `api.github.com` of its own), created on first use: users `tandem` (the tokens' user),
/// `octocat` and `mona`; repositories `tandem/demo` (public) and `tandem/private` (private), each with labels `bug`,
/// `enhancement`, `priority: high`, `priority: low` and milestones `v1`, `v2`; their issues and pull requests (one
/// numbering per repository), comments, the tokens' quotas and the site's counters.
///
/// Time stamps are whole seconds (GitHub's `2026-12-08T01:02:03Z`): several writes can share one second.
final class GitHubSite: Sendable {
    typealias Settings = GitHubSettings

    struct Stats: Codable, Sendable {
        var calls: Int
        var writes: Int
        var creates: Int
        var notModified: Int
        var rateLimited: Int
        var secondaryLimited: Int
        var requestValidationFailures: Int
        var responseValidationFailures: Int
        var issues: Int
        var pullRequests: Int
        var comments: Int
        var lastResponseFailure: String?
    }

    struct User: Sendable {
        var id: Int
        var login: String
        var name: String?
        var email: String?
        var created: Date
    }

    struct Label: Sendable {
        var id: Int
        var name: String
        var color: String
        var description: String?
        var isDefault: Bool
    }

    struct Milestone: Sendable {
        var id: Int
        var number: Int
        var title: String
        var description: String?
        var state: String
        var created: Date
        var updated: Date
        var dueOn: Date?
    }

    struct Issue: Sendable {
        var id: Int
        var number: Int
        var title: String
        var body: String?
        var state = "open"
        var stateReason: String?
        var author: Int
        /// Label ids, in the order they were added.
        var labels: [Int] = []
        /// User ids.
        var assignees: [Int] = []
        var milestone: Int?
        var locked = false
        var lockReason: String?
        var isPullRequest = false
        var created: Date
        var updated: Date
        var closed: Date?
        var closedBy: Int?
        var comments: [Int] = []
    }

    struct Comment: Sendable {
        var id: Int
        var repository: Int
        var issue: Int
        var body: String
        var author: Int
        var created: Date
        var updated: Date
    }

    struct Repository: Sendable {
        var id: Int
        var owner: String
        var name: String
        var isPrivate: Bool
        var created: Date
        var labels: [Label] = []
        var milestones: [Milestone] = []
        var issues: [Int: Issue] = [:]
        var nextNumber = 1
        var fullName: String { "\(self.owner)/\(self.name)" }

        func label(named name: String) -> Label? { self.labels.first { $0.name.lowercased() == name.lowercased() } }
    }

    /// A token's primary quota in its current window.
    struct Quota: Sendable {
        var windowStart: Date
        var used = 0
    }

    struct State: Sendable {
        var settings = Settings()
        var users: [User] = []
        var repositories: [Repository] = []
        var comments: [Int: Comment] = [:]
        var nextID = 1_000_000
        var quotas: [String: Quota] = [:]
        /// Per token, the times of content-creating requests in the last hour (the secondary limit).
        var contentWrites: [String: [Date]] = [:]
        var writes = 0
        var creates = 0
        var notModified = 0
        var rateLimited = 0
        var secondaryLimited = 0
        var log: [SimulatorWire.WriteEvent] = []
        var nextSeq = 1

        mutating func newID() -> Int {
            self.nextID += 1
            return self.nextID
        }

        func user(_ id: Int) -> User? { self.users.first { $0.id == id } }
        func user(login: String) -> User? { self.users.first { $0.login.lowercased() == login.lowercased() } }

        func repositoryIndex(_ owner: String, _ name: String) -> Int? {
            self.repositories.firstIndex { $0.owner.lowercased() == owner.lowercased() && $0.name.lowercased() == name.lowercased() }
        }
    }

    let name: String
    let state: Mutex<State>
    let counters = SiteCounters()

    /// The tokens' user.
    static let apiUserID = 1
    /// The anonymous quota (per address on GitHub; per site here).
    static let anonymousLimit = 60

    init(name: String, settings: Settings, now: Date = Date()) {
        self.name = name
        self.state = Mutex(Self.initialState(settings: settings, now: now))
    }

    static func initialState(settings: Settings, now: Date) -> State {
        var state = State()
        state.settings = settings
        let created = Self.second(now).addingTimeInterval(-86_400 * 30)
        state.users = [
            User(id: Self.apiUserID, login: "tandem", name: "Tandem Sync", email: nil, created: created),
            User(id: 2, login: "octocat", name: "The Octocat", email: "octocat@example.com", created: created),
            User(id: 3, login: "mona", name: "Mona Lisa", email: "mona@example.com", created: created),
        ]
        for (n, (repository, isPrivate)) in [("demo", false), ("private", true)].enumerated() {
            var repo = Repository(id: 700_001 + n, owner: "tandem", name: repository, isPrivate: isPrivate, created: created)
            for (label, color, description) in [
                ("bug", "d73a4a", "Something isn't working"), ("enhancement", "a2eeef", "New feature or request"),
                ("priority: high", "b60205", nil), ("priority: low", "0e8a16", nil),
            ] {
                repo.labels.append(
                    Label(id: state.newID(), name: label, color: color, description: description, isDefault: description != nil))
            }
            for (number, title) in [(1, "v1"), (2, "v2")] {
                repo.milestones.append(
                    Milestone(
                        id: state.newID(), number: number, title: title, description: nil, state: "open", created: created, updated: created,
                        dueOn: nil))
            }
            state.repositories.append(repo)
        }
        return state
    }

    /// GitHub's time stamps have whole seconds.
    static func second(_ date: Date) -> Date { Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)) }

    var settings: Settings { self.state.withLock { $0.settings } }

    func stats() -> Stats {
        self.state.withLock { state in
            let all = state.repositories.flatMap(\.issues.values)
            return Stats(
                calls: self.counters.callCount, writes: state.writes, creates: state.creates, notModified: state.notModified,
                rateLimited: state.rateLimited, secondaryLimited: state.secondaryLimited,
                requestValidationFailures: self.counters.requestFailureCount,
                responseValidationFailures: self.counters.responseFailureCount, issues: all.count { !$0.isPullRequest },
                pullRequests: all.count(where: \.isPullRequest), comments: state.comments.count,
                lastResponseFailure: self.counters.lastResponseFailure)
        }
    }

    /// Forgets issues, comments, quotas and counters; the settings stay.
    func reset(now: Date = Date()) {
        self.state.withLock { state in state = Self.initialState(settings: state.settings, now: now) }
        self.counters.reset()
    }

    // MARK: - Writes

    /// Records a write in the counters and the log.
    static func logWrite(_ repository: Repository, _ issue: Issue, operation: String, in state: inout State, now: Date) {
        state.writes += 1
        if operation == "create" { state.creates += 1 }
        state.log.append(
            SimulatorWire.WriteEvent(
                seq: state.nextSeq, time: now, id: "\(repository.fullName)#\(issue.number)", operation: operation, title: issue.title))
        state.nextSeq += 1
        if state.log.count > 200_000 { state.log.removeFirst(state.log.count - 200_000) }
    }

    // MARK: - Limits

    /// The rate-limit headers' numbers for one token.
    struct Limit: Sendable {
        var limit: Int
        var used: Int
        var reset: Date
        var remaining: Int { max(0, self.limit - self.used) }
    }

    enum Admission: Sendable {
        case admitted(Limit)
        case bare429
        case primary(Limit)
        case secondary(Limit)
    }

    /// Admits one request of `token` (nil: anonymous) at `now`: a bare 429 while the setting asks for them, else the
    /// primary quota (the request takes one unit unless `free`), else, for content-creating requests, the secondary
    /// limit.
    func admit(token: String?, contentCreating: Bool, free: Bool = false, now: Date) -> Admission {
        self.state.withLock { state in
            if state.settings.bare429Count > 0 {
                state.settings.bare429Count -= 1
                state.rateLimited += 1
                return .bare429
            }
            let key = token ?? ""
            let limit = token == nil ? Self.anonymousLimit : state.settings.primaryLimit
            let window = TimeInterval(max(1, state.settings.primaryWindowSeconds))
            var quota = state.quotas[key] ?? Quota(windowStart: Self.second(now))
            if now >= quota.windowStart.addingTimeInterval(window) { quota = Quota(windowStart: Self.second(now)) }
            defer { state.quotas[key] = quota }
            let reset = quota.windowStart.addingTimeInterval(window)
            if free { return .admitted(Limit(limit: limit, used: quota.used, reset: reset)) }
            guard quota.used < limit else {
                state.rateLimited += 1
                return .primary(Limit(limit: limit, used: quota.used, reset: reset))
            }
            quota.used += 1
            let admitted = Limit(limit: limit, used: quota.used, reset: reset)
            guard contentCreating, token != nil else { return .admitted(admitted) }
            var times = (state.contentWrites[key] ?? []).filter { now.timeIntervalSince($0) < 3600 }
            let lastMinute = times.count { now.timeIntervalSince($0) < 60 }
            if lastMinute >= state.settings.secondaryPerMinute || times.count >= state.settings.secondaryPerHour {
                state.contentWrites[key] = times
                state.secondaryLimited += 1
                return .secondary(admitted)
            }
            times.append(now)
            state.contentWrites[key] = times
            return .admitted(admitted)
        }
    }

    /// Counts a 304 and gives back the unit its request took (QUIRK GH-5: a 304 does not count against the quota):
    /// the numbers after.
    func notModified(token: String, _ limit: Limit) -> Limit {
        self.state.withLock { state in
            state.notModified += 1
            guard var quota = state.quotas[token], quota.used > 0 else { return limit }
            quota.used -= 1
            state.quotas[token] = quota
            var after = limit
            after.used = quota.used
            return after
        }
    }

    /// A token's quota as `GET /rate_limit` reports it, without taking a unit.
    func quota(token: String, now: Date) -> Limit {
        self.state.withLock { state in
            let window = TimeInterval(max(1, state.settings.primaryWindowSeconds))
            var quota = state.quotas[token] ?? Quota(windowStart: Self.second(now))
            if now >= quota.windowStart.addingTimeInterval(window) { quota = Quota(windowStart: Self.second(now)) }
            return Limit(limit: state.settings.primaryLimit, used: quota.used, reset: quota.windowStart.addingTimeInterval(window))
        }
    }
}
