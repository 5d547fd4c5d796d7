import Foundation
import HTTP
import Hummingbird
import NIOCore
import Synchronization
import TandemConnectors

/// The simulated GitHubs' test and operations routes, outside the API (`/sim/github/<site>/…`).
extension GitHubServer {
    /// `POST /sim/github/<site>/seed`: issues and pull requests at once, with the time stamps given (several in one
    /// second if asked), without latency, limits or counters (the write log names them `seed`).
    struct Seed: Decodable {
        struct Item: Decodable {
            var title: String
            var body: String?
            var state: String?
            var pullRequest: Bool?
            var labels: [String]?
            var assignees: [String]?
            var user: String?
            var createdAt: String?
            var updatedAt: String?
            var comments: [SeedComment]?
        }

        struct SeedComment: Decodable {
            var body: String
            var user: String?
            var createdAt: String?
            var updatedAt: String?
        }

        /// `owner/name` (default `tandem/demo`).
        var repo: String?
        /// Explicit items, in number order.
        var items: [Item]?
        /// Or `count` generated items: `<titlePrefix> <n>`, every `pullRequestEvery`-th a pull request, created and
        /// updated at `updatedAt` (default now) plus `n × stepSeconds`.
        var count: Int?
        var titlePrefix: String?
        var pullRequestEvery: Int?
        var updatedAt: String?
        var stepSeconds: Int?

        func expanded(now: Date) throws -> [Item] {
            if let items { return items }
            guard let count, (1...100_000).contains(count) else { throw HTTPError(.badRequest, message: "seed: give items, or count 1...100000") }
            let start = try self.updatedAt.map(Self.time) ?? now
            return (0..<count).map { n in
                let time = GitHubRender.timeStyle.format(start.addingTimeInterval(TimeInterval(n * (self.stepSeconds ?? 0))))
                let every = self.pullRequestEvery ?? 0
                return Item(
                    title: "\(self.titlePrefix ?? "Seeded issue") \(n)", pullRequest: every > 0 && (n + 1) % every == 0, createdAt: time,
                    updatedAt: time)
            }
        }

        static func time(_ text: String) throws -> Date {
            guard let date = GitHubRender.parseTime(text) else { throw HTTPError(.badRequest, message: "seed: not an RFC 3339 time: \(text)") }
            return date
        }
    }

    func addOperationsRoutes(to router: Router<BasicRequestContext>) {
        router.get("/sim/github/:site/stats") { _, context in try SimulatorJSON.encode(try self.site(context).stats()) }
        router.get("/sim/github/:site/log") { request, context in
            let site = try self.site(context)
            return try SimulatorJSON.log(request) { after, limit in
                site.state.withLock { state in Array(state.log.filter { $0.seq > after }.prefix(limit)) }
            }
        }
        router.post("/sim/github/:site/seed") { request, context in
            let site = try self.site(context)
            let seed = try await SimulatorJSON.decode(Seed.self, request)
            return try SimulatorJSON.encode(["numbers": try site.seed(seed, now: Date())])
        }
        router.post("/sim/github/:site/reset") { _, context in
            try self.site(context).reset()
            return try SimulatorJSON.encode(["status": "reset"])
        }
        router.get("/sim/github/:site/settings") { _, context in try SimulatorJSON.encode(try self.site(context).settings) }
        router.put("/sim/github/:site/settings") { request, context in
            let site = try self.site(context)
            let settings = try await SimulatorJSON.merged(site.settings, request)
            guard
                settings.latencyMilliseconds >= 0, settings.primaryLimit >= 0, settings.primaryWindowSeconds >= 1, settings.secondaryPerMinute >= 0,
                settings.secondaryPerHour >= 0, settings.bare429Count >= 0
            else {
                throw HTTPError(.badRequest, message: "settings: negative values (or a window under a second)")
            }
            guard [403, 429].contains(settings.primaryLimitStatus) else {
                throw HTTPError(.badRequest, message: "settings: primaryLimitStatus is 403 or 429")
            }
            site.state.withLock { $0.settings = settings }
            return try SimulatorJSON.encode(settings)
        }
    }

    private func site(_ context: BasicRequestContext) throws -> GitHubSite {
        guard let name = context.parameters.get("site"), !name.isEmpty else { throw HTTPError(.notFound, message: "no site") }
        return self.site(name)
    }
}

extension GitHubSite {
    /// Adds the seed's items to its repository: their numbers.
    func seed(_ seed: GitHubServer.Seed, now: Date) throws -> [Int] {
        let items = try seed.expanded(now: now)
        let parts = (seed.repo ?? "tandem/demo").split(separator: "/").map(String.init)
        return try self.state.withLock { (state: inout State) throws -> [Int] in
            guard parts.count == 2, let index = state.repositoryIndex(parts[0], parts[1]) else {
                throw HTTPError(.badRequest, message: "seed: no repository \(seed.repo ?? "")")
            }
            var numbers: [Int] = []
            for item in items {
                let updated = Self.second(try item.updatedAt.map(GitHubServer.Seed.time) ?? now)
                let created = min(updated, Self.second(try item.createdAt.map(GitHubServer.Seed.time) ?? updated))
                guard let author = state.user(login: item.user ?? "tandem")?.id else {
                    throw HTTPError(.badRequest, message: "seed: no user \(item.user ?? "")")
                }
                var issue = Issue(
                    id: state.newID(), number: state.repositories[index].nextNumber, title: item.title, body: item.body, author: author,
                    created: created,
                    updated: updated)
                issue.isPullRequest = item.pullRequest ?? false
                issue.labels = Self.labelIDs((item.labels ?? []).map { .string($0) }, repository: index, in: &state)
                issue.assignees = (item.assignees ?? []).compactMap { state.user(login: $0)?.id }
                if item.state == "closed" {
                    issue.state = "closed"
                    issue.stateReason = "completed"
                    issue.closed = issue.updated
                    issue.closedBy = author
                }
                for comment in item.comments ?? [] {
                    let commentCreated = Self.second(try comment.createdAt.map(GitHubServer.Seed.time) ?? created)
                    let stored = Comment(
                        id: state.newID(), repository: state.repositories[index].id, issue: issue.number, body: comment.body,
                        author: state.user(login: comment.user ?? "tandem")?.id ?? Self.apiUserID, created: commentCreated,
                        updated: Self.second(try comment.updatedAt.map(GitHubServer.Seed.time) ?? commentCreated))
                    state.comments[stored.id] = stored
                    issue.comments.append(stored.id)
                }
                state.repositories[index].nextNumber += 1
                state.repositories[index].issues[issue.number] = issue
                state.log.append(
                    SimulatorWire.WriteEvent(
                        seq: state.nextSeq, time: now, id: "\(state.repositories[index].fullName)#\(issue.number)", operation: "seed",
                        title: issue.title))
                state.nextSeq += 1
                numbers.append(issue.number)
            }
            return numbers
        }
    }
}
