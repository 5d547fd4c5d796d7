import Foundation
public import Hummingbird
public import TandemStore

/// One API operation: its method and path (OpenAPI style, `{name}` for parameters), the capability it needs (nil: no
/// authentication, e.g. logging in), and its handler. The list of endpoints drives the router, the 405 answers, the
/// authorization matrix test and the check that the OpenAPI document describes every operation.
public struct Endpoint: Sendable {
    public var method: HTTPRequest.Method
    public var path: String
    public var capability: Capability?
    let handler: @Sendable (Request, APIContext) async throws -> Response

    public init(
        _ method: HTTPRequest.Method, _ path: String, _ capability: Capability?,
        _ handler: @escaping @Sendable (Request, APIContext) async throws -> Response
    ) {
        self.method = method
        self.path = path
        self.capability = capability
        self.handler = handler
    }

    /// The path in Hummingbird's syntax (`:name`).
    var routerPath: String {
        self.path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? ":" + segment.dropFirst().dropLast() : String(segment)
        }.joined(separator: "/")
    }

    /// Whether `path` (a request's) fits this endpoint's template.
    func matches(path: String) -> Bool {
        let template = self.path.split(separator: "/")
        let actual = path.split(separator: "/")
        guard template.count == actual.count else { return false }
        return zip(template, actual).allSatisfy { t, a in (t.hasPrefix("{") && t.hasSuffix("}")) || t == a }
    }

    /// Checks the caller's capability, then runs the handler.
    func respond(_ request: Request, context: APIContext) async throws -> Response {
        if let capability = self.capability {
            guard let principal = context.principal else {
                throw context.authenticationProblem ?? APIError.unauthenticated()
            }
            guard principal.user.has(capability) else {
                let roles = capability.allowed.sorted().map(\.rawValue).joined(separator: ", ")
                throw APIError(.forbidden, code: "forbidden", "this needs the '\(capability.rawValue)' permission, which the roles \(roles) grant")
            }
        }
        return try await self.handler(request, context)
    }
}

extension APIContext {
    /// The authenticated caller; 401 when there is none.
    public func requirePrincipal() throws -> Principal {
        guard let principal = self.principal else { throw self.authenticationProblem ?? APIError.unauthenticated() }
        return principal
    }

    /// A path parameter (percent-decoded), 422 naming it when it is missing or empty.
    public func pathParameter(_ name: String) throws -> String {
        guard let raw = self.parameters.get(name), !raw.isEmpty else { throw APIError.invalid(name, "missing in the path") }
        let value = raw.removingPercentEncoding ?? raw
        if value.unicodeScalars.contains("\u{0}") { throw APIBody.nul(name) }
        return value
    }
}
