public import Foundation

/// What the caller should do about a failure.
public enum FailureKind: String, Sendable, Hashable, Codable {
    /// Try again later (backoff; the repository may also be paused until `HTTPError.pauseUntil`).
    case transient
    /// This operation will not succeed as it is (bad data, item missing): record a failed activity.
    case permanent
    /// Configuration or credentials must be fixed by a person: a blocker for the repository connection.
    case needsAttention = "needs-attention"
}

/// A failed HTTP exchange, classified. Its description carries the repository's own message (when it gave
/// one) but never a credential: request URLs are redacted and header values are not included.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    /// A bounded set of causes, usable as a metric label.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { self.rawValue }

        // Transport
        public static let unreachable = Code(rawValue: "unreachable")
        public static let timeout = Code(rawValue: "timeout")
        public static let connectionLost = Code(rawValue: "connection-lost")
        public static let insecureConnection = Code(rawValue: "insecure-connection")
        public static let clientCertificate = Code(rawValue: "client-certificate")
        public static let invalidSettings = Code(rawValue: "invalid-settings")
        public static let responseTooLarge = Code(rawValue: "response-too-large")
        public static let transport = Code(rawValue: "transport")
        // Status
        public static let badRequest = Code(rawValue: "bad-request")
        public static let unauthorized = Code(rawValue: "unauthorized")
        public static let forbidden = Code(rawValue: "forbidden")
        public static let notFound = Code(rawValue: "not-found")
        public static let proxyAuthentication = Code(rawValue: "proxy-authentication")
        public static let conflict = Code(rawValue: "conflict")
        public static let preconditionFailed = Code(rawValue: "precondition-failed")
        public static let validation = Code(rawValue: "validation")
        public static let rateLimited = Code(rawValue: "rate-limited")
        public static let serverError = Code(rawValue: "server-error")
        public static let unexpectedStatus = Code(rawValue: "unexpected-status")
        // Body
        public static let invalidResponse = Code(rawValue: "invalid-response")
    }

    public var code: Code
    public var kind: FailureKind
    /// The HTTP status, when a response arrived.
    public var status: Int?
    /// The repository's own message (from a JSON error body or an HTML page's title), or ours.
    public var message: String
    /// The request as `METHOD url` with secrets redacted.
    public var request: String?
    /// Pause every call to this repository until then (from `Retry-After`, `X-RateLimit-Reset`, ...).
    public var pauseUntil: Date?

    public init(
        _ code: Code, kind: FailureKind, status: Int? = nil, message: String, request: String? = nil,
        pauseUntil: Date? = nil
    ) {
        self.code = code
        self.kind = kind
        self.status = status
        self.message = message
        self.request = request
        self.pauseUntil = pauseUntil
    }

    public var description: String {
        var text = "\(self.kind.rawValue) \(self.code)"
        if let status = self.status { text += " (HTTP \(status))" }
        if let request = self.request { text += " on \(request)" }
        text += ": \(self.message)"
        if let until = self.pauseUntil { text += " [pause until \(until.ISO8601Format())]" }
        return text
    }

    /// An unexpected or malformed body (HTML where JSON was expected, truncated or wrong-typed JSON).
    public static func invalidResponse(_ message: String, status: Int? = nil, request: String? = nil) -> HTTPError {
        HTTPError(.invalidResponse, kind: .permanent, status: status, message: message, request: request)
    }
}
