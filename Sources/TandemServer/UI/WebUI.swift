import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import NIOCore
import Postgres
import TandemConfig
public import TandemQueue
import TandemStore

/// The web UI under `/ui`: server-rendered HTML (built with `HTML`, every value escaped), one stylesheet and one tiny
/// script, no external resources. It logs in with the same sessions as the API (cookie `tandem_session`), carries the
/// session's CSRF token in a hidden field of every form and checks it on every POST, and shows each user only what
/// their roles allow (the same `Capability` matrix as the API, enforced again on every request).
public struct WebUI: Sendable {
    public let api: AdminAPI
    public let queue: JobQueue

    public init(api: AdminAPI, queue: JobQueue) {
        self.api = api
        self.queue = queue
    }

    var postgres: PostgresClient { self.api.postgres }
    var auth: AuthStore { self.api.auth }
    var config: ConfigStore { self.api.config }

    /// The largest form accepted.
    static let maximumFormBytes = 1 << 20
    static let csrfField = "_csrf"

    /// Adds the UI's routes to `router` (and `GET /` → `/ui`).
    public func register(on router: Router<APIContext>) {
        router.get("/") { _, _ in Self.redirect("/ui") }
        router.get("/ui/app.css") { _, _ in Self.asset(UIAssets.stylesheet, type: "text/css; charset=utf-8") }
        router.get("/ui/app.js") { _, _ in Self.asset(UIAssets.script, type: "text/javascript; charset=utf-8") }
        router.get("/ui/login") { request, _ in
            let next = request.uri.queryParameters["next"].map(String.init)
            return Self.html(Self.loginPage(username: "", error: nil, next: next))
        }
        router.post("/ui/login") { request, context in try await self.login(request, context: context) }
        router.post("/ui/logout") { request, context in
            try await self.action(request, context, .account) { _, session, _ in
                try await self.auth.deleteSession(id: session.id)
                var response = Self.redirect("/ui/login")
                response.headers[.setCookie] = "\(APIMiddleware.sessionCookie)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
                return response
            }
        }
        self.registerDashboard(on: router)
        self.registerConfiguration(on: router)
        self.registerJSONEditor(on: router)
        self.registerAudit(on: router)
        self.registerOperations(on: router)
    }

    // MARK: - Sessions

    /// The logged-in session of a UI request.
    struct Session: Sendable {
        var id: String
        var user: UserRecord
        var csrfToken: String
    }

    /// Why a request was not served: each becomes a page (or a redirect to the login page).
    struct Refusal: Error {
        var status: HTTPResponse.Status
        var title: String
        var message: String
    }

    /// The session of the request's cookie, or nil.
    func session(_ request: Request) async throws -> Session? {
        guard let id = request.cookies[APIMiddleware.sessionCookie]?.value, !id.isEmpty, id.count <= 200 else { return nil }
        do {
            guard let record = try await self.auth.session(id: id) else { return nil }
            return Session(id: id, user: record.user, csrfToken: record.csrfToken)
        } catch is AccountLocked {
            return nil  // as logged out while the lock lasts: the login page says the account is locked
        }
    }

    /// Serves a page that needs `capability`: not logged in → the login page (coming back here after), lacking it → 403.
    func page(
        _ request: Request, _ context: APIContext, _ capability: Capability,
        _ body: (Session) async throws -> Response
    ) async throws -> Response {
        do {
            guard let session = try await self.session(request) else {
                let target = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
                return Self.redirect("/ui/login?next=" + HTML.urlComponent(target))
            }
            guard session.user.has(capability) else {
                throw Refusal(status: .forbidden, title: "Not allowed", message: Self.forbiddenMessage(capability))
            }
            do {
                var response = try await body(session)
                // The flash message has been shown: forget it.
                if request.cookies[Self.flashCookie] != nil, response.status == .ok, response.headers[.setCookie] == nil {
                    response.headers[.setCookie] = "\(Self.flashCookie)=; Path=/ui; Max-Age=0; HttpOnly; SameSite=Strict"
                }
                return response
            } catch let refusal as Refusal {
                return Self.html(self.errorPage(refusal, session: session), status: refusal.status)
            } catch {
                return self.failure(error, context: context, session: session)
            }
        } catch let refusal as Refusal {
            return Self.html(self.errorPage(refusal, session: nil), status: refusal.status)
        } catch {
            return self.failure(error, context: context, session: nil)
        }
    }

    /// Serves a form's POST that needs `capability`: the session and its CSRF token are checked before anything is read
    /// or changed (a missing or forged token → 403, nothing changes).
    func action(
        _ request: Request, _ context: APIContext, _ capability: Capability,
        _ body: (FormData, Session, Request) async throws -> Response
    ) async throws -> Response {
        try await self.page(request, context, .account) { session in
            let form = try await FormData.read(request, context: context)
            guard let sent = form.first(Self.csrfField), APIMiddleware.constantTimeEqual(sent, session.csrfToken) else {
                throw Refusal(
                    status: .forbidden, title: "Form expired",
                    message: "The form's security token did not match your session, so nothing was changed. Reload the page and try again.")
            }
            guard session.user.has(capability) else {
                throw Refusal(status: .forbidden, title: "Not allowed", message: Self.forbiddenMessage(capability))
            }
            return try await body(form, session, request)
        }
    }

    static func forbiddenMessage(_ capability: Capability) -> String {
        let roles = capability.allowed.sorted().map(\.rawValue).joined(separator: ", ")
        return "This needs the '\(capability.rawValue)' permission, which the roles \(roles) grant. Ask an administrator."
    }

    /// An unexpected error as a page: the database's absence as 503, anything else logged and shown without details.
    func failure(_ error: any Error, context: APIContext, session: Session?) -> Response {
        let refusal: Refusal
        switch error {
        case let error as AdminError where error.kind == .notFound:
            refusal = Refusal(status: .notFound, title: "Not found", message: error.message)
        case let error as AdminError:
            refusal = Refusal(status: error.kind == .unavailable ? .serviceUnavailable : .conflict, title: "Not done", message: error.description)
        case let error as PostgresError where error.kind == .connection || error.kind == .poolClosed:
            context.logger.warning("Database unavailable", metadata: ["tandem.error": "\(error)"])
            refusal = Refusal(status: .serviceUnavailable, title: "Database unavailable", message: "The database did not answer; try again shortly.")
        case is NIOTooManyBytesError:
            refusal = Refusal(status: .contentTooLarge, title: "Too large", message: "The form is larger than the server accepts.")
        default:
            context.logger.error("Unexpected error in the web UI", metadata: ["tandem.error": "\(String(reflecting: error))"])
            refusal = Refusal(
                status: .internalServerError, title: "Something went wrong",
                message: "An unexpected error occurred; the server's log has the details.")
        }
        return Self.html(self.errorPage(refusal, session: session), status: refusal.status)
    }

    func login(_ request: Request, context: APIContext) async throws -> Response {
        let form: FormData
        do {
            form = try await FormData.read(request, context: context)
        } catch {
            return Self.html(Self.loginPage(username: "", error: "The form could not be read.", next: nil), status: .badRequest)
        }
        let username = String((form.first("username") ?? "").prefix(200))
        let password = String((form.first("password") ?? "").prefix(4096))
        let next = Self.safeNext(form.first("next"))
        do {
            switch try await self.auth.login(username: username, password: password) {
            case .success(let user):
                let session = try await self.auth.createSession(for: user, userAgent: request.headers[.userAgent])
                var response = Self.redirect(next ?? "/ui")
                let maxAge = max(0, Int(session.expiresAt.timeIntervalSinceNow))
                response.headers[.setCookie] =
                    "\(APIMiddleware.sessionCookie)=\(session.id); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict\(self.api.secureCookies ? "; Secure" : "")"
                return response
            case .rejected, .locked:
                let logged = AuthStore.usernameProblem(username) == nil ? username : "(not a user name)"
                context.logger.info("Login failed", metadata: ["tandem.user": "\(logged)"])
                let policy = try await self.auth.policy()
                return Self.html(
                    Self.loginPage(
                        username: username,
                        error:
                            "Wrong user name or password, or the account is locked (after \(policy.maxFailedLogins) failed attempts in a row, for \(policy.lockoutSeconds / 60) minutes).",
                        next: next), status: .unauthorized)
            }
        } catch {
            return self.failure(error, context: context, session: nil)
        }
    }

    /// Only local paths under /ui are followed after logging in.
    static func safeNext(_ next: String?) -> String? {
        guard let next, next.hasPrefix("/ui"), !next.hasPrefix("//"), !next.contains("\\"), next.count < 2000 else { return nil }
        return next
    }

    // MARK: - Responses

    static func html(_ page: HTML, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                HTTPField.Name("Content-Security-Policy")!:
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                HTTPField.Name("Referrer-Policy")!: "same-origin",
            ],
            body: .init(byteBuffer: ByteBuffer(string: "<!doctype html>\n" + page.text)))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=31536000, immutable"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static let flashCookie = "tandem_flash"

    /// A redirect whose next page shows `notice` once (an error when `isProblem`). The message travels in a short-lived
    /// cookie, not in the address, so that a link cannot make the UI say something it did not.
    static func redirect(_ path: String, notice: String, isProblem: Bool = false) -> Response {
        var response = Self.redirect(path)
        response.headers[.setCookie] =
            "\(Self.flashCookie)=\(isProblem ? "e" : "n")\(HTML.urlComponent(String(notice.prefix(1500)))); Path=/ui; Max-Age=120; HttpOnly; SameSite=Strict"
        return response
    }

    /// The message a redirect left for this page.
    static func flash(_ request: Request) -> (notice: String?, problem: String?) {
        guard let raw = request.cookies[Self.flashCookie]?.value, raw.count > 1, raw.count < 6000,
            let text = String(raw.dropFirst()).removingPercentEncoding
        else { return (nil, nil) }
        return raw.hasPrefix("e") ? (nil, text) : (text, nil)
    }
}

/// A submitted form (`application/x-www-form-urlencoded`), or a GET's query: names to values, repeated names kept.
struct FormData: Sendable {
    var pairs: [(String, String)]

    init(pairs: [(String, String)]) { self.pairs = pairs }

    static func read(_ request: Request, context: APIContext) async throws -> FormData {
        do {
            let buffer = try await RequestBody.collect(request, upTo: WebUI.maximumFormBytes, logger: context.logger)
            return FormData(urlEncoded: String(buffer: buffer))
        } catch let error as RequestBody.Unreadable {
            throw WebUI.Refusal(status: .badRequest, title: "Form not read", message: "The form could not be read: \(error.reason).")
        }
    }

    init(urlEncoded text: String) {
        self.pairs = text.split(separator: "&", omittingEmptySubsequences: true).map { part in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let plus = s.replacingOccurrences(of: "+", with: " ")
                return plus.removingPercentEncoding ?? plus
            }
            return (decode(kv[0]), kv.count > 1 ? decode(kv[1]) : "")
        }
    }

    func first(_ name: String) -> String? { self.pairs.first { $0.0 == name }?.1 }
    func all(_ name: String) -> [String] { self.pairs.filter { $0.0 == name }.map(\.1) }
    /// The trimmed value, nil when absent or blank.
    func text(_ name: String) -> String? {
        guard let value = self.first(name)?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }
    func has(_ name: String) -> Bool { self.pairs.contains { $0.0 == name } }
}

extension Request {
    /// A query parameter, trimmed; nil when absent or blank.
    func query(_ name: String) -> String? {
        guard let value = self.uri.queryParameters[Substring(name)]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return String(value.prefix(500))
    }
}
