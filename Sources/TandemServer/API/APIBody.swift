import Foundation
public import Hummingbird
import NIOCore
public import TandemConfig
public import TandemCore
public import TandemStore

/// Reading request bodies: JSON only, at most 1 MiB, every problem a 4xx naming the member and the reason.
public enum APIBody {
    public static let maximumBytes = 1 << 20

    /// The body as JSON. No body, or an empty one, is an empty object when `emptyIsObject` (for actions whose body is
    /// optional); otherwise 422.
    public static func json(_ request: Request, context: APIContext, emptyIsObject: Bool = false) async throws -> JSONNode {
        if let type = request.headers[.contentType], !type.isEmpty {
            let mediaType = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            if mediaType != "application/json" && !mediaType.hasSuffix("+json") {
                throw APIError(.unsupportedMediaType, code: "unsupported_media_type", "send the body as application/json (got \(mediaType))")
            }
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > Self.maximumBytes {
            throw Self.tooLarge
        }
        let buffer: ByteBuffer
        do {
            buffer = try await RequestBody.collect(request, upTo: Self.maximumBytes, logger: context.logger)
        } catch is NIOTooManyBytesError {
            throw Self.tooLarge
        } catch let error as RequestBody.Unreadable {
            throw APIError(.badRequest, code: "unreadable_body", field: "", error.description)
        }
        if buffer.readableBytes == 0 || buffer.readableBytesView.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) {
            if emptyIsObject { return .object([]) }
            throw APIError(.unprocessableContent, code: "invalid_body", field: "", "the body is empty; expected a JSON object")
        }
        let json: JSONNode
        do {
            json = try JSONNode.parse(buffer.readableBytesView)
        } catch {
            throw APIError(.badRequest, code: "malformed_json", field: "", error.description)
        }
        if let path = Self.nulPath(json, at: "") { throw Self.nul(path) }
        return json
    }

    /// The path (as `field` names it: `fields[0].name`) of the first string or member name holding a NUL character,
    /// which no text Tandem stores can hold; the OpenAPI document's strings exclude it too.
    static func nulPath(_ node: JSONNode, at path: String) -> String? {
        switch node {
        case .string(let text): return text.unicodeScalars.contains("\u{0}") ? path : nil
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let found = Self.nulPath(item, at: "\(path)[\(index)]") { return found }
            }
        case .object(let members):
            for member in members {
                let child = path.isEmpty ? member.key : "\(path).\(member.key)"
                if member.key.unicodeScalars.contains("\u{0}") { return path }
                if let found = Self.nulPath(member.value, at: child) { return found }
            }
        default: break
        }
        return nil
    }

    static func nul(_ field: String) -> APIError {
        APIError.invalid(field, "must not contain a NUL character (U+0000): text cannot hold it")
    }

    static var tooLarge: APIError {
        APIError(.contentTooLarge, code: "body_too_large", "the body is larger than \(Self.maximumBytes) bytes (1 MiB)")
    }

    /// Turns the store's and the configuration's refusals into API errors.
    public static func apiError(_ error: AdminError) -> APIError {
        switch error.kind {
        case .notFound: return APIError(.notFound, code: "not_found", field: error.field, error.message)
        case .conflict: return APIError(.conflict, code: "conflict", field: error.field, error.message)
        case .invalid: return APIError(.unprocessableContent, code: "invalid_field", field: error.field, error.message)
        case .unavailable: return APIError(.serviceUnavailable, code: "unavailable", field: error.field, error.message)
        }
    }
}

/// A JSON object body with a closed set of members, read field by field; the first problem throws a 422 naming it.
public struct BodyObject: Sendable {
    public let members: [String: JSONNode]
    public let path: String

    public init(_ node: JSONNode, path: String = "", allowed: [String], required: [String] = []) throws {
        guard case .object(let list) = node else {
            throw APIError.invalid(path, "expected a JSON object, found \(node.typeDescription)")
        }
        var members: [String: JSONNode] = [:]
        for member in list {
            let memberPath = path.isEmpty ? member.key : "\(path).\(member.key)"
            guard allowed.contains(member.key) else {
                throw APIError.invalid(memberPath, "unknown member '\(member.key)' (allowed: \(allowed.joined(separator: ", ")))")
            }
            if members[member.key] != nil { throw APIError.invalid(memberPath, "'\(member.key)' appears twice") }
            members[member.key] = member.value
        }
        for key in required where members[key] == nil {
            throw APIError.invalid(path.isEmpty ? key : "\(path).\(key)", "required member '\(key)' is missing")
        }
        self.members = members
        self.path = path
    }

    func child(_ key: String) -> String { self.path.isEmpty ? key : "\(self.path).\(key)" }

    public func has(_ key: String) -> Bool { self.members[key] != nil }

    public func string(_ key: String, minLength: Int = 0, maxLength: Int = 1000) throws -> String? {
        guard let value = self.members[key] else { return nil }
        guard case .string(let text) = value else { throw APIError.invalid(self.child(key), "expected a string, found \(value.typeDescription)") }
        // Lengths count Unicode code points, as JSON Schema's minLength and maxLength do.
        if text.unicodeScalars.count < minLength {
            throw APIError.invalid(self.child(key), minLength == 1 ? "must not be empty" : "must be at least \(minLength) characters long")
        }
        if text.unicodeScalars.count > maxLength { throw APIError.invalid(self.child(key), "must be at most \(maxLength) characters long") }
        return text
    }

    /// A string that may be null (to clear it): `.some(nil)` for null.
    public func nullableString(_ key: String, maxLength: Int = 1000) throws -> String?? {
        guard let value = self.members[key] else { return nil }
        if case .null = value { return .some(nil) }
        return .some(try self.string(key, maxLength: maxLength))
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let value = self.members[key] else { return nil }
        guard case .bool(let flag) = value else { throw APIError.invalid(self.child(key), "expected true or false, found \(value.typeDescription)") }
        return flag
    }

    public func int(_ key: String, range: ClosedRange<Int>) throws -> Int? {
        guard let value = self.members[key] else { return nil }
        guard let number = value.integerValue else {
            throw APIError.invalid(self.child(key), "expected an integer, found \(value.typeDescription)")
        }
        guard range.contains(number) else {
            throw APIError.invalid(self.child(key), "\(number) is out of range: must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return number
    }

    public func roles(_ key: String) throws -> [Role]? {
        guard let value = self.members[key] else { return nil }
        guard case .array(let items) = value else {
            throw APIError.invalid(self.child(key), "expected an array of roles, found \(value.typeDescription)")
        }
        return try items.enumerated().map { index, item in
            guard case .string(let name) = item, let role = Role(rawValue: name) else {
                throw APIError.invalid(
                    "\(self.child(key))[\(index)]",
                    "\(item == .null ? "null" : item.text) is not a role (roles: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return role
        }
    }
}

/// Query parameters, checked.
public enum QueryValue {
    public static func int(_ request: Request, _ name: String, range: ClosedRange<Int>) throws -> Int? {
        guard let text = request.uri.queryParameters[name[...]].map(String.init) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.invalid(name, "'\(text)' is not an integer between \(range.lowerBound) and \(range.upperBound)")
        }
        return value
    }

    public static func string(_ request: Request, _ name: String, maxLength: Int = 200) throws -> String? {
        guard let text = request.uri.queryParameters[name[...]].map(String.init) else { return nil }
        if text.isEmpty { throw APIError.invalid(name, "must not be empty (leave the parameter out instead)") }
        if text.unicodeScalars.count > maxLength { throw APIError.invalid(name, "must be at most \(maxLength) characters long") }
        if text.unicodeScalars.contains("\u{0}") { throw APIBody.nul(name) }
        return text
    }
}
