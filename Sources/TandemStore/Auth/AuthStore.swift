import Crypto
public import Foundation
public import Logging
public import Postgres
import TandemConfig
import TandemCore

/// A local user (never with the password hash).
public struct UserRecord: Sendable, Hashable {
    public var id: Int64
    public var username: String
    public var displayName: String?
    public var email: String?
    public var roles: [Role]
    public var disabled: Bool
    /// Set while the account is locked after too many failed logins.
    public var lockedUntil: Date?
    public var failedLogins: Int
    public var hasPassword: Bool
    public var createdAt: Date
    public var updatedAt: Date
    public var passwordChangedAt: Date?

    public func isLocked(at now: Date = Date()) -> Bool { self.lockedUntil.map { $0 > now } ?? false }
    public func has(_ capability: Capability) -> Bool { !self.disabled && capability.isGranted(to: self.roles) }
}

/// A token or session of an account that is locked after too many failed logins: it works again once the lock ends
/// (`security.lockoutSeconds`) or an admin clears it — a lock stops the account, not only its password (issue 14 §8).
public struct AccountLocked: Error, Sendable, CustomStringConvertible {
    public var until: Date
    public var description: String {
        "the account is locked after too many failed logins until \(self.until.formatted(.iso8601)); an admin can unlock it sooner"
    }
}

/// An API token as listed: never the token itself, which is shown once when it is made.
public struct TokenRecord: Sendable, Hashable {
    public var id: Int64
    public var username: String
    public var name: String
    /// The token's first characters, to tell tokens apart.
    public var prefix: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?
    /// When the token stops working by itself, if it does.
    public var expiresAt: Date?

    public func isActive(at now: Date = Date()) -> Bool { self.revokedAt == nil && (self.expiresAt.map { $0 > now } ?? true) }
}

/// One of a user's web sessions, as their account page lists them (never the cookie value).
public struct SessionSummary: Sendable, Hashable {
    public var createdAt: Date
    public var lastSeenAt: Date
    public var expiresAt: Date
    public var userAgent: String?
    /// The session of the request that asked.
    public var current: Bool
}

/// A logged-in web session.
public struct SessionRecord: Sendable, Hashable {
    public var user: UserRecord
    public var csrfToken: String
    public var expiresAt: Date
}

/// The login policy, from the `settings` table (`auth.*` keys) with these defaults.
public struct AuthPolicy: Sendable, Hashable {
    /// Failed logins in a row that lock an account.
    public var maxFailedLogins = 5
    /// How long a locked account stays locked.
    public var lockoutSeconds = 15 * 60
    /// How long a web session lasts after login.
    public var sessionSeconds = 12 * 3600
    public init() {}

    public static let keys = ["auth.maxFailedLogins", "auth.lockoutSeconds", "auth.sessionSeconds"]
}

/// What a login attempt gave. Failures do not say whether the user exists (the API answers all of them alike).
public enum LoginOutcome: Sendable, Hashable {
    case success(UserRecord)
    /// Unknown user, wrong password, no role, disabled: indistinguishable from outside.
    case rejected
    /// Too many failed attempts; `until` is for the server's log only.
    case locked(until: Date)
}

/// Users, their roles, passwords, API tokens and web sessions, in PostgreSQL. Every change writes an audit row.
public struct AuthStore: Sendable {
    public let client: PostgresClient
    public let hasher: PasswordHasher
    public let logger: Logger

    public init(client: PostgresClient, hasher: PasswordHasher = PasswordHasher(), logger: Logger) {
        self.client = client
        self.hasher = hasher
        self.logger = logger
    }

    // MARK: Users

    static let userColumns = """
        id, username, display_name, email, roles, disabled, locked_until, failed_logins, password_hash IS NOT NULL, created_at,
        updated_at, password_changed_at
        """

    static func user(_ row: PostgresRow) throws -> UserRecord {
        UserRecord(
            id: try row.decode(Int64.self, at: 0), username: try row.decode(String.self, at: 1), displayName: try row.decode(String?.self, at: 2),
            email: try row.decode(String?.self, at: 3), roles: try row.decode([String].self, at: 4).compactMap(Role.init(rawValue:)).sorted(),
            disabled: try row.decode(Bool.self, at: 5), lockedUntil: try row.decode(Date?.self, at: 6), failedLogins: try row.decode(Int.self, at: 7),
            hasPassword: try row.decode(Bool.self, at: 8), createdAt: try row.decode(Date.self, at: 9), updatedAt: try row.decode(Date.self, at: 10),
            passwordChangedAt: try row.decode(Date?.self, at: 11))
    }

    /// Why `username` is not acceptable, or nil: 1–64 letters, digits, `.`, `_`, `-`, `@`.
    public static func usernameProblem(_ username: String) -> String? {
        if username.isEmpty { return "must not be empty" }
        if username.count > 64 { return "must be at most 64 characters long" }
        if !username.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-@".contains($0)) }) {
            return "may hold only letters, digits, '.', '_', '-' and '@'"
        }
        return nil
    }

    public func users() async throws -> [UserRecord] {
        try await self.client.query("SELECT \(unescaped: Self.userColumns) FROM users ORDER BY username").map(Self.user)
    }

    public func user(named username: String) async throws -> UserRecord? {
        try await self.client.query("SELECT \(unescaped: Self.userColumns) FROM users WHERE username = \(username)").first.map(Self.user)
    }

    public func user(id: Int64) async throws -> UserRecord? {
        try await self.client.query("SELECT \(unescaped: Self.userColumns) FROM users WHERE id = \(id)").first.map(Self.user)
    }

    /// Creates a user. `password` may be nil for a user who will only use tokens made for them by an admin.
    public func createUser(
        username: String, password: String?, roles: [Role], displayName: String? = nil, email: String? = nil, actor: String
    ) async throws -> UserRecord {
        if let problem = Self.usernameProblem(username) { throw AdminError(.invalid, field: "username", problem) }
        if roles.isEmpty { throw AdminError(.invalid, field: "roles", "give at least one role (a user without a role cannot log in)") }
        var hash: String?
        if let password {
            if let weakness = PasswordHasher.weakness(of: password) { throw AdminError(.invalid, field: "password", "the password \(weakness)") }
            hash = try await self.hasher.hash(password)
        }
        let roleNames = Array(Set(roles)).sorted().map(\.rawValue)
        return try await self.client.withTransaction { connection in
            let rows = try await connection.query(
                """
                INSERT INTO users (username, display_name, email, password_hash, roles, password_changed_at)
                VALUES (\(username), \(displayName), \(email), \(hash), \(roleNames), CASE WHEN \(hash)::text IS NULL THEN NULL ELSE now() END)
                ON CONFLICT (username) DO NOTHING
                RETURNING \(unescaped: Self.userColumns)
                """)
            guard let row = rows.first else { throw AdminError(.conflict, field: "username", "a user named '\(username)' already exists") }
            try await AuditLog.record(
                connection, actor: actor, action: "create", entity: "user", name: username,
                changes: .object(["after": .object(["roles": .array(roleNames.map(JSONNode.string))])]))
            return try Self.user(row)
        }
    }

    public struct UserChanges: Sendable, Hashable {
        public var roles: [Role]?
        /// `.some(nil)` clears the value.
        public var displayName: String??
        public var email: String??
        public var disabled: Bool?
        /// Clears a lock-out.
        public var unlock = false
        public init(roles: [Role]? = nil, displayName: String?? = nil, email: String?? = nil, disabled: Bool? = nil, unlock: Bool = false) {
            self.roles = roles
            self.displayName = displayName
            self.email = email
            self.disabled = disabled
            self.unlock = unlock
        }
    }

    /// Changes a user; refuses to leave the installation without an enabled admin.
    public func updateUser(_ username: String, _ changes: UserChanges, actor: String) async throws -> UserRecord {
        if let roles = changes.roles, roles.isEmpty {
            throw AdminError(.invalid, field: "roles", "give at least one role (a user without a role cannot log in)")
        }
        return try await self.client.withTransaction { connection in
            try await connection.query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
            guard
                let before = try await connection.query("SELECT \(unescaped: Self.userColumns) FROM users WHERE username = \(username)").first.map(
                    Self.user)
            else { throw AdminError(.notFound, "no user named '\(username)'") }
            var after = before
            if let roles = changes.roles { after.roles = Array(Set(roles)).sorted() }
            if let name = changes.displayName { after.displayName = name }
            if let email = changes.email { after.email = email }
            if let disabled = changes.disabled { after.disabled = disabled }
            if before.roles.contains(.admin), !before.disabled, !after.roles.contains(.admin) || after.disabled {
                try await Self.requireAnotherAdmin(connection, besides: before.id)
            }
            let rows = try await connection.query(
                """
                UPDATE users SET roles = \(after.roles.map(\.rawValue)), display_name = \(after.displayName), email = \(after.email),
                    disabled = \(after.disabled), updated_at = now(),
                    failed_logins = CASE WHEN \(changes.unlock) THEN 0 ELSE failed_logins END,
                    locked_until = CASE WHEN \(changes.unlock) THEN NULL ELSE locked_until END
                WHERE id = \(before.id) RETURNING \(unescaped: Self.userColumns)
                """)
            if after.disabled { try await connection.query("DELETE FROM sessions WHERE user_id = \(before.id)") }
            var beforeJSON: [JSONNode.Member] = []
            var afterJSON: [JSONNode.Member] = []
            func compare(_ key: String, _ a: JSONNode, _ b: JSONNode) {
                if a != b {
                    beforeJSON.append(.init(key, a))
                    afterJSON.append(.init(key, b))
                }
            }
            func text(_ value: String?) -> JSONNode { value.map(JSONNode.string) ?? .null }
            compare("roles", .array(before.roles.map { .string($0.rawValue) }), .array(after.roles.map { .string($0.rawValue) }))
            compare("displayName", text(before.displayName), text(after.displayName))
            compare("email", text(before.email), text(after.email))
            compare("disabled", .bool(before.disabled), .bool(after.disabled))
            if changes.unlock, before.lockedUntil != nil { compare("locked", .bool(true), .bool(false)) }
            if !beforeJSON.isEmpty {
                try await AuditLog.record(
                    connection, actor: actor, action: "update", entity: "user", name: username,
                    changes: .object([.init("before", .object(beforeJSON)), .init("after", .object(afterJSON))]))
            }
            guard let row = rows.first else { throw AdminError(.notFound, "no user named '\(username)'") }
            return try Self.user(row)
        }
    }

    static func requireAnotherAdmin(_ connection: PostgresConnection, besides id: Int64) async throws {
        let others =
            try await connection.query(
                "SELECT count(*) FROM users WHERE id <> \(id) AND NOT disabled AND 'admin' = ANY(roles)"
            ).first?.decode(Int.self, at: 0) ?? 0
        if others == 0 {
            throw AdminError(.conflict, "this is the last enabled admin: make another user admin first")
        }
    }

    /// Deletes a user with their tokens and sessions; refuses to delete the last enabled admin.
    public func deleteUser(_ username: String, actor: String) async throws {
        try await self.client.withTransaction { connection in
            try await connection.query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
            guard
                let user = try await connection.query("SELECT \(unescaped: Self.userColumns) FROM users WHERE username = \(username)").first.map(
                    Self.user)
            else { throw AdminError(.notFound, "no user named '\(username)'") }
            if user.roles.contains(.admin), !user.disabled { try await Self.requireAnotherAdmin(connection, besides: user.id) }
            try await connection.query("DELETE FROM users WHERE id = \(user.id)")
            try await AuditLog.record(
                connection, actor: actor, action: "delete", entity: "user", name: username,
                changes: .object(["before": .object(["roles": .array(user.roles.map { .string($0.rawValue) })])]))
        }
    }

    /// Sets a password (and clears a lock-out). Every session of the user ends except `keepSession` (the caller's own).
    public func setPassword(_ username: String, password: String, actor: String, keepSession: String? = nil) async throws {
        if let weakness = PasswordHasher.weakness(of: password) { throw AdminError(.invalid, field: "password", "the password \(weakness)") }
        let hash = try await self.hasher.hash(password)
        let keep = keepSession.map(Self.digest) ?? Data()
        try await self.client.withTransaction { connection in
            let rows = try await connection.query(
                """
                UPDATE users SET password_hash = \(hash), password_changed_at = now(), updated_at = now(), failed_logins = 0, locked_until = NULL
                WHERE username = \(username) RETURNING id
                """)
            guard let id = try rows.first?.decode(Int64.self, at: 0) else { throw AdminError(.notFound, "no user named '\(username)'") }
            try await connection.query("DELETE FROM sessions WHERE user_id = \(id) AND id_hash <> \(keep)")
            try await AuditLog.record(connection, actor: actor, action: "set-password", entity: "user", name: username)
        }
    }

    // MARK: Login

    public func policy() async throws -> AuthPolicy {
        var policy = AuthPolicy()
        for row in try await self.client.query("SELECT key, value::text FROM settings WHERE key = ANY(\(AuthPolicy.keys))") {
            guard let value = Int(try row.decode(String.self, at: 1)), value > 0 else { continue }
            switch try row.decode(String.self, at: 0) {
            case "auth.maxFailedLogins": policy.maxFailedLogins = value
            case "auth.lockoutSeconds": policy.lockoutSeconds = value
            case "auth.sessionSeconds": policy.sessionSeconds = value
            default: break
            }
        }
        return policy
    }

    /// Checks a user name and password. Wrong passwords count towards the lock-out; a success resets the count.
    /// Unknown users, users without a password or a role, and disabled users cost the same time as a wrong password.
    public func login(username: String, password: String) async throws -> LoginOutcome {
        let policy = try await self.policy()
        let rows = try await self.client.query(
            "SELECT \(unescaped: Self.userColumns), password_hash FROM users WHERE username = \(username)")
        guard let row = rows.first, let hash = try row.decode(String?.self, at: 12) else {
            await self.hasher.burn(password)
            return .rejected
        }
        let user = try Self.user(row)
        if let until = user.lockedUntil, until > Date() {
            await self.hasher.burn(password)
            return .locked(until: until)
        }
        let matches = await self.hasher.verify(password, against: hash)
        guard matches else {
            // Counts restart once an earlier lock has expired.
            let updated = try await self.client.query(
                """
                UPDATE users SET
                    failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= now() THEN 1 ELSE failed_logins + 1 END,
                    locked_until = CASE
                        WHEN (CASE WHEN locked_until IS NOT NULL AND locked_until <= now() THEN 1 ELSE failed_logins + 1 END) >= \(policy.maxFailedLogins)
                        THEN now() + make_interval(secs => \(policy.lockoutSeconds))
                        WHEN locked_until IS NOT NULL AND locked_until <= now() THEN NULL
                        ELSE locked_until END
                WHERE id = \(user.id) RETURNING failed_logins, locked_until
                """)
            if let until = try updated.first?.decode(Date?.self, at: 1), until > Date() {
                self.logger.notice("Account locked after failed logins", metadata: ["tandem.user": "\(username)"])
                return .locked(until: until)
            }
            return .rejected
        }
        guard !user.disabled, !user.roles.isEmpty else { return .rejected }
        try await self.client.query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = \(user.id)")
        if self.hasher.needsRehash(hash) {
            let stronger = try await self.hasher.hash(password)
            try await self.client.query("UPDATE users SET password_hash = \(stronger) WHERE id = \(user.id)")
        }
        var fresh = user
        fresh.failedLogins = 0
        fresh.lockedUntil = nil
        return .success(fresh)
    }

    // MARK: Sessions

    static func randomToken(bytes count: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// SHA-256 of a session id or token: what the database keeps.
    public static func digest(_ secret: String) -> Data { Data(SHA256.hash(data: Data(secret.utf8))) }

    /// Starts a session; returns the cookie value (shown only here) and the session's CSRF token.
    public func createSession(for user: UserRecord, userAgent: String? = nil) async throws -> (id: String, csrfToken: String, expiresAt: Date) {
        let policy = try await self.policy()
        let id = Self.randomToken()
        let csrf = Self.randomToken()
        let row = try await self.client.query(
            """
            INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, user_agent)
            VALUES (\(Self.digest(id)), \(user.id), \(csrf), now() + make_interval(secs => \(policy.sessionSeconds)), \(userAgent.map { String($0.prefix(200)) }))
            RETURNING expires_at
            """
        ).first
        // Expired sessions are swept now and then.
        try await self.client.query("DELETE FROM sessions WHERE expires_at < now() - interval '1 day'")
        return (id, csrf, try row?.decode(Date.self, at: 0) ?? Date())
    }

    /// The live session with this cookie value, if any (expired ones and disabled users' are not; a locked user's
    /// throws `AccountLocked`). Its last use is recorded at most once a minute, to spare writes.
    public func session(id: String) async throws -> SessionRecord? {
        let digest = Self.digest(id)
        let rows = try await self.client.query(
            """
            SELECT \(unescaped: Self.userColumns.split(separator: ",").map { "u." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")),
                s.csrf_token, s.expires_at, s.last_seen_at < now() - interval '1 minute'
            FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.id_hash = \(digest) AND s.expires_at > now() AND NOT u.disabled
            """)
        guard let row = rows.first else { return nil }
        let user = try Self.user(row)
        if let until = user.lockedUntil, user.isLocked() { throw AccountLocked(until: until) }
        if try row.decode(Bool.self, at: 14) {
            try await self.client.query("UPDATE sessions SET last_seen_at = now() WHERE id_hash = \(digest)")
        }
        return SessionRecord(user: user, csrfToken: try row.decode(String.self, at: 12), expiresAt: try row.decode(Date.self, at: 13))
    }

    public func deleteSession(id: String) async throws {
        try await self.client.query("DELETE FROM sessions WHERE id_hash = \(Self.digest(id))")
    }

    /// A user's live sessions, newest use first; `current` marks the one whose cookie value is `current`.
    public func sessions(of username: String, current: String? = nil) async throws -> [SessionSummary] {
        let mine = current.map(Self.digest) ?? Data()
        return try await self.client.query(
            """
            SELECT s.created_at, s.last_seen_at, s.expires_at, s.user_agent, s.id_hash = \(mine)
            FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE u.username = \(username) AND s.expires_at > now() ORDER BY s.last_seen_at DESC, s.created_at DESC
            """
        ).map { row in
            SessionSummary(
                createdAt: try row.decode(Date.self, at: 0), lastSeenAt: try row.decode(Date.self, at: 1),
                expiresAt: try row.decode(Date.self, at: 2),
                userAgent: try row.decode(String?.self, at: 3), current: try row.decode(Bool.self, at: 4))
        }
    }

    /// Ends every session of `username` but the one with cookie value `keep`; audited (`end-sessions`). Returns how many.
    @discardableResult
    public func endOtherSessions(of username: String, keep: String, actor: String) async throws -> Int {
        try await self.client.withTransaction { connection in
            let ended = try await connection.query(
                """
                DELETE FROM sessions s USING users u
                WHERE u.id = s.user_id AND u.username = \(username) AND s.id_hash <> \(Self.digest(keep)) RETURNING 1
                """
            ).count
            try await AuditLog.record(
                connection, actor: actor, action: "end-sessions", entity: "user", name: username, changes: .object(["sessions": .int(ended)]))
            return ended
        }
    }

    // MARK: API tokens

    static let tokenColumns = "t.id, u.username, t.name, t.prefix, t.created_at, t.last_used_at, t.revoked_at, t.expires_at"

    static func token(_ row: PostgresRow) throws -> TokenRecord {
        TokenRecord(
            id: try row.decode(Int64.self, at: 0), username: try row.decode(String.self, at: 1), name: try row.decode(String.self, at: 2),
            prefix: try row.decode(String.self, at: 3), createdAt: try row.decode(Date.self, at: 4), lastUsedAt: try row.decode(Date?.self, at: 5),
            revokedAt: try row.decode(Date?.self, at: 6), expiresAt: try row.decode(Date?.self, at: 7))
    }

    /// Makes a token for `username`: 32 random bytes, returned once; only its SHA-256 is stored. With `expiresInDays`
    /// (1–3650) it stops working by itself.
    public func createToken(
        for username: String, name: String, expiresInDays: Int? = nil, actor: String
    ) async throws -> (token: String, record: TokenRecord) {
        if let days = expiresInDays, !(1...3650).contains(days) {
            throw AdminError(.invalid, field: "expiresInDays", "must be between 1 and 3650")
        }
        let label = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isBlank { throw AdminError(.invalid, field: "name", "must not be empty") }
        if label.count > 100 { throw AdminError(.invalid, field: "name", "must be at most 100 characters long") }
        let token = "tdm_" + Self.randomToken()
        let prefix = String(token.prefix(10))
        return try await self.client.withTransaction { connection in
            let rows = try await connection.query(
                """
                WITH inserted AS (
                    INSERT INTO api_tokens (user_id, name, token_hash, prefix, expires_at)
                    SELECT id, \(label), \(Self.digest(token)), \(prefix),
                        CASE WHEN \(expiresInDays)::int IS NULL THEN NULL ELSE now() + \(expiresInDays)::int * interval '1 day' END
                    FROM users WHERE username = \(username)
                    RETURNING *
                )
                SELECT \(unescaped: Self.tokenColumns) FROM inserted t JOIN users u ON u.id = t.user_id
                """)
            guard let row = rows.first else { throw AdminError(.notFound, field: "user", "no user named '\(username)'") }
            let record = try Self.token(row)
            try await AuditLog.record(
                connection, actor: actor, action: "create", entity: "api-token", name: "\(username)/\(label)",
                changes: .object(["after": .object(["id": .int(Int(record.id)), "prefix": .string(prefix)])]))
            return (token, record)
        }
    }

    /// Tokens, newest first; of one user when `username` is given.
    public func tokens(of username: String? = nil) async throws -> [TokenRecord] {
        try await self.client.query(
            """
            SELECT \(unescaped: Self.tokenColumns) FROM api_tokens t JOIN users u ON u.id = t.user_id
            WHERE \(username)::text IS NULL OR u.username = \(username) ORDER BY t.id DESC
            """
        ).map(Self.token)
    }

    /// Revokes a token (of `username` only, when given: users revoke their own).
    public func revokeToken(id: Int64, of username: String? = nil, actor: String) async throws -> TokenRecord {
        try await self.client.withTransaction { connection in
            let rows = try await connection.query(
                """
                UPDATE api_tokens t SET revoked_at = coalesce(t.revoked_at, now()) FROM users u
                WHERE t.id = \(id) AND u.id = t.user_id AND (\(username)::text IS NULL OR u.username = \(username))
                RETURNING \(unescaped: Self.tokenColumns)
                """)
            guard let row = rows.first else { throw AdminError(.notFound, "no API token \(id)") }
            let record = try Self.token(row)
            try await AuditLog.record(
                connection, actor: actor, action: "revoke", entity: "api-token", name: "\(record.username)/\(record.name)",
                changes: .object(["after": .object(["id": .int(Int(id))])]))
            return record
        }
    }

    /// The user a token belongs to, if the token is known, not revoked and its user enabled; `AccountLocked` while the
    /// user is locked. Records its use (at most once a minute, to spare writes).
    public func authenticate(token: String) async throws -> (user: UserRecord, tokenID: Int64)? {
        let rows = try await self.client.query(
            """
            SELECT \(unescaped: Self.userColumns.split(separator: ",").map { "u." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")),
                t.id, t.last_used_at
            FROM api_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = \(Self.digest(token)) AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
                AND NOT u.disabled
            """)
        guard let row = rows.first else { return nil }
        let user = try Self.user(row)
        if let until = user.lockedUntil, user.isLocked() { throw AccountLocked(until: until) }
        let id = try row.decode(Int64.self, at: 12)
        let lastUsed = try row.decode(Date?.self, at: 13)
        if lastUsed.map({ Date().timeIntervalSince($0) > 60 }) ?? true {
            try await self.client.query("UPDATE api_tokens SET last_used_at = now() WHERE id = \(id)")
        }
        return (user, id)
    }
}
