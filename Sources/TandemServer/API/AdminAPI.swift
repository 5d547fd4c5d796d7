import Foundation
import HTTP
public import Hummingbird
public import Logging
public import Postgres
import TandemCluster
public import TandemConfig
import TandemConnectors
import TandemCore
public import TandemQueue
public import TandemStore

/// Tests a repository connection (the connector's `testConnection`), classified; replaced in tests.
public typealias ConnectionTester =
    @Sendable (_ repository: RepositoryConfig, _ secrets: [String: String], _ project: String?) async throws -> ConnectionCheck

/// Records an operator request for the coordinator — `process-all` or `initiate-synchronization` — and returns its id.
/// Throw `AdminError` (`.notFound`, `.invalid` with the field) for refusals. Wire it to the store's IntegrationControl.
public typealias IntegrationRequester =
    @Sendable (_ kind: String, _ integration: String, _ side: String?, _ projects: [String], _ actor: String) async throws -> Int64

/// The REST API under `/api/v1`: session, own account and tokens, users, configuration entities, settings and the
/// audit log. Documented in `OpenAPIDocument` (served at `/api/openapi.json`) and docs/api.md.
public struct AdminAPI: Sendable {
    public let postgres: PostgresClient
    public let auth: AuthStore
    /// The configuration store; without the master key (`hasMasterKey` false) it can read but not write.
    public let config: ConfigStore
    public let hasMasterKey: Bool
    /// Mark the session cookie `Secure` (serve the API over HTTPS, or behind a TLS proxy, when this is on).
    public var secureCookies: Bool
    public var tester: ConnectionTester
    /// Serves `POST /api/v1/integrations/{name}/process-all` and `…/initiate-synchronization` when set.
    public var requester: IntegrationRequester?
    /// The job queue, for queue inspection and actions and for queuing retried syncs (nil: those answer 503).
    public var queue: JobQueue?
    public let logger: Logger

    public init(
        postgres: PostgresClient, masterKey: MasterKey?, hasher: PasswordHasher = PasswordHasher(), secureCookies: Bool = false,
        tester: ConnectionTester? = nil, requester: IntegrationRequester? = nil, queue: JobQueue? = nil, logger: Logger
    ) {
        self.postgres = postgres
        self.auth = AuthStore(client: postgres, hasher: hasher, logger: logger)
        // Reading never decrypts: a placeholder key serves when the real one is absent (writes then answer 503).
        self.config = ConfigStore(client: postgres, box: SecretBox(key: masterKey ?? MasterKey.placeholder), logger: logger)
        self.hasMasterKey = masterKey != nil
        self.secureCookies = secureCookies
        self.tester = tester ?? AdminAPI.testWithConnector
        self.requester = requester ?? AdminAPI.requestThroughStore(postgres)
        self.queue = queue
        self.logger = logger
    }

    /// The default requester: records the request with the store's `IntegrationControl`; the leading coordinator
    /// carries it out at its next tick.
    static func requestThroughStore(_ postgres: PostgresClient) -> IntegrationRequester {
        { kind, name, side, projects, actor in
            do {
                return try await IntegrationControl(client: postgres).request(
                    IntegrationRequest.Kind(rawValue: kind) ?? .processAll, integration: name, side: side, projects: projects, actor: actor)
            } catch let error as ControlError {
                throw AdminError(
                    error.code == .notFound ? .notFound : .invalid, field: error.field == "integration" ? nil : error.field, error.message)
            }
        }
    }

    /// Adds the API's middleware and routes to `router`.
    public func register(on router: Router<APIContext>) {
        let endpoints = self.endpoints
        router.add(middleware: APIMiddleware(auth: self.auth, endpoints: endpoints))
        router.get("/api/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: self.requester == nil ? OpenAPIDocument.json : OpenAPIDocument.jsonWithRequests)))
        }
        for endpoint in endpoints {
            router.on(RouterPath(endpoint.routerPath), method: endpoint.method) { request, context in
                try await endpoint.respond(request, context: context)
            }
        }
    }

    /// Every operation, in the order of the OpenAPI document.
    public var endpoints: [Endpoint] {
        self.sessionEndpoints + self.userEndpoints + self.tokenEndpoints + self.configurationEndpoints + self.settingsEndpoints
            + self.auditEndpoints + self.operationsEndpoints
            + self.connectionsV2Endpoints
    }

    // MARK: - Session and own account

    var sessionEndpoints: [Endpoint] {
        [
            Endpoint(.post, "/api/v1/session", nil) { request, context in
                let body = try BodyObject(
                    try await APIBody.json(request, context: context), allowed: ["username", "password"], required: ["username", "password"])
                let username = try body.string("username", maxLength: 200) ?? ""
                let password = try body.string("password", maxLength: 4096) ?? ""
                switch try await self.auth.login(username: username, password: password) {
                case .success(let user):
                    let session = try await self.auth.createSession(for: user, userAgent: request.headers[.userAgent])
                    var response = APIResponse.json(
                        .object([
                            "user": Self.json(user), "csrfToken": .string(session.csrfToken),
                            "expiresAt": .string(session.expiresAt.formatted(.iso8601)),
                            "capabilities": .array(Capability.allCases.filter { user.has($0) }.map { .string($0.rawValue) }),
                        ]))
                    let maxAge = max(0, Int(session.expiresAt.timeIntervalSinceNow))
                    response.headers[.setCookie] =
                        "\(APIMiddleware.sessionCookie)=\(session.id); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict\(self.secureCookies ? "; Secure" : "")"
                    return response
                case .rejected, .locked:
                    let policy = try await self.auth.policy()
                    // A password typed into the user name field must not reach the log: only well-formed names are logged.
                    let logged = AuthStore.usernameProblem(username) == nil ? username : "(not a user name)"
                    context.logger.info("Login failed", metadata: ["tandem.user": "\(logged)"])
                    throw APIError(
                        .unauthorized, code: "login_failed",
                        "wrong user name or password, or the account is locked: after \(policy.maxFailedLogins) failed attempts in a row an account is locked for \(policy.lockoutSeconds / 60) minutes"
                    )
                }
            },
            Endpoint(.delete, "/api/v1/session", .account) { _, context in
                let principal = try context.requirePrincipal()
                if case .session(let id, _) = principal.method { try await self.auth.deleteSession(id: id) }
                var response = APIResponse.noContent()
                response.headers[.setCookie] = "\(APIMiddleware.sessionCookie)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
                return response
            },
            Endpoint(.get, "/api/v1/me", .account) { _, context in
                let principal = try context.requirePrincipal()
                var members: [JSONNode.Member] = [
                    .init("user", Self.json(principal.user)),
                    .init("capabilities", .array(Capability.allCases.filter { principal.user.has($0) }.map { .string($0.rawValue) })),
                ]
                switch principal.method {
                case .session(_, let csrf):
                    members.append(.init("authentication", .string("session")))
                    members.append(.init("csrfToken", .string(csrf)))
                case .token(let id):
                    members.append(.init("authentication", .string("token")))
                    members.append(.init("tokenId", .int(Int(id))))
                }
                return APIResponse.json(.object(members))
            },
            Endpoint(.get, "/api/v1/roles", .account) { _, _ in
                APIResponse.json(
                    .object([
                        "roles": .array(Role.allCases.map { .string($0.rawValue) }),
                        "capabilities": .array(
                            Capability.allCases.map { capability in
                                .object([
                                    "name": .string(capability.rawValue), "roles": .array(capability.allowed.sorted().map { .string($0.rawValue) }),
                                ])
                            }),
                    ]))
            },
            Endpoint(.put, "/api/v1/me/password", .account) { request, context in
                let principal = try context.requirePrincipal()
                let body = try BodyObject(
                    try await APIBody.json(request, context: context), allowed: ["currentPassword", "newPassword"],
                    required: ["currentPassword", "newPassword"])
                let current = try body.string("currentPassword", maxLength: 4096) ?? ""
                let new = try body.string("newPassword", maxLength: 4096) ?? ""
                guard case .success = try await self.auth.login(username: principal.user.username, password: current) else {
                    throw APIError.invalid("currentPassword", "is not the current password (repeated failures lock the account)")
                }
                var keep: String?
                if case .session(let id, _) = principal.method { keep = id }
                try await self.auth.setPassword(principal.user.username, password: new, actor: principal.actor, keepSession: keep)
                return APIResponse.noContent()
            },
        ]
    }

    // MARK: - Users

    var userEndpoints: [Endpoint] {
        [
            Endpoint(.get, "/api/v1/users", .manageUsers) { _, _ in
                APIResponse.json(.object(["items": .array(try await self.auth.users().map(Self.json))]))
            },
            Endpoint(.post, "/api/v1/users", .manageUsers) { request, context in
                let principal = try context.requirePrincipal()
                let body = try BodyObject(
                    try await APIBody.json(request, context: context), allowed: ["username", "password", "roles", "displayName", "email"],
                    required: ["username", "roles"])
                let user = try await self.auth.createUser(
                    username: try body.string("username", maxLength: 200) ?? "", password: try body.string("password", maxLength: 4096),
                    roles: try body.roles("roles") ?? [], displayName: try body.string("displayName", maxLength: 200),
                    email: try body.string("email", maxLength: 320), actor: principal.actor)
                return APIResponse.json(Self.json(user), status: .created)
            },
            Endpoint(.get, "/api/v1/users/{username}", .manageUsers) { _, context in
                let name = try context.pathParameter("username")
                guard let user = try await self.auth.user(named: name) else { throw APIError.notFound("no user named '\(name)'") }
                return APIResponse.json(Self.json(user))
            },
            Endpoint(.patch, "/api/v1/users/{username}", .manageUsers) { request, context in
                let principal = try context.requirePrincipal()
                let name = try context.pathParameter("username")
                let body = try BodyObject(
                    try await APIBody.json(request, context: context), allowed: ["roles", "displayName", "email", "disabled", "unlock"])
                let changes = AuthStore.UserChanges(
                    roles: try body.roles("roles"), displayName: try body.nullableString("displayName", maxLength: 200),
                    email: try body.nullableString("email", maxLength: 320), disabled: try body.bool("disabled"),
                    unlock: try body.bool("unlock") ?? false)
                return APIResponse.json(Self.json(try await self.auth.updateUser(name, changes, actor: principal.actor)))
            },
            Endpoint(.delete, "/api/v1/users/{username}", .manageUsers) { _, context in
                let principal = try context.requirePrincipal()
                let name = try context.pathParameter("username")
                if name == principal.user.username { throw APIError(.conflict, code: "conflict", "you cannot delete yourself") }
                try await self.auth.deleteUser(name, actor: principal.actor)
                return APIResponse.noContent()
            },
            Endpoint(.get, "/api/v1/users/{username}/tokens", .manageUsers) { _, context in
                let name = try context.pathParameter("username")
                guard try await self.auth.user(named: name) != nil else { throw APIError.notFound("no user named '\(name)'") }
                return APIResponse.json(.object(["items": .array(try await self.auth.tokens(of: name).map(Self.json))]))
            },
            Endpoint(.post, "/api/v1/users/{username}/tokens", .manageUsers) { request, context in
                let principal = try context.requirePrincipal()
                let name = try context.pathParameter("username")
                let body = try BodyObject(try await APIBody.json(request, context: context), allowed: ["name", "expiresInDays"], required: ["name"])
                let (token, record) = try await self.auth.createToken(
                    for: name, name: try body.string("name", maxLength: 100) ?? "", expiresInDays: try body.int("expiresInDays", range: 1...3650),
                    actor: principal.actor)
                return APIResponse.json(Self.json(record, token: token), status: .created)
            },
            Endpoint(.delete, "/api/v1/users/{username}/tokens/{id}", .manageUsers) { _, context in
                let principal = try context.requirePrincipal()
                let name = try context.pathParameter("username")
                let id = try Self.tokenID(context)
                return APIResponse.json(Self.json(try await self.auth.revokeToken(id: id, of: name, actor: principal.actor)))
            },
            Endpoint(.put, "/api/v1/users/{username}/password", .manageUsers) { request, context in
                let principal = try context.requirePrincipal()
                let name = try context.pathParameter("username")
                let body = try BodyObject(try await APIBody.json(request, context: context), allowed: ["password"], required: ["password"])
                try await self.auth.setPassword(name, password: try body.string("password", maxLength: 4096) ?? "", actor: principal.actor)
                return APIResponse.noContent()
            },
        ]
    }

    // MARK: - API tokens (one's own)

    var tokenEndpoints: [Endpoint] {
        [
            Endpoint(.get, "/api/v1/tokens", .account) { _, context in
                let principal = try context.requirePrincipal()
                return APIResponse.json(.object(["items": .array(try await self.auth.tokens(of: principal.user.username).map(Self.json))]))
            },
            Endpoint(.post, "/api/v1/tokens", .account) { request, context in
                let principal = try context.requirePrincipal()
                let body = try BodyObject(try await APIBody.json(request, context: context), allowed: ["name", "expiresInDays"], required: ["name"])
                let (token, record) = try await self.auth.createToken(
                    for: principal.user.username, name: try body.string("name", maxLength: 100) ?? "",
                    expiresInDays: try body.int("expiresInDays", range: 1...3650), actor: principal.actor)
                return APIResponse.json(Self.json(record, token: token), status: .created)
            },
            Endpoint(.delete, "/api/v1/tokens/{id}", .account) { _, context in
                let principal = try context.requirePrincipal()
                let id = try Self.tokenID(context)
                let record = try await self.auth.revokeToken(id: id, of: principal.user.username, actor: principal.actor)
                return APIResponse.json(Self.json(record))
            },
        ]
    }

    // MARK: - Configuration entities

    var configurationEndpoints: [Endpoint] {
        var endpoints: [Endpoint] = []
        for section in ConfigJSON.Section.allCases {
            let base = "/api/v1/\(section.rawValue)"
            endpoints += [
                Endpoint(.get, base, .readConfiguration) { _, _ in
                    APIResponse.json(.object(["items": .array(try await self.config.list(section))]))
                },
                Endpoint(.post, base, .writeConfiguration) { request, context in
                    let principal = try context.requirePrincipal()
                    try self.requireMasterKey()
                    let body = try await APIBody.json(request, context: context)
                    let stored = try await self.config.put(section, name: nil, body: body, create: true, actor: principal.actor)
                    return APIResponse.json(stored, status: .created)
                },
                Endpoint(.get, "\(base)/{name}", .readConfiguration) { _, context in
                    let name = try context.pathParameter("name")
                    guard let entity = try await self.config.get(section, name: name) else {
                        throw APIError.notFound("no \(section.entity) named '\(name)'")
                    }
                    return APIResponse.json(entity)
                },
                Endpoint(.put, "\(base)/{name}", .writeConfiguration) { request, context in
                    let principal = try context.requirePrincipal()
                    let name = try context.pathParameter("name")
                    try self.requireMasterKey()
                    let body = try await APIBody.json(request, context: context)
                    return APIResponse.json(try await self.config.put(section, name: name, body: body, create: false, actor: principal.actor))
                },
                Endpoint(.delete, "\(base)/{name}", .writeConfiguration) { _, context in
                    let principal = try context.requirePrincipal()
                    let name = try context.pathParameter("name")
                    try self.requireMasterKey()
                    try await self.config.delete(section, name: name, actor: principal.actor)
                    return APIResponse.noContent()
                },
            ]
        }
        endpoints.append(
            Endpoint(.post, "/api/v1/repositories/{name}/test", .writeConfiguration) { request, context in
                let name = try context.pathParameter("name")
                let body = try BodyObject(try await APIBody.json(request, context: context, emptyIsObject: true), allowed: ["project"])
                let project = try body.string("project", minLength: 1, maxLength: 200)
                try self.requireMasterKey()
                let (configuration, secrets) = try await self.config.loadForRuntime()
                guard let repository = configuration.repositories.first(where: { $0.name == name }) else {
                    throw APIError.notFound("no repository named '\(name)'")
                }
                return APIResponse.json(try await self.tester(repository, secrets[name] ?? [:], project).json)
            })
        for (action, running) in [("run", true), ("stop", false)] {
            endpoints.append(
                Endpoint(.post, "/api/v1/integrations/{name}/\(action)", .runIntegrations) { _, context in
                    let principal = try context.requirePrincipal()
                    let name = try context.pathParameter("name")
                    try self.requireMasterKey()
                    return APIResponse.json(try await self.config.setRunning(name, running: running, actor: principal.actor))
                })
        }
        if let requester = self.requester {
            endpoints.append(
                Endpoint(.post, "/api/v1/integrations/{name}/process-all", .runIntegrations) { request, context in
                    let principal = try context.requirePrincipal()
                    let name = try context.pathParameter("name")
                    _ = try BodyObject(try await APIBody.json(request, context: context, emptyIsObject: true), allowed: [])
                    let id = try await requester("process-all", name, nil, [], principal.actor)
                    return APIResponse.json(
                        Self.requestJSON(id: id, kind: "process-all", integration: name, side: nil, projects: []), status: .accepted)
                })
            endpoints.append(
                Endpoint(.post, "/api/v1/integrations/{name}/initiate-synchronization", .runIntegrations) { request, context in
                    let principal = try context.requirePrincipal()
                    let name = try context.pathParameter("name")
                    let body = try BodyObject(try await APIBody.json(request, context: context, emptyIsObject: true), allowed: ["side", "projects"])
                    let side = try body.string("side", maxLength: 10)
                    if let side, side != "left", side != "right" { throw APIError.invalid("side", "must be 'left' or 'right', not '\(side)'") }
                    var projects: [String] = []
                    if let node = body.members["projects"] {
                        guard case .array(let items) = node, items.count <= 1000 else {
                            throw APIError.invalid("projects", "expected an array of at most 1000 project names, found \(node.typeDescription)")
                        }
                        for (index, item) in items.enumerated() {
                            guard case .string(let project) = item, !project.isBlank, project.count <= 200 else {
                                throw APIError.invalid("projects[\(index)]", "expected a project name (1 to 200 characters)")
                            }
                            projects.append(project)
                        }
                    }
                    let id = try await requester("initiate-synchronization", name, side, projects, principal.actor)
                    return APIResponse.json(
                        Self.requestJSON(id: id, kind: "initiate-synchronization", integration: name, side: side, projects: projects),
                        status: .accepted)
                })
        }
        return endpoints
    }

    static func requestJSON(id: Int64, kind: String, integration: String, side: String?, projects: [String]) -> JSONNode {
        .object([
            "id": .int(Int(id)), "kind": .string(kind), "integration": .string(integration), "side": side.map(JSONNode.string),
            "projects": .array(projects.map(JSONNode.string)), "status": .string("accepted"),
        ])
    }

    func requireMasterKey() throws {
        if !self.hasMasterKey {
            throw APIError(
                .serviceUnavailable, code: "master_key",
                "this server has no master key (set TANDEM_MASTER_KEY or TANDEM_MASTER_KEY_FILE): it can show the configuration but not change it")
        }
    }

    /// The default tester: the repository's connector, over a short-lived HTTP client; its result classified.
    @Sendable static func testWithConnector(
        _ repository: RepositoryConfig, _ secrets: [String: String], _ project: String?
    ) async throws
        -> ConnectionCheck
    {
        let http = HTTPClient()
        let connector: any Connector
        do {
            connector = try ConnectorFactory.make(repository, secrets: secrets, http: http)
        } catch let error as ConnectorError {
            await http.shutdown()
            return ConnectionCheck(error, projectChecked: project != nil)
        }
        let result = await connector.testConnection(project: project)
        await http.shutdown()
        return ConnectionCheck(result, projectChecked: project != nil)
    }

    // MARK: - Settings

    var settingsEndpoints: [Endpoint] {
        [
            Endpoint(.get, "/api/v1/settings", .readSettings) { _, _ in
                APIResponse.json(try await self.settingsJSON())
            },
            Endpoint(.patch, "/api/v1/settings", .writeSettings) { request, context in
                let principal = try context.requirePrincipal()
                let json = try await APIBody.json(request, context: context)
                guard case .object(let members) = json else { throw APIError.invalid("", "expected a JSON object, found \(json.typeDescription)") }
                let sync = members.filter { $0.key != "security" }
                if !sync.isEmpty { try self.requireMasterKey() }
                if let security = json["security"] {
                    let body = try BodyObject(security, path: "security", allowed: Array(AuthPolicy.ranges.keys).sorted())
                    let before = try await self.auth.policy()
                    var after = before
                    if let v = try body.int("maxFailedLogins", range: AuthPolicy.ranges["maxFailedLogins"]!) { after.maxFailedLogins = v }
                    if let v = try body.int("lockoutSeconds", range: AuthPolicy.ranges["lockoutSeconds"]!) { after.lockoutSeconds = v }
                    if let v = try body.int("sessionSeconds", range: AuthPolicy.ranges["sessionSeconds"]!) { after.sessionSeconds = v }
                    // Check the sync settings before writing anything.
                    if !sync.isEmpty { _ = try ConfigJSON.settings(.object(sync), current: Settings()) }
                    try await after.save(self.postgres, before: before, actor: principal.actor)
                }
                if !sync.isEmpty { _ = try await self.config.updateSettings(.object(sync), actor: principal.actor) }
                return APIResponse.json(try await self.settingsJSON())
            },
            Endpoint(.put, "/api/v1/settings/logging", .changeLogging) { request, context in
                let principal = try context.requirePrincipal()
                let body = try BodyObject(try await APIBody.json(request, context: context), allowed: ["level", "troubleshooting"])
                let level = try body.string("level", maxLength: 20)
                var troubleshooting: (String, Int)?
                if let node = body.members["troubleshooting"] {
                    let t = try BodyObject(node, path: "troubleshooting", allowed: ["level", "minutes"], required: ["minutes"])
                    let minutes = try t.int("minutes", range: 0...1440) ?? 0
                    troubleshooting = (try t.string("level", maxLength: 20) ?? "debug", minutes * 60)
                }
                if level == nil, troubleshooting == nil { throw APIError.invalid("", "give 'level', 'troubleshooting' or both") }
                let settings = try await LoggingSettings.update(self.postgres, level: level, troubleshooting: troubleshooting, actor: principal.actor)
                return APIResponse.json(settings.json)
            },
        ]
    }

    func settingsJSON() async throws -> JSONNode {
        let sync = ConfigJSON.json(try await self.config.settings())
        var members = sync.members ?? []
        members.append(.init("logging", try await LoggingSettings.load(self.postgres).json))
        members.append(.init("security", try await self.auth.policy().json))
        return .object(members)
    }

    // MARK: - Audit log

    var auditEndpoints: [Endpoint] {
        [
            Endpoint(.get, "/api/v1/audit", .readAudit) { request, _ in
                let limit = try QueryValue.int(request, "limit", range: 1...500) ?? 50
                let filter = AuditLog.Filter(
                    entity: try QueryValue.string(request, "entity"), entityName: try QueryValue.string(request, "name"),
                    actor: try QueryValue.string(request, "actor"), before: try QueryValue.int(request, "before", range: 1...Int.max).map(Int64.init),
                    limit: limit)
                let entries = try await AuditLog.list(self.postgres, filter)
                let next: JSONNode? = entries.count == limit ? entries.last.map { .int(Int($0.id)) } : nil
                return APIResponse.json(.object(["items": .array(entries.map(Self.json)), "next": next]))
            },
            Endpoint(.post, "/api/v1/audit/{id}/revert", .writeConfiguration) { request, context in
                let principal = try context.requirePrincipal()
                let id = try Self.idParameter(context)
                _ = try BodyObject(try await APIBody.json(request, context: context, emptyIsObject: true), allowed: [])
                guard let entry = try await AuditLog.entry(self.postgres, id: id) else { throw APIError.notFound("no audit entry with id \(id)") }
                try self.requireMasterKey()
                do {
                    let done = try await self.config.revert(entry, actor: principal.actor)
                    return APIResponse.json(
                        .object([
                            "entity": .string(done.section.entity), "name": .string(done.name), "message": .string(done.message),
                            "stored": done.entity,
                        ]))
                } catch let error as AdminError {
                    throw APIBody.apiError(error)
                }
            },
        ]
    }

    // MARK: - Representations

    static func date(_ date: Date?) -> JSONNode? { date.map { .string($0.formatted(.iso8601)) } }

    static func json(_ user: UserRecord) -> JSONNode {
        .object([
            "username": .string(user.username), "displayName": user.displayName.map(JSONNode.string), "email": user.email.map(JSONNode.string),
            "roles": .array(user.roles.map { .string($0.rawValue) }), "disabled": .bool(user.disabled), "locked": .bool(user.isLocked()),
            "hasPassword": .bool(user.hasPassword), "createdAt": Self.date(user.createdAt), "updatedAt": Self.date(user.updatedAt),
            "passwordChangedAt": Self.date(user.passwordChangedAt),
        ])
    }

    static func tokenID(_ context: APIContext) throws -> Int64 {
        let text = try context.pathParameter("id")
        guard let id = Int64(text), id > 0 else { throw APIError.invalid("id", "'\(text)' is not a token id (a positive integer)") }
        return id
    }

    /// A token as listed, plus the token itself right after it was made.
    static func json(_ record: TokenRecord, token: String) -> JSONNode {
        guard case .object(var members) = Self.json(record) else { return Self.json(record) }
        members.append(.init("token", .string(token)))
        return .object(members)
    }

    static func json(_ token: TokenRecord) -> JSONNode {
        .object([
            "id": .int(Int(token.id)), "user": .string(token.username), "name": .string(token.name), "prefix": .string(token.prefix),
            "active": .bool(token.isActive()), "createdAt": Self.date(token.createdAt), "lastUsedAt": Self.date(token.lastUsedAt),
            "revokedAt": Self.date(token.revokedAt), "expiresAt": Self.date(token.expiresAt),
        ])
    }

    static func json(_ entry: AuditEntry) -> JSONNode {
        .object([
            "id": .int(Int(entry.id)), "actor": .string(entry.actor), "action": .string(entry.action), "entity": .string(entry.entity),
            "name": entry.entityName.map(JSONNode.string), "changes": entry.changes, "at": Self.date(entry.at),
        ])
    }
}
