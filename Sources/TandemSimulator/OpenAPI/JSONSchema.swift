import Foundation
import HTTP

/// One way a JSON instance fails a schema: where in the instance, where in the schema, and why.
public struct SchemaViolation: Sendable, Hashable, CustomStringConvertible {
    /// The instance location, dotted (`fields.summary`, `issues[3].id`); empty for the root.
    public var instancePath: String
    /// The schema location as a JSON pointer into the spec (`#/components/schemas/IssueBean/properties/id`).
    public var schemaLocation: String
    public var reason: String

    public var description: String {
        "\(self.instancePath.isEmpty ? "(root)" : self.instancePath): \(self.reason) (schema \(self.schemaLocation))"
    }
}

/// JSON Schemas compiled once: each schema is a node of one table, and a `$ref` is the index of its target, so
/// recursive schemas cost nothing and validation never looks a name up.
///
/// Two dialects: OpenAPI 3.0's (Jira: `nullable`, one `type`, `$ref` alone) and JSON Schema 2020-12's as GitHub's
/// description uses it (`{"type": "null"}` in an `anyOf`, `type` arrays, `const`, `$ref` beside other keywords,
/// RFC 3339 `date-time` with seconds).
struct SchemaTable: Sendable {
    enum Dialect: Sendable {
        case openAPI30
        case jsonSchema2020
    }

    enum Additional: Sendable {
        case allowed
        case forbidden
        case schema(Int)
    }

    struct Node: Sendable {
        var location: String
        /// JSON types allowed; empty allows any.
        var types: [String] = []
        var nullable = false
        var properties: [String: Int] = [:]
        var required: [String] = []
        var additional: Additional = .allowed
        var items: Int?
        var enumValues: [JSONValue]?
        var allOf: [Int] = []
        var anyOf: [Int] = []
        var oneOf: [Int] = []
        var format: String?
        var minLength: Int?
        var maxLength: Int?
        var minimum: Double?
        var maximum: Double?
    }

    private(set) var nodes: [Node] = []
    /// Compiled `$ref` targets by reference (`#/$defs/BasicError`).
    private(set) var named: [String: Int] = [:]
    var dialect: Dialect = .openAPI30

    init(dialect: Dialect = .openAPI30) { self.dialect = dialect }

    /// 2020-12 keywords that only annotate: a `$ref` beside them is still a plain reference.
    private static let annotations: Set<String> = ["$ref", "title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly"]

    /// Compiles `schema` (found at `location` in `document`), resolving `$ref`s against `document`.
    mutating func compile(_ schema: JSONValue, at location: String, in document: JSONValue) throws(OpenAPIError) -> Int {
        if self.dialect == .jsonSchema2020, let ref = schema["$ref"]?.string, let object = schema.object,
            object.keys.contains(where: { !Self.annotations.contains($0) })
        {
            // 2020-12: `$ref` applies beside the other keywords, as if both were in an `allOf`.
            var rest = object
            rest["$ref"] = nil
            rest["allOf"] = .array((object["allOf"]?.array ?? []) + [["$ref": .string(ref)]])
            return try self.compile(.object(rest), at: location, in: document)
        }
        if let ref = schema["$ref"]?.string {
            if let index = self.named[ref] { return index }
            guard ref.hasPrefix("#/"), let target = Self.resolve(ref, in: document) else {
                throw OpenAPIError("unresolvable $ref \(ref) at \(location)")
            }
            let index = self.nodes.count
            self.nodes.append(Node(location: ref))
            self.named[ref] = index
            let compiled = try self.compileNode(target, at: ref, in: document)
            self.nodes[index] = compiled
            return index
        }
        let node = try self.compileNode(schema, at: location, in: document)
        self.nodes.append(node)
        return self.nodes.count - 1
    }

    private mutating func compileNode(_ schema: JSONValue, at location: String, in document: JSONValue) throws(OpenAPIError) -> Node {
        var node = Node(location: location)
        guard let object = schema.object else { return node }
        if let type = object["type"]?.string { node.types = [type] }
        if self.dialect == .jsonSchema2020, let types = object["type"]?.array { node.types = types.compactMap(\.string) }
        node.nullable = object["nullable"]?.bool ?? false
        node.format = object["format"]?.string
        node.enumValues = object["enum"]?.array
        if self.dialect == .jsonSchema2020, let constant = object["const"] { node.enumValues = [constant] }
        node.minLength = object["minLength"]?.int
        node.maxLength = object["maxLength"]?.int
        node.minimum = object["minimum"]?.double
        node.maximum = object["maximum"]?.double
        node.required = object["required"]?.array?.compactMap(\.string) ?? []
        for (name, property) in object["properties"]?.object ?? [:] {
            node.properties[name] = try self.compile(property, at: "\(location)/properties/\(name)", in: document)
        }
        switch object["additionalProperties"] {
        case .bool(false): node.additional = .forbidden
        case .object(let value) where !value.isEmpty:
            node.additional = .schema(try self.compile(.object(value), at: "\(location)/additionalProperties", in: document))
        default: break
        }
        if let items = object["items"] { node.items = try self.compile(items, at: "\(location)/items", in: document) }
        for (key, path) in [("allOf", \Node.allOf), ("anyOf", \Node.anyOf), ("oneOf", \Node.oneOf)] {
            for (n, member) in (object[key]?.array ?? []).enumerated() {
                node[keyPath: path].append(try self.compile(member, at: "\(location)/\(key)/\(n)", in: document))
            }
        }
        return node
    }

    static func resolve(_ pointer: String, in document: JSONValue) -> JSONValue? {
        var current = document
        for raw in pointer.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
            let part = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard let next = current[part] else { return nil }
            current = next
        }
        return current
    }

    // MARK: - Validation

    /// Appends the ways `value` fails node `index` (at most `limit` in all).
    func validate(_ value: JSONValue, _ index: Int, path: String, into violations: inout [SchemaViolation], limit: Int = 20) {
        guard violations.count < limit else { return }
        let node = self.nodes[index]
        func fail(_ reason: String) { violations.append(SchemaViolation(instancePath: path, schemaLocation: node.location, reason: reason)) }
        if self.dialect == .jsonSchema2020 {
            // null is a value like any other: `{"type": "null"}`, a type array naming it, or no type at all.
            if !node.types.isEmpty, !node.types.contains(where: { Self.matches(value, type: $0) }) {
                fail("expected \(node.types.joined(separator: " or ")), got \(Self.typeName(value))")
                return
            }
        } else if value == .null {
            if node.nullable || (node.types.isEmpty && node.enumValues == nil && node.allOf.isEmpty && node.oneOf.isEmpty && node.anyOf.isEmpty) {
                return
            }
            fail("null is not allowed")
            return
        } else if let type = node.types.first, !Self.matches(value, type: type) {
            fail("expected \(type), got \(Self.typeName(value))")
            return
        }
        if let enumValues = node.enumValues, !enumValues.contains(value) {
            fail("\(Self.short(value)) is not one of \(enumValues.map(Self.short).joined(separator: ", "))")
        }
        switch value {
        case .string(let text):
            if let minLength = node.minLength, text.count < minLength { fail("shorter than \(minLength) characters") }
            if let maxLength = node.maxLength, text.count > maxLength { fail("longer than \(maxLength) characters") }
            if let format = node.format, !SchemaFormat.check(text, format: format, strict: self.dialect == .jsonSchema2020) {
                fail("\(Self.short(value)) is not a valid \(format)")
            }
        case .number(let number):
            if let minimum = node.minimum, number < minimum { fail("less than \(minimum)") }
            if let maximum = node.maximum, number > maximum { fail("greater than \(maximum)") }
            if node.format == "int32", !(Double(Int32.min)...Double(Int32.max)).contains(number) { fail("out of int32 range") }
        case .array(let elements):
            if let items = node.items {
                for (n, element) in elements.enumerated() { self.validate(element, items, path: "\(path)[\(n)]", into: &violations, limit: limit) }
            }
        case .object(let members):
            for name in node.required where members[name] == nil {
                violations.append(SchemaViolation(instancePath: Self.join(path, name), schemaLocation: node.location, reason: "required"))
            }
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if let property = node.properties[name] {
                    self.validate(member, property, path: Self.join(path, name), into: &violations, limit: limit)
                } else {
                    switch node.additional {
                    case .allowed: break
                    case .forbidden where !node.properties.isEmpty || node.types == ["object"]:
                        violations.append(
                            SchemaViolation(instancePath: Self.join(path, name), schemaLocation: node.location, reason: "unrecognized field"))
                    case .forbidden: break
                    case .schema(let schema): self.validate(member, schema, path: Self.join(path, name), into: &violations, limit: limit)
                    }
                }
            }
        default: break
        }
        for member in node.allOf { self.validate(value, member, path: path, into: &violations, limit: limit) }
        if !node.anyOf.isEmpty, !node.anyOf.contains(where: { self.passes(value, $0) }) {
            fail(self.dialect == .jsonSchema2020 ? self.noneOf(node.anyOf, value) : "matches none of anyOf")
        }
        if !node.oneOf.isEmpty {
            let count = node.oneOf.filter { self.passes(value, $0) }.count
            if count != 1 { fail("matches \(count) of oneOf (exactly one needed)") }
        }
    }

    /// Why `value` fails every branch: the branches' types when they differ from the value's ("expected array or
    /// null, got string"), else the first branch's own reason.
    private func noneOf(_ branches: [Int], _ value: JSONValue) -> String {
        let types = branches.flatMap { self.nodes[$0].types }
        if !types.isEmpty, branches.allSatisfy({ !self.nodes[$0].types.isEmpty }), !types.contains(where: { Self.matches(value, type: $0) }) {
            var unique: [String] = []
            for type in types where !unique.contains(type) { unique.append(type) }
            return "expected \(unique.joined(separator: " or ")), got \(Self.typeName(value))"
        }
        var violations: [SchemaViolation] = []
        if let first = branches.first(where: { self.nodes[$0].types.contains { Self.matches(value, type: $0) } }) ?? branches.first {
            self.validate(value, first, path: "", into: &violations, limit: 1)
        }
        return violations.first.map { "\($0.instancePath.isEmpty ? "" : $0.instancePath + ": ")\($0.reason)" } ?? "matches none of anyOf"
    }

    func passes(_ value: JSONValue, _ index: Int) -> Bool {
        var violations: [SchemaViolation] = []
        self.validate(value, index, path: "", into: &violations, limit: 1)
        return violations.isEmpty
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("number", .number), ("null", .null): true
        case ("integer", .number(let number)): number.rounded() == number && number.isFinite
        default: false
        }
    }

    static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .number(let number): number.rounded() == number ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    static func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    static func short(_ value: JSONValue) -> String {
        let text = String(decoding: value.serialized(), as: UTF8.self)
        return text.count > 60 ? String(text.prefix(57)) + "..." : text
    }
}

/// Formats, checked loosely (OpenAPI leaves them open): dates and times in RFC 3339 or Jira's own form.
enum SchemaFormat {
    /// `strict`: RFC 3339 `date-time` as JSON Schema 2020-12 means it (seconds required, offset with a colon).
    static func check(_ text: String, format: String, strict: Bool = false) -> Bool {
        switch format {
        case "date-time": strict ? Self.isRFC3339(text) : Self.isDateTime(text)
        case "date": Self.isDate(Substring(text))
        case "uri": URL(string: text)?.scheme != nil
        case "int32", "int64": Int64(text) != nil
        default: true
        }
    }

    private static func digits(_ text: Substring, _ count: Int) -> Bool {
        text.count == count && text.allSatisfy(\.isASCII) && text.allSatisfy(\.isNumber)
    }

    static func isDate(_ text: Substring) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 3 && Self.digits(parts[0], 4) && Self.digits(parts[1], 2) && Self.digits(parts[2], 2)
    }

    /// `2022-05-17T04:06:55.076-0700` (Jira) or RFC 3339 (`…Z`, `…+07:00`); seconds and fraction optional.
    static func isDateTime(_ text: String) -> Bool {
        let halves = text.split(separator: "T", omittingEmptySubsequences: false)
        guard halves.count == 2, Self.isDate(halves[0]) else { return false }
        var time = halves[1]
        if time.hasSuffix("Z") {
            time = time.dropLast()
        } else if let sign = time.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            let offset = time[time.index(after: sign)...].replacingOccurrences(of: ":", with: "")
            guard Self.digits(Substring(offset), 4) else { return false }
            time = time[..<sign]
        } else {
            return false
        }
        let (clock, fraction) = time.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).splat
        let fields = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(fields.count), fields.allSatisfy({ Self.digits($0, 2) }) else { return false }
        return fraction.map { !$0.isEmpty && $0.allSatisfy(\.isNumber) } ?? true
    }
}

extension SchemaFormat {
    /// `2026-12-08T01:02:03Z`, `…03.5+01:00`: seconds required, `Z` or an offset with a colon.
    static func isRFC3339(_ text: String) -> Bool {
        guard Self.isDateTime(text), let t = text.firstIndex(of: "T") else { return false }
        var time = text[text.index(after: t)...]
        if time.hasSuffix("Z") {
            time = time.dropLast()
        } else if let sign = time.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            guard time[sign...].count == 6, time[time.index(sign, offsetBy: 3)] == ":" else { return false }
            time = time[..<sign]
        }
        let clock = time.split(separator: ".", maxSplits: 1).first ?? ""
        return clock.split(separator: ":").count == 3
    }
}

extension Array where Element == Substring {
    fileprivate var splat: (Substring, Substring?) { (self.first ?? "", self.count > 1 ? self[1] : nil) }
}

/// A spec that cannot be loaded or compiled.
public struct OpenAPIError: Error, Sendable, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { self.message }
}
