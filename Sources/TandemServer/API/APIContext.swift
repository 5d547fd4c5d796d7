import Foundation
public import Hummingbird
public import TandemStore

/// Who is calling: a user, through an API token or a web session.
public struct Principal: Sendable, Hashable {
    public enum Method: Sendable, Hashable {
        case token(id: Int64)
        /// The session's cookie value and its CSRF token.
        case session(id: String, csrfToken: String)
    }
    public var user: UserRecord
    public var method: Method

    /// The name written to the audit log.
    public var actor: String { self.user.username }
}

/// The request context of the server: Hummingbird's core storage plus the authenticated caller, set by
/// `AuthenticationMiddleware`.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?
    /// Why credentials that were sent did not authenticate (expired session, revoked token), for the 401's message.
    public var authenticationProblem: APIError?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.principal = nil
        self.authenticationProblem = nil
    }

    /// Bodies above this size are refused with 413 before they are read in full.
    public var maxUploadSize: Int { APIBody.maximumBytes }
}
