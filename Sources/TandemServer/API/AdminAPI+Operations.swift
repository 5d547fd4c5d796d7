import Foundation
import Hummingbird
import Postgres
import Redis
import TandemCluster
import TandemConfig
import TandemCore
import TandemQueue
import TandemStore

/// Operations (issue 7): activity and its actions, blockers, background jobs, artifact pairs, queues and workers, metrics.
/// The data comes from TandemStore's Operations layer (shared with the web UI); retries are queued by `OperatorActions`.
extension AdminAPI {
    var operationsEndpoints: [Endpoint] {
        self.activityEndpoints + self.pairEndpoints + self.queueEndpoints + [
            Endpoint(.get, "/api/v1/metrics", .readActivity) { request, _ in
                let timeZone = try QueryValue.string(request, "tz") ?? "UTC"
                let to = try Self.dayParameter(request, "to") ?? MetricsStore.today(in: timeZone)
                let from = try Self.dayParameter(request, "from") ?? to.addingTimeInterval(-29 * 86400)
                let integration = try QueryValue.string(request, "integration")
                return Self.encoded(
                    try await MetricsStore(client: self.postgres).report(from: from, to: to, integration: integration, timeZone: timeZone))
            }
        ]
    }

    // MARK: - Activity

    var activityEndpoints: [Endpoint] {
        var endpoints: [Endpoint] = [
            Endpoint(.get, "/api/v1/activity", .readActivity) { request, _ in
                let filter = try Self.activityFilter(request)
                return Self.encoded(try await ActivityStore(client: self.postgres).list(filter))
            },
            Endpoint(.get, "/api/v1/activity/counts", .readActivity) { request, _ in
                var filter = try Self.activityFilter(request, status: false, paging: false)
                filter.status = nil
                return Self.encoded(ActivityCounts(counts: try await ActivityStore(client: self.postgres).counts(filter)))
            },
            Endpoint(.get, "/api/v1/activity/{id}", .readActivity) { _, context in
                let id = try Self.idParameter(context)
                guard let item = try await ActivityStore(client: self.postgres).item(id: id) else {
                    throw APIError.notFound("no activity with id \(id)")
                }
                return Self.encoded(item)
            },
            Endpoint(.post, "/api/v1/activity/actions", .actOnActivity) { request, context in
                let principal = try context.requirePrincipal()
                let body = try BodyObject(
                    try await APIBody.json(request, context: context), allowed: ["action", "ids", "filter"], required: ["action"])
                let action = try Self.action(body)
                let actions = OperatorActions(client: self.postgres, queue: self.queue)
                switch (body.members["ids"], body.members["filter"]) {
                case (let ids?, nil):
                    return Self.encoded(try await actions.perform(action, ids: try Self.ids(ids), actor: principal.actor))
                case (nil, let filter?):
                    let object = try BodyObject(filter, path: "filter", allowed: ["kind", "status", "integration", "q"])
                    let filter = ActivityFilter(
                        kind: try object.string("kind", minLength: 1, maxLength: 20),
                        status: try object.string("status", minLength: 1, maxLength: 20),
                        integration: try object.string("integration", minLength: 1, maxLength: 200),
                        text: try object.string("q", minLength: 1, maxLength: 200))
                    do {
                        try filter.validate()
                    } catch let error as AdminError {
                        throw APIError.invalid("filter.\(error.field ?? "")", error.message)
                    }
                    return Self.encoded(try await actions.perform(action, matching: filter, actor: principal.actor))
                case (nil, nil):
                    throw APIError.invalid("ids", "give 'ids' (the items) or 'filter' (every item matching it)")
                default:
                    throw APIError.invalid("filter", "give either 'ids' or 'filter', not both")
                }
            },
            Endpoint(.get, "/api/v1/blockers", .readActivity) { request, _ in
                var filter = try Self.activityFilter(request, kind: false, status: false)
                filter.kind = ActivityKind.blocker.rawValue
                filter.status = ActivityStatus.open.rawValue
                return Self.encoded(try await ActivityStore(client: self.postgres).list(filter))
            },
        ]
        for action in ActivityAction.allCases {
            endpoints.append(
                Endpoint(.post, "/api/v1/activity/{id}/\(action.rawValue)", .actOnActivity) { request, context in
                    let principal = try context.requirePrincipal()
                    let id = try Self.idParameter(context)
                    _ = try BodyObject(try await APIBody.json(request, context: context, emptyIsObject: true), allowed: [])
                    let result = try await OperatorActions(client: self.postgres, queue: self.queue).perform(
                        action, ids: [id], actor: principal.actor)
                    if let skipped = result.skipped.first {
                        if skipped.reason == "no such activity" { throw APIError.notFound("no activity with id \(id)") }
                        throw APIError(.conflict, code: "conflict", "activity \(id) was not changed: \(skipped.reason)")
                    }
                    guard let item = try await ActivityStore(client: self.postgres).item(id: id) else {
                        throw APIError.notFound("no activity with id \(id)")
                    }
                    return Self.encoded(item)
                })
        }
        return endpoints
    }

    /// The activity filter of the query (`kind`, `status`, `integration`, `q`, `limit`, `after`), checked.
    static func activityFilter(_ request: Request, kind: Bool = true, status: Bool = true, paging: Bool = true) throws -> ActivityFilter {
        let filter = ActivityFilter(
            kind: kind ? try QueryValue.string(request, "kind", maxLength: 20) : nil,
            status: status ? try QueryValue.string(request, "status", maxLength: 20) : nil,
            integration: try QueryValue.string(request, "integration"), text: try QueryValue.string(request, "q"),
            after: paging ? try QueryValue.int(request, "after", range: 1...Int.max).map(Int64.init) : nil,
            limit: paging ? try QueryValue.int(request, "limit", range: 1...500) ?? 50 : 50)
        try filter.validate()
        return filter
    }

    static func action(_ body: BodyObject) throws -> ActivityAction {
        let name = try body.string("action", maxLength: 50) ?? ""
        guard let action = ActivityAction(rawValue: name) else {
            throw APIError.invalid(
                "action", "'\(name)' is not an action (actions: \(ActivityAction.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return action
    }

    static func ids(_ node: JSONNode) throws -> [Int64] {
        guard case .array(let items) = node else { throw APIError.invalid("ids", "expected an array of activity ids, found \(node.typeDescription)") }
        guard !items.isEmpty else { throw APIError.invalid("ids", "must not be empty") }
        guard items.count <= ActivityStore.maximumBulk else { throw APIError.invalid("ids", "at most \(ActivityStore.maximumBulk) ids") }
        return try items.enumerated().map { index, item in
            guard let id = item.integerValue, id >= 1 else {
                throw APIError.invalid("ids[\(index)]", "expected an activity id (a positive integer), found \(item == .null ? "null" : item.text)")
            }
            return Int64(id)
        }
    }

    // MARK: - Background jobs and pairs

    var pairEndpoints: [Endpoint] {
        [
            Endpoint(.get, "/api/v1/jobs", .readActivity) { request, _ in
                let page = try await BackgroundJobs(client: self.postgres).list(
                    integration: try QueryValue.string(request, "integration"), status: try QueryValue.string(request, "status", maxLength: 20),
                    after: try QueryValue.int(request, "after", range: 1...Int.max).map(Int64.init),
                    limit: try QueryValue.int(request, "limit", range: 1...500) ?? 50)
                return Self.encoded(page)
            },
            Endpoint(.get, "/api/v1/jobs/{id}", .readActivity) { _, context in
                let id = try Self.idParameter(context)
                guard let job = try await BackgroundJobs(client: self.postgres).job(id: id) else {
                    throw APIError.notFound("no background job with id \(id)")
                }
                return Self.encoded(job)
            },
            Endpoint(.get, "/api/v1/pairs", .viewPairs) { request, _ in
                let filter = PairFilter(
                    integration: try QueryValue.string(request, "integration"), artifact: try QueryValue.string(request, "artifact"),
                    key: try QueryValue.string(request, "key"), text: try QueryValue.string(request, "q"),
                    status: try QueryValue.string(request, "status", maxLength: 20),
                    after: try QueryValue.int(request, "after", range: 1...Int.max).map(Int64.init),
                    limit: try QueryValue.int(request, "limit", range: 1...500) ?? 50)
                return Self.encoded(try await PairQuery(client: self.postgres).list(filter))
            },
            Endpoint(.get, "/api/v1/pairs/{id}", .viewPairs) { request, context in
                let id = try Self.idParameter(context)
                let limit = try QueryValue.int(request, "historyLimit", range: 1...1000) ?? 200
                guard let details = try await PairQuery(client: self.postgres).details(id: id, historyLimit: limit) else {
                    throw APIError.notFound("no artifact pair with id \(id)")
                }
                return Self.encoded(details)
            },
            Endpoint(.delete, "/api/v1/pairs/{id}", .deletePairs) { _, context in
                let principal = try context.requirePrincipal()
                let id = try Self.idParameter(context)
                return Self.encoded(try await PairQuery(client: self.postgres).delete(id: id, actor: principal.actor))
            },
        ]
    }

    // MARK: - Queues and workers

    var queueEndpoints: [Endpoint] {
        [
            Endpoint(.get, "/api/v1/queues", .readActivity) { _, _ in
                let queue = try self.requireQueue()
                return try await Self.redis {
                    Self.encoded(QueueOverview(repositories: try await queue.queues(), counters: try await queue.counters()))
                }
            },
            Endpoint(.get, "/api/v1/queues/{repository}/jobs", .readActivity) { request, context in
                let repository = try Self.repositoryParameter(context)
                let name = try QueryValue.string(request, "state", maxLength: 20) ?? "pending"
                guard let state = JobState(rawValue: name) else {
                    throw APIError.invalid(
                        "state", "'\(name)' is not a job state (states: \(JobState.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                let limit = try QueryValue.int(request, "limit", range: 1...1000) ?? 100
                let queue = try self.requireQueue()
                return try await Self.redis {
                    Self.encoded(QueueJobs(items: try await queue.jobs(state: state, repository: repository, limit: limit)))
                }
            },
            Endpoint(.post, "/api/v1/queues/{repository}/pause", .actOnActivity) { request, context in
                let principal = try context.requirePrincipal()
                let repository = try Self.repositoryParameter(context)
                let body = try BodyObject(try await APIBody.json(request, context: context, emptyIsObject: true), allowed: ["minutes"])
                let minutes = try body.int("minutes", range: 1...10080) ?? 60
                try await self.requireRepository(repository)
                let queue = try self.requireQueue()
                let until = Date().addingTimeInterval(Double(minutes) * 60)
                try await Self.redis { try await queue.pause(repository: repository, until: until) }
                try await self.auditQueue(principal.actor, "pause", repository, ["minutes": .int(minutes)])
                return Self.encoded(QueuePause(repository: repository, pausedUntil: until))
            },
            Endpoint(.post, "/api/v1/queues/{repository}/resume", .actOnActivity) { request, context in
                let principal = try context.requirePrincipal()
                let repository = try Self.repositoryParameter(context)
                _ = try BodyObject(try await APIBody.json(request, context: context, emptyIsObject: true), allowed: [])
                try await self.requireRepository(repository)
                let queue = try self.requireQueue()
                try await Self.redis { try await queue.resume(repository: repository) }
                try await self.auditQueue(principal.actor, "resume", repository, [:])
                return Self.encoded(QueuePause(repository: repository, pausedUntil: nil))
            },
            Endpoint(.post, "/api/v1/queues/{repository}/dead/retry", .actOnActivity) { request, context in
                try await self.deadJobs(request, context, retry: true)
            },
            Endpoint(.post, "/api/v1/queues/{repository}/dead/delete", .actOnActivity) { request, context in
                try await self.deadJobs(request, context, retry: false)
            },
            Endpoint(.get, "/api/v1/workers", .readActivity) { _, _ in
                let queue = try self.requireQueue()
                return try await Self.redis { Self.encoded(WorkerList(items: try await queue.workers())) }
            },
        ]
    }

    /// Retries or deletes a repository's dead jobs: those named in `ids`, or all of them.
    func deadJobs(_ request: Request, _ context: APIContext, retry: Bool) async throws -> Response {
        let principal = try context.requirePrincipal()
        let repository = try Self.repositoryParameter(context)
        let body = try BodyObject(try await APIBody.json(request, context: context, emptyIsObject: true), allowed: ["ids"])
        var wanted: [String]?
        if let node = body.members["ids"] {
            guard case .array(let items) = node, items.count <= 1000 else {
                throw APIError.invalid("ids", "expected an array of at most 1000 job ids, found \(node.typeDescription)")
            }
            wanted = try items.enumerated().map { index, item in
                guard case .string(let id) = item, !id.isEmpty, id.count <= 100 else {
                    throw APIError.invalid("ids[\(index)]", "expected a job id (1 to 100 characters)")
                }
                return id
            }
        }
        let queue = try self.requireQueue()
        let configured = try await self.config.repositoryExists(repository)
        let count = try await Self.redis { () async throws -> Int in
            // Only this repository's dead jobs; never an empty list, which the queue reads as "all of them".
            let dead = Set(try await queue.jobs(state: .dead, repository: repository, limit: 10_000).map(\.id))
            // As pause and resume: 404 for a repository that is not configured — unless dead jobs of it are left (it was
            // deleted after they died), which can still be retried or deleted.
            if !configured, dead.isEmpty { throw APIError.notFound("no repository named '\(repository)' (and no dead jobs of one)") }
            let ids = wanted.map { $0.filter(dead.contains) } ?? dead.sorted()
            guard !ids.isEmpty else { return 0 }
            return retry ? try await queue.retryDead(ids: ids) : try await queue.deleteDead(ids: ids)
        }
        try await self.auditQueue(principal.actor, retry ? "retry-dead" : "delete-dead", repository, ["jobs": .int(count)])
        return Self.encoded(DeadJobsResult(repository: repository, count: count))
    }

    /// 404 unless `name` is a configured repository (pausing a made-up name would only leave keys behind).
    func requireRepository(_ name: String) async throws {
        if try await !self.config.repositoryExists(name) {
            throw APIError.notFound("no repository named '\(name)'")
        }
    }

    func requireQueue() throws -> JobQueue {
        guard let queue = self.queue else { throw APIError(.serviceUnavailable, code: "unavailable", "this server has no job queue") }
        return queue
    }

    func auditQueue(_ actor: String, _ action: String, _ repository: String, _ changes: KeyValuePairs<String, JSONNode?>) async throws {
        try await self.postgres.withConnection { connection in
            try await AuditLog.record(connection, actor: actor, action: action, entity: "queue", name: repository, changes: .object(changes))
        }
    }

    /// Runs a queue operation; Redis being away is a 503, not a 500.
    static func redis<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as RedisError {
            throw APIError(.serviceUnavailable, code: "queue_unavailable", "the queue (Redis) is unavailable: \(error.code)")
        } catch let error as QueueError {
            throw APIError(.serviceUnavailable, code: "queue_unavailable", "the queue refused: \(error.description)")
        }
    }

    // MARK: - Parameters and answers

    static func idParameter(_ context: APIContext) throws -> Int64 {
        let text = try context.pathParameter("id")
        guard let id = Int64(text), id > 0 else { throw APIError.invalid("id", "'\(text)' is not an id (a positive integer)") }
        return id
    }

    static func repositoryParameter(_ context: APIContext) throws -> String {
        let name = try context.pathParameter("repository")
        // Scalars, not characters: "\r\n" is one Character, equal to neither "\r" nor "\n".
        guard name.unicodeScalars.count <= 200, !name.unicodeScalars.contains(where: { $0 == "\t" || $0 == "\n" || $0 == "\r" }) else {
            throw APIError.invalid("repository", "is not a repository name (at most 200 characters, no tabs or line breaks)")
        }
        return name
    }

    /// A `YYYY-MM-DD` query parameter.
    static func dayParameter(_ request: Request, _ name: String) throws -> Date? {
        guard let text = try QueryValue.string(request, name, maxLength: 10) else { return nil }
        guard let day = MetricsStore.parseDay(text) else { throw APIError.invalid(name, "'\(text)' is not a date (YYYY-MM-DD)") }
        return day
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        // Swift's `artifactID`, `artifactURL` are `artifactId`, `artifactUrl` in the API (as `tokenId`).
        encoder.keyEncodingStrategy = .custom { path in
            let key = path.last?.stringValue ?? ""
            return JSONKey(key.replacingOccurrences(of: "ID", with: "Id").replacingOccurrences(of: "URL", with: "Url"))
        }
        return encoder
    }()

    static func encoded(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? Self.encoder.encode(value)) ?? Data(#"{"error":{"status":500,"code":"internal_error","message":"encoding failed"}}"#.utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store", .xContentTypeOptions: "nosniff"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension Endpoint {
    /// How many of the template's segments are constant: where several templates fit a path, the most specific one is it.
    var specificity: Int { self.path.split(separator: "/").filter { !$0.hasPrefix("{") }.count }
}

struct JSONKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { self.stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

struct ActivityCounts: Encodable { var counts: [String: Int] }
struct QueueOverview: Encodable {
    var repositories: [RepositoryQueueStatus]
    var counters: [String: Int]
}
struct QueueJobs: Encodable { var items: [JobStatus] }
struct QueuePause: Encodable {
    var repository: String
    var pausedUntil: Date?
}
struct DeadJobsResult: Encodable {
    var repository: String
    var count: Int
}
struct WorkerList: Encodable { var items: [WorkerInfo] }
