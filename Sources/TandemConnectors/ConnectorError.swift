public import Foundation
public import HTTP

/// A connector operation's failure, classified for the worker: `kind` says what to do (retry, record a
/// failed activity, or raise a blocker for a person), `pauseUntil` when to call the repository again.
/// Messages carry the repository's own words where it gave some, never a credential.
public struct ConnectorError: Error, Sendable, CustomStringConvertible {
    /// A bounded set of causes (usable as a metric label).
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { self.rawValue }

        /// The artifact was deleted (or retired): report it as gone, do not retry.
        public static let artifactGone = Code(rawValue: "artifact-gone")
        public static let notFound = Code(rawValue: "not-found")
        public static let projectNotFound = Code(rawValue: "project-not-found")
        /// 401: the repository rejected the credentials (needs attention).
        public static let credentialsRejected = Code(rawValue: "credentials-rejected")
        /// 403: the credentials lack a permission (needs attention).
        public static let permissionDenied = Code(rawValue: "permission-denied")
        public static let proxyCredentialsRejected = Code(rawValue: "proxy-credentials-rejected")
        public static let insecureConnection = Code(rawValue: "insecure-connection")
        public static let misconfigured = Code(rawValue: "misconfigured")
        /// 422 and similar: the repository refused the values, with its messages.
        public static let validation = Code(rawValue: "validation")
        public static let conflict = Code(rawValue: "conflict")
        public static let rateLimited = Code(rawValue: "rate-limited")
        /// Network trouble, timeouts, 5xx.
        public static let unavailable = Code(rawValue: "unavailable")
        public static let invalidResponse = Code(rawValue: "invalid-response")
        public static let unsupported = Code(rawValue: "unsupported")
        public static let invalidArgument = Code(rawValue: "invalid-argument")
    }

    public var code: Code
    public var kind: FailureKind
    public var message: String
    public var status: Int?
    public var pauseUntil: Date?
    /// The HTTP-level cause, when there was one.
    public var httpCode: HTTPError.Code?
    /// The repository (by configured name) whose connection failed, when the caller knows it.
    public var repository: String?

    public init(
        _ code: Code, kind: FailureKind, message: String, status: Int? = nil, pauseUntil: Date? = nil,
        httpCode: HTTPError.Code? = nil
    ) {
        self.code = code
        self.kind = kind
        self.message = message
        self.status = status
        self.pauseUntil = pauseUntil
        self.httpCode = httpCode
    }

    /// Maps a classified HTTP failure; `tool` names the repository kind in the message.
    public init(_ error: HTTPError, tool: String) {
        let code: Code
        var message = error.message
        switch error.code {
        case .unauthorized:
            code = .credentialsRejected
            message = "\(tool) rejected the credentials: \(error.message)"
        case .forbidden:
            code = .permissionDenied
            message = "\(tool) denied permission: \(error.message)"
        case .proxyAuthentication: code = .proxyCredentialsRejected
        case .notFound: code = .notFound
        case .validation, .badRequest: code = .validation
        case .conflict, .preconditionFailed: code = .conflict
        case .rateLimited: code = .rateLimited
        case .insecureConnection, .clientCertificate: code = .insecureConnection
        case .invalidSettings: code = .misconfigured
        case .invalidResponse, .responseTooLarge: code = .invalidResponse
        default: code = error.kind == .permanent ? .invalidResponse : .unavailable
        }
        if let request = error.request, code != .credentialsRejected { message += " (\(request))" }
        self.init(code, kind: error.kind, message: message, status: error.status, pauseUntil: error.pauseUntil, httpCode: error.code)
    }

    public var description: String {
        var text = "\(self.kind.rawValue) \(self.code)"
        if let status = self.status { text += " (HTTP \(status))" }
        text += ": \(self.message)"
        if let until = self.pauseUntil { text += " [pause until \(until.ISO8601Format())]" }
        return text
    }

    public static func gone(_ id: String, tool: String) -> ConnectorError {
        ConnectorError(.artifactGone, kind: .permanent, message: "\(tool) artifact \(id) no longer exists")
    }

    public static func invalidArgument(_ message: String) -> ConnectorError {
        ConnectorError(.invalidArgument, kind: .permanent, message: message)
    }

    public static func unsupported(_ message: String) -> ConnectorError {
        ConnectorError(.unsupported, kind: .permanent, message: message)
    }

    static func invalidResponse(_ error: HTTPError, tool: String) -> ConnectorError { ConnectorError(error, tool: tool) }
}
