public import Hummingbird
public import TandemConfig
public import TandemCore

/// Every 4xx and 5xx answer of the API: `{"error": {"status": 422, "code": "invalid_field", "field": "roles[1]",
/// "message": "..."}}`. `field` names the offending member of the body (or the query or path parameter) when there is
/// one; `details` lists further problems found at the same time.
public struct APIError: HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var field: String?
    public var message: String
    public var details: [JSONNode] = []
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: String, field: String? = nil, _ message: String) {
        self.status = status
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String { "\(self.status.code) \(self.code)\(self.field.map { " \($0)" } ?? ""): \(self.message)" }

    public var json: JSONNode {
        var members: [JSONNode.Member] = [.init("status", .int(self.status.code)), .init("code", .string(self.code))]
        if let field { members.append(.init("field", .string(field))) }
        members.append(.init("message", .string(self.message)))
        if !self.details.isEmpty { members.append(.init("details", .array(self.details))) }
        return .object(["error": .object(members)])
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = APIResponse.json(self.json, status: self.status)
        for field in self.headers { response.headers.append(field) }
        return response
    }

    // MARK: Common errors

    public static func unauthenticated(_ message: String = "log in (POST /api/v1/session) or send 'Authorization: Token <token>'") -> APIError {
        var error = APIError(.unauthorized, code: "unauthenticated", message)
        error.headers[.wwwAuthenticate] = "Token"
        return error
    }

    public static func invalid(_ field: String?, _ message: String) -> APIError {
        APIError(.unprocessableContent, code: "invalid_field", field: field, message)
    }

    public static func notFound(_ message: String) -> APIError { APIError(.notFound, code: "not_found", message) }
}

/// JSON answers.
public enum APIResponse {
    public static func json(_ node: JSONNode, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store", .xContentTypeOptions: "nosniff"],
            body: .init(byteBuffer: ByteBuffer(string: node.text)))
    }

    public static func noContent() -> Response { Response(status: .noContent, headers: [.cacheControl: "no-store"]) }
}
