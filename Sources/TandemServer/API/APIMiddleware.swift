import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import NIOCore
import Postgres
import TandemConfig
import TandemCore
public import TandemStore

/// In front of `/api/v1` and `/api/v2`: authenticates the caller (an API token, or a session cookie with its CSRF token on unsafe
/// methods) and turns every error into the API's JSON error body, so that no answer under `/api/` is HTML or empty.
public struct APIMiddleware: RouterMiddleware {
    public typealias Context = APIContext

    public static let sessionCookie = "tandem_session"
    public static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    let auth: AuthStore
    let endpoints: [Endpoint]

    public init(auth: AuthStore, endpoints: [Endpoint]) {
        self.auth = auth
        self.endpoints = endpoints
    }

    public func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/api/") else { return try await next(request, context) }
        var context = context
        do {
            if path.hasPrefix("/api/v1/") || path.hasPrefix("/api/v2/"), !(path == "/api/v1/session" && request.method == .post) {
                try await self.authenticate(request, context: &context)
            }
            return try await next(request, context)
        } catch {
            return try self.translate(error, request: request, context: context).response(from: request, context: context)
        }
    }

    func authenticate(_ request: Request, context: inout APIContext) async throws {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, ["token", "bearer"].contains(parts[0].lowercased()) else {
                throw APIError.unauthenticated("the Authorization header must be 'Token <token>'")
            }
            var token = parts[1].trimmingCharacters(in: .whitespaces)
            if token.count >= 2, token.hasPrefix("\""), token.hasSuffix("\"") { token = String(token.dropFirst().dropLast()) }
            let found: (user: UserRecord, tokenID: Int64)?
            do {
                found = token.count <= 200 ? try await self.auth.authenticate(token: token) : nil
            } catch let locked as AccountLocked {
                throw Self.locked(locked)
            }
            guard let (user, id) = found else {
                throw APIError(.unauthorized, code: "invalid_token", "the API token is unknown or revoked")
            }
            context.principal = Principal(user: user, method: .token(id: id))
            return
        }
        guard let sessionID = request.cookies[Self.sessionCookie]?.value, !sessionID.isEmpty else { return }
        let found: SessionRecord?
        do {
            found = sessionID.count <= 200 ? try await self.auth.session(id: sessionID) : nil
        } catch let locked as AccountLocked {
            context.authenticationProblem = Self.locked(locked)
            return
        }
        guard let session = found else {
            context.authenticationProblem = APIError(.unauthorized, code: "session_expired", "the session has ended; log in again")
            return
        }
        if ![.get, .head, .options].contains(request.method) {
            let sent = request.headers[Self.csrfHeader] ?? ""
            guard !sent.isEmpty else {
                throw APIError(
                    .forbidden, code: "csrf_failed", field: "X-CSRF-Token", "the X-CSRF-Token header is missing (send the csrfToken of the session)")
            }
            guard Self.constantTimeEqual(sent, session.csrfToken) else {
                throw APIError(.forbidden, code: "csrf_failed", field: "X-CSRF-Token", "the X-CSRF-Token header does not match the session")
            }
        }
        context.principal = Principal(user: session.user, method: .session(id: sessionID, csrfToken: session.csrfToken))
    }

    /// A locked account's token or session: 401 saying so (the caller holds a valid credential of that account).
    static func locked(_ locked: AccountLocked) -> APIError {
        APIError(.unauthorized, code: "account_locked", locked.description)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for (p, q) in zip(x, y) { difference |= p ^ q }
        return difference == 0
    }

    /// Every error as an `APIError`; unexpected ones are logged and answered 500 without details.
    func translate(_ error: any Error, request: Request, context: APIContext) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as AdminError:
            return APIBody.apiError(error)
        case let error as ConfigError:
            var api = APIError.invalid(error.issues.first?.path, error.issues.first?.reason ?? "the configuration is not valid")
            api.details = error.issues.dropFirst().map { .object(["field": .string($0.path), "message": .string($0.reason)]) }
            return api
        case is NIOTooManyBytesError:
            return APIBody.tooLarge
        case let error as RequestBody.Unreadable:
            return APIError(.badRequest, code: "unreadable_body", field: "", error.description)
        case let error as SecretError:
            context.logger.error("Master key problem", metadata: ["tandem.error": "\(error)"])
            return APIError(.serviceUnavailable, code: "master_key", "the server cannot use the master key: \(error.description)")
        case let error as PostgresError where error.kind == .connection || error.kind == .poolClosed:
            context.logger.warning("Database unavailable", metadata: ["tandem.error": "\(error)"])
            return APIError(.serviceUnavailable, code: "database_unavailable", "the database is unavailable; try again shortly")
        case let error as PostgresError where error.kind == .encoding:
            return APIError.invalid(nil, "a value cannot be stored: \(error.message)")
        case let error as PostgresError where error.sqlState?.hasPrefix("22") == true || error.sqlState == "54000":
            return APIError.invalid(nil, "a value cannot be stored (too long or malformed): \(error.message)")
        case let error as PostgresError where error.sqlState?.hasPrefix("23") == true:
            return APIError(.conflict, code: "conflict", "the change conflicts with stored data: \(error.message)")
        case let error as HTTPError:
            if error.status == .notFound {
                // Only the most specific templates: /activity/actions is not /activity/{id}.
                let matching = self.endpoints.filter { $0.matches(path: request.uri.path) }
                let best = matching.map(\.specificity).max()
                let allowed = matching.filter { $0.specificity == best }.map(\.method.rawValue)
                if !allowed.isEmpty {
                    var api = APIError(
                        .methodNotAllowed, code: "method_not_allowed",
                        "\(request.method.rawValue) is not allowed here (allowed: \(allowed.joined(separator: ", ")))")
                    api.headers[.allow] = allowed.joined(separator: ", ")
                    return api
                }
                return APIError.notFound("no such endpoint: \(request.method.rawValue) \(request.uri.path) (see /api/openapi.json)")
            }
            return APIError(error.status, code: error.status.code < 500 ? "bad_request" : "server_error", error.body ?? error.status.reasonPhrase)
        case let error as any HTTPResponseError:
            return APIError(error.status, code: error.status.code < 500 ? "bad_request" : "server_error", error.status.reasonPhrase)
        default:
            context.logger.error("Unexpected error in the API", metadata: ["tandem.error": "\(String(reflecting: error))"])
            return APIError(.internalServerError, code: "internal_error", "an unexpected error occurred; the server's log has the details")
        }
    }
}
