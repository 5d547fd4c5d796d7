import Foundation
public import HTTP

/// How a connector authenticates. Held in memory only (the store keeps it encrypted at rest); its
/// descriptions never show a secret, and no error or log line includes one.
public enum Credentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// HTTP Basic (`Authorization: Basic …`).
    case basic(username: String, password: Secret)
    /// An API key in a header (`X-Redmine-API-Key: …`).
    case apiKeyHeader(name: String, key: Secret)
    /// An API key as a query parameter (`?key=…`); redacted from every logged URL.
    case apiKeyParameter(name: String, key: Secret)
    /// `Authorization: Token …` (personal access tokens of some tools).
    case token(Secret)
    /// `Authorization: Bearer …`.
    case bearer(Secret)
    case none

    public var description: String {
        switch self {
        case .basic(let username, _): "basic(\(username), <redacted>)"
        case .apiKeyHeader(let name, _): "api-key header \(name) <redacted>"
        case .apiKeyParameter(let name, _): "api-key parameter \(name) <redacted>"
        case .token: "token <redacted>"
        case .bearer: "bearer <redacted>"
        case .none: "none"
        }
    }

    public var debugDescription: String { "Credentials.\(self.description)" }
    public var customMirror: Mirror { Mirror(self, children: []) }

    /// The user name, when the credentials have one.
    public var username: String? {
        if case .basic(let username, _) = self { return username }
        return nil
    }

    /// Adds the credentials to a request (header, or query parameter marked sensitive).
    public func apply(to request: inout HTTPRequest) {
        switch self {
        case .basic(let username, let password):
            let token = Data("\(username):\(password.revealed)".utf8).base64EncodedString()
            request.setHeader("Authorization", "Basic \(token)", sensitive: true)
        case .apiKeyHeader(let name, let key):
            request.setHeader(name, key.revealed, sensitive: true)
        case .apiKeyParameter(let name, let key):
            request.url = request.url.appending(queryItems: [.init(name: name, value: key.revealed)])
            request.sensitiveQueryItems.insert(name)
        case .token(let token):
            request.setHeader("Authorization", "Token \(token.revealed)", sensitive: true)
        case .bearer(let token):
            request.setHeader("Authorization", "Bearer \(token.revealed)", sensitive: true)
        case .none:
            break
        }
    }
}
