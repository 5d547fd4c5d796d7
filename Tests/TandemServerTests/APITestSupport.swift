import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Postgres
import Redis
import TandemConfig
import TandemCore
import TandemQueue
import TandemServer
import TandemStore

/// Fast scrypt for tests (N = 2^10); production uses 2^15. Parameters live in the hash, so both verify alike.
let testHasher = PasswordHasher(parameters: .init(logN: 10))

/// One answer of the API, decoded.
struct APIAnswer: Sendable {
    var status: Int
    var headers: HTTPFields
    var text: String
    var json: JSONNode { (try? JSONNode.parse(self.text)) ?? .null }
    /// `error.code` of an error body.
    var code: String? { if case .string(let code)? = self.json["error"]?["code"] { return code } else { return nil } }
    var field: String? { if case .string(let field)? = self.json["error"]?["field"] { return field } else { return nil } }
    var message: String { if case .string(let text)? = self.json["error"]?["message"] { return text } else { return "" } }
}

extension JSONNode {
    var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    var intValue: Int? { if case .int(let i) = self { return i } else { return nil } }
    var arrayValue: [JSONNode]? { if case .array(let a) = self { return a } else { return nil } }
}

/// The API over a fresh, migrated database, with an admin user ("admin", password "admin-password-1") and a token.
struct APIHarness: Sendable {
    let client: any TestClientProtocol
    let postgres: PostgresClient
    let api: AdminAPI
    let adminToken: String
    static let adminPassword = "admin-password-1"

    /// Credentials: a token (the admin's by default), or a session cookie with an optional CSRF header, or none.
    enum Credentials: Sendable {
        case admin
        case token(String)
        case session(cookie: String, csrf: String?)
        case none
    }

    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ uri: String, as credentials: Credentials = .admin, body: String? = nil,
        contentType: String? = "application/json", headers extra: HTTPFields = [:]
    ) async throws -> APIAnswer {
        var headers = extra
        switch credentials {
        case .admin: headers[.authorization] = "Token \(self.adminToken)"
        case .token(let token): headers[.authorization] = "Token \(token)"
        case .session(let cookie, let csrf):
            headers[.cookie] = "tandem_session=\(cookie)"
            if let csrf { headers[HTTPField.Name("X-CSRF-Token")!] = csrf }
        case .none: break
        }
        if body != nil, let contentType { headers[.contentType] = contentType }
        let response = try await self.client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        return APIAnswer(status: Int(response.status.code), headers: response.headers, text: String(buffer: response.body))
    }

    /// Creates a user with `roles` and returns a token of theirs.
    func token(for username: String, roles: [Role]) async throws -> String {
        let store = AuthStore(client: self.postgres, hasher: testHasher, logger: quiet)
        if try await store.user(named: username) == nil {
            _ = try await store.createUser(username: username, password: "password-of-\(username)", roles: roles, actor: "test")
        }
        return try await store.createToken(for: username, name: "test", actor: "test").token
    }

    /// Logs in; returns the cookie value and the CSRF token.
    func login(_ username: String, _ password: String) async throws -> (cookie: String, csrf: String) {
        let answer = try await self.call(
            .post, "/api/v1/session", as: .none, body: JSONNode.object(["username": .string(username), "password": .string(password)]).text)
        guard answer.status == 200, let setCookie = answer.headers[.setCookie], let csrf = answer.json["csrfToken"]?.stringValue,
            let value = setCookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last
        else { throw TestSetupError(description: "login failed: \(answer.status) \(answer.text)") }
        return (String(value), csrf)
    }

    /// A snapshot of everything the API can change, to show that a refused request changed nothing.
    func snapshot() async throws -> String {
        var parts: [String] = []
        // Token use is recorded (last_used_at), which is not a change.
        for table in [
            "repositories", "models", "model_fields", "collections", "integrations", "users", "settings", "audit_log",
            "(SELECT id, user_id, name, token_hash, revoked_at FROM api_tokens)",
        ] {
            let rows = try await self.postgres.query("SELECT coalesce(string_agg(t::text, '|' ORDER BY t::text), '') FROM \(unescaped: table) t")
            parts.append(table + ":" + (try rows.first?.decode(String.self, at: 0) ?? ""))
        }
        return parts.joined(separator: "\n")
    }
}

/// Runs `body` against the API on a fresh database (with a master key, so configuration can be changed).
func withAPI(
    tester: ConnectionTester? = nil, requester: IntegrationRequester? = nil, withMasterKey: Bool = true,
    _ body: @escaping @Sendable (APIHarness) async throws -> Void
) async throws {
    try await withTestDatabase { postgres in
        try await Migrator.bundled().migrate(postgres, logger: quiet)
        let store = AuthStore(client: postgres, hasher: testHasher, logger: quiet)
        _ = try await store.createUser(username: "admin", password: APIHarness.adminPassword, roles: [.admin], actor: "test")
        let token = try await store.createToken(for: "admin", name: "tests", actor: "test").token
        let redis = try redisClient()
        let key = try MasterKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) })
        // A queue of its own per test (its keys are removed afterwards).
        let prefix = "tandem-api-test-\(UUID().uuidString.prefix(8).lowercased()):"
        let queue = JobQueue(client: redis, configuration: .init(prefix: prefix))
        let api = AdminAPI(
            postgres: postgres, masterKey: withMasterKey ? key : nil, hasher: testHasher, tester: tester, requester: requester, queue: queue,
            logger: quiet)
        let routes = ServerRoutes(health: HealthChecker(postgres: postgres, redis: redis), queue: queue, api: api)
        let app = Application(router: routes.router(), logger: quiet)
        func cleanUp() async {
            var cursor = "0"
            repeat {
                guard let reply = try? await redis.send("SCAN", cursor, "MATCH", "\(prefix)*", "COUNT", 1000), let parts = reply.array,
                    parts.count == 2, let next = parts[0].string
                else { break }
                let keys = parts[1].array?.compactMap(\.string) ?? []
                if !keys.isEmpty { _ = try? await redis.send(["UNLINK"] + keys) }
                cursor = next
            } while cursor != "0"
            await redis.close()
        }
        do {
            try await app.test(.router) { client in
                try await body(APIHarness(client: client, postgres: postgres, api: api, adminToken: token))
            }
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
    }
}
