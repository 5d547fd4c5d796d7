public import Foundation

/// A JSON document, decoded without a fixed schema. Accessors return nil on a type mismatch; the `require`
/// functions throw `HTTPError.invalidResponse` naming the path, so a wrong-typed answer becomes a classified
/// error rather than a crash or a silent default.
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value.rounded() == value, abs(value) < 1e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Parses a body; anything that is not JSON becomes `HTTPError.invalidResponse` with what it looked like.
    public static func parse(_ data: Data, context: String = "response") throws(HTTPError) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            let text = String(decoding: data.prefix(4096), as: UTF8.self)
            let hint = BodySummary.summarize(body: text, mediaType: nil) ?? "empty body"
            throw .invalidResponse("\(context) is not valid JSON (\(data.count) bytes): \(hint)")
        }
    }

    public func serialized() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("null".utf8)
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public subscript(index: Int) -> JSONValue? {
        if case .array(let array) = self, array.indices.contains(index) { return array[index] }
        return nil
    }

    public var string: String? { if case .string(let v) = self { v } else { nil } }
    public var double: Double? { if case .number(let v) = self { v } else { nil } }
    public var int: Int? {
        if case .number(let v) = self, v.rounded() == v, abs(v) < 9e15 { return Int(v) }
        return nil
    }
    public var bool: Bool? { if case .bool(let v) = self { v } else { nil } }
    public var array: [JSONValue]? { if case .array(let v) = self { v } else { nil } }
    public var object: [String: JSONValue]? { if case .object(let v) = self { v } else { nil } }
    public var isNull: Bool { self == .null }

    /// An id that trackers send as a number or as a string.
    public var idString: String? {
        if let int = self.int { return String(int) }
        return self.string
    }

    public func require(_ key: String, in context: String) throws(HTTPError) -> JSONValue {
        guard case .object(let object) = self else { throw .invalidResponse("\(context): expected an object") }
        guard let value = object[key] else { throw .invalidResponse("\(context): missing \"\(key)\"") }
        return value
    }

    public func requireString(_ key: String, in context: String) throws(HTTPError) -> String {
        guard let value = try self.require(key, in: context).string else {
            throw .invalidResponse("\(context): \"\(key)\" is not a string")
        }
        return value
    }

    public func requireID(_ key: String, in context: String) throws(HTTPError) -> String {
        guard let value = try self.require(key, in: context).idString else {
            throw .invalidResponse("\(context): \"\(key)\" is not an id")
        }
        return value
    }

    public func requireArray(_ key: String, in context: String) throws(HTTPError) -> [JSONValue] {
        guard let value = try self.require(key, in: context).array else {
            throw .invalidResponse("\(context): \"\(key)\" is not an array")
        }
        return value
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}
