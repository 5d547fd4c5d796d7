import Foundation
import Hummingbird
import Postgres
import TandemConfig
import TandemConnectors
import TandemCore
import TandemQueue
import TandemStore

/// The issue-tracker connections of seed 003 (`/api/v2/connections/issue-tracker/`), so that tools written against
/// that API can drive Tandem: a connection is a repository. Creating, changing and deleting one goes through the same
/// `ConfigStore.put` / `delete` as `/api/v1/repositories` (validation, encrypted secrets, audit rows, lock; a new
/// alias through `ConfigStore.renameRepository`), and
/// unlike seed 003 no answer ever carries a password or token: stored secrets show as `{"set": true}`, as in v1.
/// The mapping and the differences from seed 003 are in docs/api.md.
extension AdminAPI {
    var connectionsV2Endpoints: [Endpoint] { ConnectionsV2(api: self).endpoints }
}

/// A tracker type as seed 003's `system`, with the fixed `connector` number that stands for it (from the tool's
/// registration).
struct TrackerSystem: Sendable {
    var kind: RepositoryKind
    var connector: Int
    var shortName: String
    var name: String

    static var all: [TrackerSystem] {
        ConnectorRegistry.all.map { .init(kind: $0.kind, connector: $0.apiConnectorNumber, shortName: $0.displayName, name: $0.fullName) }
    }

    static func of(_ kind: RepositoryKind) -> TrackerSystem {
        let registration = kind.registration
        return .init(kind: kind, connector: registration.apiConnectorNumber, shortName: registration.displayName, name: registration.fullName)
    }

    var id: String { self.kind.rawValue }
    var command: String { "sync_" + self.kind.rawValue.replacingOccurrences(of: "-", with: "_") }
    var json: JSONNode { .object(["id": .string(self.id), "short_name": .string(self.shortName), "name": .string(self.name)]) }
}

/// The connection parameters of a body's `params`, checked; nil members were not given.
struct ConnectionParams: Sendable {
    var server: String?
    var method: String?
    var authMode: String?
    var user: String?
    /// The secret (`issue_tracker_pass` or `issue_tracker_token`): its value, or `{"set": true}` to keep the stored one.
    var secret: JSONNode?
    var secretKey = "issue_tracker_pass"
    var header: String?
    var parameter: String?
    var validateCert: Bool?
    /// `.some(nil)`: remove.
    var trackerProject: String??
    /// Connector options; nil values remove the option.
    var options: [(String, String?)] = []

    static let authModes = ["none", "basic", "token", "bearer", "api-key"]
    static let secretKeys = ["issue_tracker_pass", "issue_tracker_token"]
    /// Options that have their own member (`frequency`, `project`, `params.issue_tracker_project`).
    static let projectOption = "connectionProject"
    static let trackerProjectOption = "trackerProject"
    static var reservedOptions: [String] { [SyncFrequency.optionKey, Self.projectOption, Self.trackerProjectOption] }
    static let maximumParams = 100

    init() {}

    init(_ node: JSONNode) throws {
        guard case .object(let members) = node else { throw APIError.invalid("params", "expected a JSON object, found \(node.typeDescription)") }
        if members.count > Self.maximumParams { throw APIError.invalid("params", "at most \(Self.maximumParams) parameters") }
        var seen: Set<String> = []
        for member in members {
            let path = "params.\(member.key)"
            guard seen.insert(member.key).inserted else { throw APIError.invalid(path, "'\(member.key)' appears twice") }
            let value = member.value
            func string(_ min: Int = 1, _ max: Int = 200) throws -> String {
                guard case .string(let text) = value else { throw APIError.invalid(path, "expected a string, found \(value.typeDescription)") }
                if text.trimmingCharacters(in: .whitespacesAndNewlines).count < min { throw APIError.invalid(path, "must not be empty") }
                if text.count > max { throw APIError.invalid(path, "must be at most \(max) characters long") }
                return text
            }
            switch member.key {
            case "issue_tracker_server":
                self.server = try string(1, 2000)
            case "issue_tracker_method":
                let method = try string()
                guard ["http", "https"].contains(method) else { throw APIError.invalid(path, "must be 'https' or 'http', not '\(method)'") }
                self.method = method
            case "issue_tracker_auth_mode":
                let mode = try string()
                guard Self.authModes.contains(mode) else {
                    throw APIError.invalid(path, "'\(mode)' is not an authentication mode (\(Self.authModes.joined(separator: ", ")))")
                }
                self.authMode = mode
            case "issue_tracker_user":
                self.user = try string()
            case "issue_tracker_pass", "issue_tracker_token":
                if self.secret != nil { throw APIError.invalid(path, "give either issue_tracker_pass or issue_tracker_token, not both") }
                if case .object(let set) = value, set == [JSONNode.Member("set", .bool(true))] {
                    self.secret = value
                } else {
                    guard case .string(let text) = value else {
                        throw APIError.invalid(
                            path, "expected the secret as a string (or {\"set\": true} to keep the stored one), found \(value.typeDescription)")
                    }
                    if text.isEmpty { throw APIError.invalid(path, "must not be empty") }
                    if text.count > 4096 { throw APIError.invalid(path, "must be at most 4096 characters long") }
                    self.secret = value
                }
                self.secretKey = member.key
            case "issue_tracker_api_key_header":
                self.header = try string()
            case "issue_tracker_api_key_parameter":
                self.parameter = try string()
            case "issue_tracker_validate_cert":
                guard case .bool(let flag) = value else { throw APIError.invalid(path, "expected true or false, found \(value.typeDescription)") }
                self.validateCert = flag
            case "issue_tracker_project":
                if value == .null { self.trackerProject = .some(nil) } else { self.trackerProject = .some(try string()) }
            case "last_successful_run":
                // Read-only: sent back by tools that change what they read; ignored.
                if case .string = value { continue }
                if value == .null { continue }
                throw APIError.invalid(path, "expected a string (it is read-only and ignored), found \(value.typeDescription)")
            default:
                try Self.checkOptionName(member.key, path: path)
                switch value {
                case .null: self.options.append((member.key, nil))
                case .string(let text):
                    if text.count > 1000 { throw APIError.invalid(path, "must be at most 1000 characters long") }
                    self.options.append((member.key, text))
                case .int(let number): self.options.append((member.key, String(number)))
                case .number(let number): self.options.append((member.key, String(number)))
                case .bool(let flag): self.options.append((member.key, flag ? "true" : "false"))
                case .array, .object:
                    throw APIError.invalid(path, "expected a string, a number, a boolean or null (to remove it), found \(value.typeDescription)")
                }
            }
        }
    }

    /// Further parameters are stored as the repository's connector options, in the clear: names that look like secrets
    /// are refused, so that a secret can only be stored encrypted.
    static func checkOptionName(_ key: String, path: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
        guard !key.isEmpty, key.count <= 100, key.allSatisfy({ allowed.contains($0) }) else {
            throw APIError.invalid(path, "a parameter name is 1 to 100 letters, digits, '_', '.' or '-'")
        }
        if Self.reservedOptions.contains(key) {
            throw APIError.invalid(path, "'\(key)' is set through the connection's own members (frequency, project, params.issue_tracker_project)")
        }
        let lowered = key.lowercased()
        if ["pass", "secret", "token", "apikey", "api_key", "credential", "private"].contains(where: { lowered.contains($0) }) {
            throw APIError.invalid(
                path, "looks like a secret: Tandem takes secrets only as issue_tracker_pass or issue_tracker_token, which it stores encrypted")
        }
    }
}

/// The body of a create, a patch or a test: seed 003's members.
struct ConnectionBody: Sendable {
    var alias: String?
    var system: TrackerSystem?
    var project: Int?
    var frequency: SyncFrequency?
    var debugMode: Bool?
    var params: ConnectionParams?

    static let members = ["alias", "connector", "system", "project", "frequency", "debug_mode", "params"]

    init(_ node: JSONNode, extra: [String] = [], required: [String] = []) throws {
        let body = try BodyObject(node, allowed: Self.members + extra, required: required)
        self.alias = try body.string("alias", minLength: 1, maxLength: 200)
        if let alias = self.alias, alias.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw APIError.invalid("alias", "must not be blank")
        }
        if let number = try body.int("connector", range: 1...Int.max) {
            guard let system = TrackerSystem.all.first(where: { $0.connector == number }) else {
                throw APIError.invalid(
                    "connector", "no connector \(number) (\(TrackerSystem.all.map { "\($0.connector): \($0.id)" }.joined(separator: ", ")))")
            }
            self.system = system
        }
        if let node = body.members["system"] {
            let system = try BodyObject(node, path: "system", allowed: ["id", "name", "short_name"], required: ["id"])
            let id = try system.string("id", minLength: 1, maxLength: 100) ?? ""
            guard let kind = RepositoryKind(rawValue: id) else {
                throw APIError.invalid(
                    "system.id", "'\(id)' is not a system Tandem connects to (\(RepositoryKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            _ = try system.string("name", maxLength: 200)
            _ = try system.string("short_name", maxLength: 200)
            if let given = self.system, given.kind != kind {
                throw APIError.invalid("system.id", "'\(id)' does not match connector \(given.connector) (\(given.id))")
            }
            self.system = TrackerSystem.of(kind)
        }
        self.project = try body.int("project", range: 1...Int(Int32.max))
        if let text = try body.string("frequency", maxLength: 20) {
            guard let frequency = SyncFrequency(rawValue: text) else {
                throw APIError.invalid(
                    "frequency", "'\(text)' is not a frequency (\(SyncFrequency.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            self.frequency = frequency
        }
        self.debugMode = try body.bool("debug_mode")
        if extra.contains("name") { _ = try body.string("name", maxLength: 200) }
        if let node = body.members["params"] { self.params = try ConnectionParams(node) }
    }
}

struct ConnectionsV2: Sendable {
    let api: AdminAPI

    static let collectionPath = "/api/v2/connections/issue-tracker/"
    static let itemPath = "/api/v2/connections/issue-tracker/{connection_id}/"
    static let testPath = "/api/v2/connections/test-issue-tracker/"

    var endpoints: [Endpoint] {
        [
            Endpoint(.get, Self.collectionPath, .readConfiguration) { request, _ in
                let project = try QueryValue.int(request, "project", range: 1...Int(Int32.max))
                let lastJob = try Self.includesLastJob(request)
                let all = try await self.connections(lastJob: lastJob)
                let results = all.filter { project == nil || $0.project == project }.map(\.json)
                return APIResponse.json(.object(["results": .array(results)]))
            },
            Endpoint(.post, Self.collectionPath, .writeConfiguration) { request, context in
                let principal = try context.requirePrincipal()
                let body = try ConnectionBody(try await APIBody.json(request, context: context), required: ["alias", "params"])
                guard let system = body.system else { throw APIError.invalid("connector", "required member 'connector' (or 'system') is missing") }
                try self.api.requireMasterKey()
                let document = try self.document(body, system: system, existing: nil)
                _ = try await self.store(document, name: body.alias ?? "", create: true, actor: principal.actor)
                guard let created = try await self.connections(lastJob: false).first(where: { $0.name == body.alias }) else {
                    throw APIError.notFound("the connection was removed while it was being created")
                }
                return APIResponse.json(created.json, status: .created)
            },
            Endpoint(.get, Self.itemPath, .readConfiguration) { request, context in
                let id = try Self.connectionID(context)
                let lastJob = try Self.includesLastJob(request)
                return APIResponse.json(try await self.connection(id, lastJob: lastJob).json)
            },
            Endpoint(.patch, Self.itemPath, .writeConfiguration) { request, context in
                let principal = try context.requirePrincipal()
                let id = try Self.connectionID(context)
                let body = try ConnectionBody(try await APIBody.json(request, context: context))
                let current = try await self.connection(id, lastJob: false)
                try self.api.requireMasterKey()
                let document = try self.document(body, system: body.system ?? TrackerSystem.of(current.repository.kind), existing: current.repository)
                if let alias = body.alias, alias != current.name {
                    // A new alias renames the repository, in the same transaction as the other changes.
                    do {
                        try await self.api.config.renameRepository(current.name, to: alias, body: document, actor: principal.actor)
                    } catch let error as AdminError {
                        throw Self.translate(error)
                    }
                } else {
                    _ = try await self.store(document, name: current.name, create: false, actor: principal.actor)
                }
                return APIResponse.json(try await self.connection(id, lastJob: false).json)
            },
            Endpoint(.delete, Self.itemPath, .writeConfiguration) { _, context in
                let principal = try context.requirePrincipal()
                let id = try Self.connectionID(context)
                let current = try await self.connection(id, lastJob: false)
                try self.api.requireMasterKey()
                do {
                    try await self.api.config.delete(.repositories, name: current.name, actor: principal.actor)
                } catch let error as AdminError {
                    throw Self.translate(error)
                }
                return APIResponse.noContent()
            },
            Endpoint(.post, Self.testPath, .writeConfiguration) { request, context in
                let body = try ConnectionBody(try await APIBody.json(request, context: context), extra: ["name"], required: ["params"])
                guard let system = body.system else { throw APIError.invalid("connector", "required member 'connector' (or 'system') is missing") }
                return APIResponse.json(try await self.test(body, system: system))
            },
        ]
    }

    // MARK: - Reading

    /// One connection as answered, with what the filters need.
    struct Connection: Sendable {
        var id: Int64
        var name: String
        var repository: RepositoryConfig
        var project: Int?
        var json: JSONNode
    }

    static func connectionID(_ context: APIContext) throws -> Int64 {
        let text = try context.pathParameter("connection_id")
        guard let id = Int64(text), id > 0 else { throw APIError.invalid("connection_id", "'\(text)' is not a connection id (a positive integer)") }
        return id
    }

    static func includesLastJob(_ request: Request) throws -> Bool {
        guard let text = try QueryValue.string(request, "include") else { return false }
        for item in text.split(separator: ",", omittingEmptySubsequences: false) where item != "last_job" {
            throw APIError.invalid("include", "'\(item)' cannot be included (only last_job)")
        }
        return true
    }

    func connection(_ id: Int64, lastJob: Bool) async throws -> Connection {
        guard let found = try await self.connections(lastJob: lastJob, only: id).first else {
            throw APIError.notFound("no issue-tracker connection \(id)")
        }
        return found
    }

    /// What is known of each repository's runs: the last full scan of the integration sides that read it, whether an
    /// operator request on those integrations waits for the coordinator or a scan job for it is queued or running (in
    /// the work queue, when the API has it), whether the repository has an open blocker (credentials, permissions,
    /// configuration: the blocker's repository, not its message, says whose), and the last operator request.
    struct Activity: Sendable {
        var lastScan: Date?
        var pending = false
        var blocked = false
        var lastRequest: RepositoryRequest?
    }

    func connections(lastJob: Bool, only: Int64? = nil) async throws -> [Connection] {
        let configuration = try await self.api.config.export()
        var activity: [Int64: Activity] = [:]
        var names: [(Int64, String)] = []
        let store = RepositoryActivityStore(client: self.api.postgres)
        for repository in try await store.list(only: only) {
            names.append((repository.id, repository.name))
            activity[repository.id] = Activity(
                lastScan: repository.lastScan, pending: repository.pendingRequest, blocked: repository.blocked)
        }
        if lastJob, !names.isEmpty {
            for (id, request) in try await store.lastRequests(only: only) { activity[id]?.lastRequest = request }
        }
        // Queued and running scans (full scans and operators' requests), when the work queue can be read.
        if let queue = self.api.queue {
            let running = Set(
                ((try? await queue.jobs(state: .inflight, limit: 10_000)) ?? []).compactMap { $0.job }.filter { $0.kind == .scan }.map(\.repository))
            for (id, name) in names {
                let queued = ((try? await queue.jobs(state: .pending, repository: name, limit: 1000)) ?? []).contains { $0.job?.kind == .scan }
                if queued || running.contains(name) { activity[id]?.pending = true }
            }
        }
        return names.compactMap { id, name in
            guard let repository = configuration.repositories.first(where: { $0.name == name }) else { return nil }
            let projects = configuration.collections.filter { $0.repository == name }.flatMap(\.projects)
            return Self.connection(
                id: id, repository: repository, settings: configuration.settings, collectionProjects: projects,
                activity: activity[id] ?? Activity(), lastJob: lastJob)
        }
    }

    static func connection(
        id: Int64, repository r: RepositoryConfig, settings: Settings, collectionProjects: [String], activity: Activity, lastJob: Bool
    ) -> Connection {
        let system = TrackerSystem.of(r.kind)
        var params: [JSONNode.Member] = []
        let (method, server) = Self.split(r.url)
        params.append(.init("issue_tracker_server", .string(server)))
        params.append(.init("issue_tracker_method", .string(method)))
        let secret: JSONNode = .object(["set": .bool(true)])
        switch r.auth {
        case .none:
            params.append(.init("issue_tracker_auth_mode", .string("none")))
        case .basic(let username, _):
            params.append(.init("issue_tracker_auth_mode", .string("basic")))
            params.append(.init("issue_tracker_user", .string(username)))
            params.append(.init("issue_tracker_pass", secret))
        case .apiKey(_, let header, let parameter):
            params.append(.init("issue_tracker_auth_mode", .string("api-key")))
            params.append(.init("issue_tracker_token", secret))
            if let header { params.append(.init("issue_tracker_api_key_header", .string(header))) }
            if let parameter { params.append(.init("issue_tracker_api_key_parameter", .string(parameter))) }
        case .token:
            params.append(.init("issue_tracker_auth_mode", .string("token")))
            params.append(.init("issue_tracker_token", secret))
        case .bearer:
            params.append(.init("issue_tracker_auth_mode", .string("bearer")))
            params.append(.init("issue_tracker_token", secret))
        }
        params.append(.init("issue_tracker_validate_cert", .bool(!r.allowInsecure)))
        var seenProjects: [String] = []
        for project in collectionProjects where !seenProjects.contains(project) { seenProjects.append(project) }
        if let project = r.options[ConnectionParams.trackerProjectOption] ?? (seenProjects.isEmpty ? nil : seenProjects.joined(separator: ",")) {
            params.append(.init("issue_tracker_project", .string(project)))
        }
        for (key, value) in r.options.sorted(by: { $0.key < $1.key }) where !ConnectionParams.reservedOptions.contains(key) {
            let name = key.hasPrefix(ConnectorOption.passThroughPrefix) ? String(key.dropFirst(ConnectorOption.passThroughPrefix.count)) : key
            params.append(.init(name, .string(value)))
        }
        if let last = activity.lastScan { params.append(.init("last_successful_run", .string(last.formatted(.iso8601)))) }
        let project = r.options[ConnectionParams.projectOption].flatMap(Int.init)
        var members: [JSONNode.Member] = [
            .init("id", .int(Int(id))), .init("alias", .string(r.name)), .init("system", system.json),
            .init("frequency", .string((r.syncFrequency ?? SyncFrequency.nearest(to: settings)).rawValue)),
            .init("command", .string(system.command)), .init("debug_mode", .bool(r.debugLogging)), .init("params", .object(params)),
            .init("inaccessible", .bool(activity.blocked)),
        ]
        if lastJob { members.append(.init("last_job", Self.lastJob(activity))) }
        members.append(.init("in_progress", .bool(activity.pending)))
        members.append(.init("connector", .int(system.connector)))
        members.append(.init("project", project.map(JSONNode.int) ?? .null))
        return Connection(id: id, name: r.name, repository: r, project: project, json: .object(members))
    }

    /// The latest of the last operator request (manual) and the last full scan (automatic), or null.
    static func lastJob(_ activity: Activity) -> JSONNode {
        if let request = activity.lastRequest, activity.lastScan.map({ request.requestedAt >= $0 }) ?? true {
            let ready = request.scheduledAt != nil
            return .object([
                "id": .int(Int(request.id)), "kind": .string(request.kind.rawValue), "succeeded": .bool(ready), "ready": .bool(ready),
                "automatic": .bool(false), "last_run": .string(request.requestedAt.formatted(.iso8601)),
                "result_message": .string(
                    request.scheduledAt.map { "the coordinator queued its jobs at \($0.formatted(.iso8601))" } ?? "waiting for the coordinator"),
                "user": request.userID.map { .int(Int($0)) } ?? .null, "triggered_by": request.userID.map { .int(Int($0)) } ?? .null,
            ])
        }
        if let scan = activity.lastScan {
            return .object([
                "id": .null, "kind": .string("full-scan"), "succeeded": .bool(true), "ready": .bool(true), "automatic": .bool(true),
                "last_run": .string(scan.formatted(.iso8601)), "result_message": .string("full scan completed"), "user": .null,
                "triggered_by": .null,
            ])
        }
        return .null
    }

    /// `https://host/path` → ("https", "host/path").
    static func split(_ url: String) -> (method: String, server: String) {
        guard let range = url.range(of: "://") else { return ("https", url) }
        return (url[..<range.lowerBound].lowercased(), String(url[range.upperBound...]))
    }

    // MARK: - Writing

    /// The `/api/v1/repositories` document for a create (`existing` nil) or a patch (the stored repository, whose
    /// stored secrets are kept unless the body gives new ones).
    func document(_ body: ConnectionBody, system: TrackerSystem, existing: RepositoryConfig?) throws -> JSONNode {
        let params = body.params ?? ConnectionParams()
        var members: [JSONNode.Member] = existing.map { ConfigJSON.json($0).members ?? [] } ?? []
        func set(_ key: String, _ value: JSONNode?) {
            members.removeAll { $0.key == key }
            if let value { members.append(.init(key, value)) }
        }
        if existing == nil { set("name", .string(body.alias ?? "")) }
        set("type", .string(system.id))
        // URL: the server (a host, or a whole URL) and the method.
        var url = existing?.url
        if let server = params.server {
            if let range = server.range(of: "://") {
                let scheme = server[..<range.lowerBound].lowercased()
                if let method = params.method, method != scheme {
                    throw APIError.invalid("params.issue_tracker_method", "'\(method)' does not match the server's URL ('\(scheme)')")
                }
                url = server
            } else {
                url = "\(params.method ?? existing.map { Self.split($0.url).method } ?? "https")://\(server)"
            }
        } else if let method = params.method, let current = url {
            url = "\(method)://\(Self.split(current).server)"
        }
        guard let url else { throw APIError.invalid("params.issue_tracker_server", "required parameter 'issue_tracker_server' is missing") }
        set("url", .string(url))
        // Authentication.
        let changesAuth =
            params.authMode != nil || params.user != nil || params.secret != nil || params.header != nil || params.parameter != nil
        if existing == nil || changesAuth {
            let current = existing?.auth
            let currentMode: String? = {
                switch current {
                case .none?: "none"
                case .basic?: "basic"
                case .apiKey?: "api-key"
                case .token?: "token"
                case .bearer?: "bearer"
                case nil: nil
                }
            }()
            let mode =
                params.authMode ?? (params.user != nil ? "basic" : nil) ?? (existing == nil ? (params.secret != nil ? "token" : "none") : currentMode)
                ?? "none"
            // The stored secret is kept when none is given and the mode stays the same (a new mode needs its own secret),
            // and only while the connection still points where it did: ConfigStore drops it otherwise (SecretDestination).
            let keep: JSONNode? = current.map { $0.secrets.isEmpty || mode != currentMode ? nil : .object(["set": .bool(true)]) } ?? nil
            func secret() throws -> JSONNode {
                if let given = params.secret { return given }
                if let keep { return keep }
                throw APIError.invalid(
                    mode == "basic" ? "params.issue_tracker_pass" : "params.issue_tracker_token",
                    "the authentication mode '\(mode)' needs \(mode == "basic" ? "issue_tracker_pass" : "issue_tracker_token")")
            }
            var auth: [JSONNode.Member] = [.init("kind", .string(mode))]
            switch mode {
            case "basic":
                var username = params.user
                if username == nil, case .basic(let stored, _)? = current { username = stored }
                guard let username else {
                    throw APIError.invalid("params.issue_tracker_user", "the authentication mode 'basic' needs issue_tracker_user")
                }
                auth.append(.init("username", .string(username)))
                auth.append(.init("password", try secret()))
            case "api-key":
                auth.append(.init("key", try secret()))
                var header = params.header
                var parameter = params.parameter
                if header == nil, parameter == nil, case .apiKey(_, let h, let p)? = current { (header, parameter) = (h, p) }
                if let header { auth.append(.init("header", .string(header))) }
                if let parameter { auth.append(.init("parameter", .string(parameter))) }
            case "token", "bearer":
                auth.append(.init("token", try secret()))
            default:
                if params.secret != nil {
                    throw APIError.invalid(
                        "params.\(params.secretKey)", "the authentication mode 'none' takes no secret; set issue_tracker_auth_mode")
                }
            }
            if mode != "basic", params.user != nil {
                throw APIError.invalid("params.issue_tracker_user", "only the authentication mode 'basic' takes a user (the mode is '\(mode)')")
            }
            set("auth", .object(auth))
        }
        if let validate = params.validateCert { set("allowInsecure", .bool(!validate)) }
        if let debug = body.debugMode { set("debugLogging", .bool(debug)) }
        // Options: the connector's, plus frequency, project and the tracker project.
        var options: [String: String] = existing?.options ?? [:]
        // A parameter the tool has no option for is the client's own: kept under `param.` and returned as it came.
        let toolOptions = Set(system.kind.registration.allOptions.map(\.name))
        for (key, value) in params.options {
            options[toolOptions.contains(key) ? key : ConnectorOption.passThroughPrefix + key] = value
        }
        if let project = params.trackerProject { options[ConnectionParams.trackerProjectOption] = project }
        if let frequency = body.frequency {
            options[SyncFrequency.optionKey] = frequency.rawValue
        } else if existing == nil {
            options[SyncFrequency.optionKey] = SyncFrequency.manually.rawValue  // seed 003's default
        }
        if let project = body.project { options[ConnectionParams.projectOption] = String(project) }
        set("options", options.isEmpty ? nil : .object(options.sorted { $0.key < $1.key }.map { JSONNode.Member($0.key, .string($0.value)) }))
        return .object(members)
    }

    func store(_ document: JSONNode, name: String, create: Bool, actor: String) async throws -> JSONNode {
        do {
            return try await self.api.config.put(.repositories, name: create ? nil : name, body: document, create: create, actor: actor)
        } catch let error as AdminError {
            throw Self.translate(error)
        }
    }

    /// The store's refusals, with the v1 document's fields renamed to this API's.
    static func translate(_ error: AdminError) -> APIError {
        var api = APIBody.apiError(error)
        api.field = error.field.map(Self.field)
        return api
    }

    static func field(_ v1: String) -> String {
        switch v1 {
        case "name": return "alias"
        case "type": return "connector"
        case "url": return "params.issue_tracker_server"
        case "allowInsecure": return "params.issue_tracker_validate_cert"
        case "debugLogging": return "debug_mode"
        case "auth", "auth.kind": return "params.issue_tracker_auth_mode"
        case "auth.username": return "params.issue_tracker_user"
        case "auth.password": return "params.issue_tracker_pass"
        case "auth.token", "auth.key": return "params.issue_tracker_token"
        case "auth.header": return "params.issue_tracker_api_key_header"
        case "auth.parameter": return "params.issue_tracker_api_key_parameter"
        case "options.\(SyncFrequency.optionKey)": return "frequency"
        case "options.\(ConnectionParams.projectOption)": return "project"
        case "options.\(ConnectionParams.trackerProjectOption)": return "params.issue_tracker_project"
        default:
            if v1.hasPrefix("options.") { return "params." + v1.dropFirst("options.".count) }
            if v1.hasPrefix("auth.") { return "params.issue_tracker_auth_mode" }
            return v1
        }
    }

    // MARK: - Testing

    /// Runs the connector's connection test on the body's parameters; nothing is stored. Answers seed 003's
    /// `{"success": …}` and the classified outcome (never what the remote host said).
    func test(_ body: ConnectionBody, system: TrackerSystem) async throws -> JSONNode {
        var named = body
        if named.alias == nil { named.alias = "connection-test" }
        let document = try self.document(named, system: system, existing: nil)
        let repository: RepositoryConfig
        let secrets: [String: String]
        do {
            (repository, secrets) = try ConfigJSON.repository(document, stored: nil)
        } catch {
            let issue = error.issues.first
            throw APIError.invalid(issue.map { Self.field($0.path) }, issue?.reason ?? "the parameters are not valid")
        }
        // The only secret of a document without a proxy is the authentication's.
        let project = repository.options[ConnectionParams.trackerProjectOption]
        let check = try await self.api.tester(repository, secrets.values.first.map { ["auth": $0] } ?? [:], project)
        // Seed 003's `success` and, on failure, `message` first; then v1's classified outcome.
        var members: [JSONNode.Member] = [.init("success", .bool(check.success))]
        if !check.success { members.append(.init("message", .string(check.message))) }
        members += (check.json.members ?? []).filter { $0.key != "success" && $0.key != "message" }
        return .object(members)
    }
}
