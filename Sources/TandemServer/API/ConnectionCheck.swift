public import TandemConfig
public import TandemConnectors
public import TandemCore

/// A connection test's answer, as the API (v1 and v2) and the web UI give it: one outcome of a fixed set, in Tandem's
/// own words, with the HTTP status at most. Never what the remote host said — neither its body nor its headers nor the
/// user it names: whoever may edit a repository could otherwise point it at any host Tandem can reach and read that
/// host's answers through the test (issue 14).
public struct ConnectionCheck: Sendable, Equatable {
    public enum Outcome: String, Sendable, CaseIterable {
        case ok
        /// No answer: refused, unresolvable, timed out, the connection dropped.
        case unreachable
        /// The TLS handshake failed (certificate not trusted, wrong name, protocol).
        case tls
        /// 401: the credentials were rejected.
        case authRejected = "auth-rejected"
        /// 403: the credentials were accepted but lack a permission.
        case permissionDenied = "permission-denied"
        /// 407: the proxy rejected its credentials.
        case proxyAuthRejected = "proxy-auth-rejected"
        /// 404 where the tracker's API should be: the URL is likely wrong.
        case notFound = "not-found"
        /// The server answered and accepted the credentials, but has no such project.
        case projectNotFound = "project-not-found"
        /// 429, or a 403 that says so.
        case rateLimited = "rate-limited"
        /// 5xx.
        case serverError = "server-error"
        /// An answer the tracker's API does not give (not JSON, another shape, another status).
        case unexpectedAnswer = "unexpected-answer"
        /// The settings cannot form a connection (a malformed URL or proxy, say).
        case misconfigured
        /// No connector for this tracker type.
        case unsupported

        /// What it means, in Tandem's words.
        public var meaning: String {
            switch self {
            case .ok: "the server answered and accepted the credentials"
            case .unreachable: "the server could not be reached (refused, unknown host, or no answer in time)"
            case .tls: "the secure connection failed (certificate or TLS protocol)"
            case .authRejected: "the server rejected the credentials"
            case .permissionDenied: "the server accepted the credentials but denied access"
            case .proxyAuthRejected: "the proxy rejected its credentials"
            case .notFound: "the server has no tracker API at this URL"
            case .projectNotFound: "the server accepted the credentials, but the project was not found"
            case .rateLimited: "the server is limiting requests; try again later"
            case .serverError: "the server answered with an error of its own"
            case .unexpectedAnswer: "the server's answer is not one the tracker's API gives"
            case .misconfigured: "the connection settings cannot be used"
            case .unsupported: "Tandem has no connector for this tracker type yet"
            }
        }
    }

    public var outcome: Outcome
    /// The status of the answer that decided the outcome, when there was one.
    public var httpStatus: Int?
    /// Whether a project was asked about (then `projectFound` says whether it was found).
    public var projectChecked: Bool

    public init(_ outcome: Outcome, httpStatus: Int? = nil, projectChecked: Bool = false) {
        self.outcome = outcome
        self.httpStatus = httpStatus
        self.projectChecked = projectChecked
    }

    /// The connector's result, classified: only its codes and status are read, never its messages.
    public init(_ result: ConnectionTestResult, projectChecked: Bool) {
        self.projectChecked = projectChecked
        self.httpStatus = result.error?.status
        if result.success {
            self.outcome = .ok
        } else if let error = result.error {
            self.outcome = Self.outcome(of: error)
        } else if !result.reachable {
            self.outcome = .unreachable
        } else if !result.authenticated {
            self.outcome = .authRejected
        } else if result.projectFound == false {
            self.outcome = .projectNotFound
        } else {
            self.outcome = .unexpectedAnswer
        }
    }

    /// A connector's refusal, classified.
    public init(_ error: ConnectorError, projectChecked: Bool) {
        self.init(Self.outcome(of: error), httpStatus: error.status, projectChecked: projectChecked)
    }

    static func outcome(of error: ConnectorError) -> Outcome {
        switch error.code {
        case .credentialsRejected: .authRejected
        case .permissionDenied: .permissionDenied
        case .proxyCredentialsRejected: .proxyAuthRejected
        case .insecureConnection: .tls
        case .misconfigured: .misconfigured
        case .notFound, .artifactGone: .notFound
        case .projectNotFound: .projectNotFound
        case .rateLimited: .rateLimited
        case .unavailable: error.status == nil ? .unreachable : .serverError
        case .unsupported: .unsupported
        default: .unexpectedAnswer
        }
    }

    public var success: Bool { self.outcome == .ok }
    public var reachable: Bool { ![.unreachable, .tls, .misconfigured, .unsupported].contains(self.outcome) }
    /// Known only when the server said so: it answered a call that needs the credentials.
    public var authenticated: Bool { self.outcome == .ok || self.outcome == .projectNotFound }
    public var projectFound: Bool? {
        guard self.projectChecked else { return nil }
        if self.outcome == .ok { return true }
        return self.outcome == .projectNotFound ? false : nil
    }

    /// The outcome's meaning, with the HTTP status.
    public var message: String { self.outcome.meaning + (self.httpStatus.map { " (HTTP \($0))" } ?? "") }

    /// `/api/v1/repositories/{name}/test`'s answer.
    public var json: JSONNode {
        .object([
            "outcome": .string(self.outcome.rawValue), "success": .bool(self.success), "reachable": .bool(self.reachable),
            "authenticated": .bool(self.authenticated), "projectFound": self.projectFound.map(JSONNode.bool),
            "httpStatus": self.httpStatus.map(JSONNode.int), "message": .string(self.message),
        ])
    }
}
