public import Foundation
public import HTTP

/// An OpenAPI 3.0 description loaded at run time and compiled once: its operations by method and path template,
/// their parameters, request bodies and response bodies, with every schema compiled into one `SchemaTable`.
///
/// `match` finds the operation a request is for; `validateRequest` checks its path and query parameters (declared
/// names, types, enums) and its JSON body; `validateResponse` checks an answer's body against the schema declared
/// for its status.
public struct OpenAPIDocument: Sendable {
    public struct Parameter: Sendable {
        public var name: String
        public var location: String
        public var required: Bool
        var schema: Int?
    }

    public struct Operation: Sendable {
        /// `GET /rest/api/3/issue/{issueIdOrKey}`, as the spec writes it.
        public var id: String
        public var method: String
        public var template: String
        var segments: [Substring]
        public var parameters: [Parameter]
        var bodyRequired: Bool
        /// The JSON body's schema, when the operation takes JSON.
        var bodySchema: Int?
        var bodyMediaTypes: [String]
        /// Response schemas by status (nil: declared without a JSON body).
        var responses: [Int: Int?]
    }

    public enum Match: Sendable {
        case operation(Operation, pathParameters: [String: String])
        /// The path exists with other methods.
        case methodNotAllowed
    }

    public let title: String
    public private(set) var operations: [Operation] = []
    var schemas = SchemaTable()

    /// Loads and compiles a spec after applying `patches` (the quirks list: JSON pointer → replacement).
    public init(contentsOf url: URL, patches: [SpecPatch] = []) throws {
        var document = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: url))
        for patch in patches { document = try patch.apply(to: document) }
        try self.init(document: document)
    }

    /// Compiles an OpenAPI-shaped document whose schemas are in `dialect` (GitHub's are JSON Schema 2020-12).
    init(document: JSONValue, dialect: SchemaTable.Dialect = .openAPI30) throws(OpenAPIError) {
        self.schemas = SchemaTable(dialect: dialect)
        self.title = document["info"]?["title"]?.string ?? "API"
        guard let paths = document["paths"]?.object else { throw OpenAPIError("the document has no paths") }
        for (template, item) in paths.sorted(by: { $0.key < $1.key }) {
            let shared = item["parameters"]?.array ?? []
            for method in ["get", "put", "post", "delete", "patch"] {
                guard let operation = item[method] else { continue }
                let location = "#/paths/\(template.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1"))/\(method)"
                self.operations.append(
                    try self.compile(
                        operation, method: method.uppercased(), template: template, shared: shared, location: location, document: document))
            }
        }
    }

    private mutating func compile(
        _ operation: JSONValue, method: String, template: String, shared: [JSONValue], location: String, document: JSONValue
    ) throws(OpenAPIError) -> Operation {
        var parameters: [Parameter] = []
        for (n, raw) in (shared + (operation["parameters"]?.array ?? [])).enumerated() {
            var parameter = raw
            if let ref = raw["$ref"]?.string { parameter = SchemaTable.resolve(ref, in: document) ?? raw }
            guard let name = parameter["name"]?.string, let place = parameter["in"]?.string else { continue }
            let schema = try parameter["schema"].map { (s: JSONValue) throws(OpenAPIError) in
                try self.schemas.compile(s, at: "\(location)/parameters/\(n)/schema", in: document)
            }
            parameters.append(Parameter(name: name, location: place, required: parameter["required"]?.bool ?? (place == "path"), schema: schema))
        }
        var bodySchema: Int?
        var mediaTypes: [String] = []
        if let content = operation["requestBody"]?["content"]?.object {
            mediaTypes = content.keys.sorted()
            if let json = content["application/json"]?["schema"] {
                bodySchema = try self.schemas.compile(json, at: "\(location)/requestBody/content/application~1json/schema", in: document)
            }
        }
        var responses: [Int: Int?] = [:]
        for (status, response) in operation["responses"]?.object ?? [:] {
            guard let code = Int(status) else { continue }
            if let schema = response["content"]?["application/json"]?["schema"] {
                responses[code] = try self.schemas.compile(
                    schema, at: "\(location)/responses/\(status)/content/application~1json/schema", in: document)
            } else {
                responses[code] = .some(nil)
            }
        }
        return Operation(
            id: "\(method) \(template)", method: method, template: template, segments: template.split(separator: "/"), parameters: parameters,
            bodyRequired: operation["requestBody"]?["required"]?.bool ?? false, bodySchema: bodySchema, bodyMediaTypes: mediaTypes,
            responses: responses)
    }

    // MARK: - Matching

    /// The operation for `method` and `path` (relative to the spec's server URL); literal segments win over
    /// templated ones (`/issue/createmeta` before `/issue/{issueIdOrKey}`).
    public func match(method: String, path: String) -> Match? {
        let segments = path.split(separator: "/")
        var best: (operation: Operation, parameters: [String: String], literals: Int)?
        var pathExists = false
        for operation in self.operations where operation.segments.count == segments.count {
            var parameters: [String: String] = [:]
            var literals = 0
            var matched = true
            for (pattern, segment) in zip(operation.segments, segments) {
                if pattern.hasPrefix("{"), pattern.hasSuffix("}") {
                    parameters[String(pattern.dropFirst().dropLast())] = String(segment).removingPercentEncoding ?? String(segment)
                } else if pattern == segment {
                    literals += 1
                } else {
                    matched = false
                    break
                }
            }
            guard matched else { continue }
            pathExists = true
            guard operation.method == method else { continue }
            if best == nil || literals > best!.literals { best = (operation, parameters, literals) }
        }
        if let best { return .operation(best.operation, pathParameters: best.parameters) }
        return pathExists ? .methodNotAllowed : nil
    }

    // MARK: - Validation

    /// The ways a request fails its operation: unknown or ill-typed parameters, a missing or invalid JSON body.
    public func validateRequest(
        _ operation: Operation, pathParameters: [String: String], query: [(name: String, value: String)], contentType: String?, body: Data?
    ) -> [SchemaViolation] {
        var violations: [SchemaViolation] = []
        let declared = Dictionary(operation.parameters.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for name in Set(query.map(\.name)).sorted() {
            guard let parameter = declared[name], parameter.location == "query" else {
                violations.append(SchemaViolation(instancePath: name, schemaLocation: operation.id, reason: "unrecognized query parameter"))
                continue
            }
            let values = query.filter { $0.name == name }.map(\.value)
            if let schema = parameter.schema { self.validateParameter(values, schema, name: name, into: &violations) }
        }
        for parameter in operation.parameters where parameter.required {
            let present = parameter.location == "path" ? pathParameters[parameter.name] != nil : query.contains { $0.name == parameter.name }
            if !present, parameter.location != "header" {
                violations.append(SchemaViolation(instancePath: parameter.name, schemaLocation: operation.id, reason: "required parameter missing"))
            }
        }
        for (name, value) in pathParameters {
            if let schema = declared[name]?.schema { self.validateParameter([value], schema, name: name, into: &violations) }
        }
        let mediaType = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let hasBody = !(body?.isEmpty ?? true)
        if operation.bodyMediaTypes.isEmpty {
            return violations
        }
        if !hasBody {
            if operation.bodyRequired, operation.bodySchema != nil {
                violations.append(SchemaViolation(instancePath: "", schemaLocation: operation.id, reason: "a request body is required"))
            }
            return violations
        }
        if let mediaType, !operation.bodyMediaTypes.contains(mediaType) {
            violations.append(
                SchemaViolation(
                    instancePath: "", schemaLocation: operation.id,
                    reason: "unsupported media type \(mediaType) (expected \(operation.bodyMediaTypes.joined(separator: ", ")))"))
            return violations
        }
        guard let schema = operation.bodySchema, mediaType == nil || mediaType == "application/json", let body else { return violations }
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: body) else {
            violations.append(SchemaViolation(instancePath: "", schemaLocation: operation.id, reason: "the body is not valid JSON"))
            return violations
        }
        self.schemas.validate(json, schema, path: "", into: &violations)
        return violations
    }

    /// Query values arrive as text: each is read as the schema's type (arrays from repeats or commas) and checked.
    private func validateParameter(_ values: [String], _ index: Int, name: String, into violations: inout [SchemaViolation]) {
        let node = self.schemas.nodes[index]
        if node.types == ["array"] {
            let items = values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            for item in items {
                if let itemSchema = node.items { self.validateParameter([item], itemSchema, name: name, into: &violations) }
            }
            return
        }
        guard let text = values.last else { return }
        let value: JSONValue
        switch node.types.first {
        case "integer", "number":
            guard let number = Double(text), node.types != ["integer"] || Int64(text) != nil else {
                violations.append(
                    SchemaViolation(instancePath: name, schemaLocation: node.location, reason: "'\(text)' is not a valid \(node.types[0])"))
                return
            }
            value = .number(number)
        case "boolean":
            guard text == "true" || text == "false" else {
                violations.append(SchemaViolation(instancePath: name, schemaLocation: node.location, reason: "'\(text)' is not a valid boolean"))
                return
            }
            value = .bool(text == "true")
        default: value = .string(text)
        }
        self.schemas.validate(value, index, path: name, into: &violations)
    }

    /// The ways `value` fails the schema a reference names (`#/$defs/BasicError`); nil when no operation uses it.
    public func validate(_ value: JSONValue, against reference: String) -> [SchemaViolation]? {
        guard let index = self.schemas.named[reference] else { return nil }
        var violations: [SchemaViolation] = []
        self.schemas.validate(value, index, path: "", into: &violations)
        return violations
    }

    /// The ways an answer fails its operation: an undeclared success status, or a JSON body off its schema.
    /// Error statuses (4xx, 5xx) are checked only when the spec gives them a schema.
    public func validateResponse(_ operation: Operation, status: Int, body: JSONValue?) -> [SchemaViolation] {
        guard let declared = operation.responses[status] else {
            if (200..<300).contains(status) {
                return [SchemaViolation(instancePath: "", schemaLocation: operation.id, reason: "status \(status) is not declared")]
            }
            return []
        }
        guard let schema = declared, let body else { return [] }
        var violations: [SchemaViolation] = []
        self.schemas.validate(body, schema, path: "", into: &violations)
        return violations
    }
}

/// One change to a spec before it is compiled: the value at a JSON pointer replaced (or added). The quirks lists
/// (`Tests/Fixtures/jira-*/QUIRKS.md`) are made of these, each under the quirk's name.
public struct SpecPatch: Sendable {
    public var quirk: String
    public var pointer: String
    public var value: JSONValue

    public init(_ quirk: String, _ pointer: String, _ value: JSONValue) {
        self.quirk = quirk
        self.pointer = pointer
        self.value = value
    }

    func apply(to document: JSONValue) throws(OpenAPIError) -> JSONValue {
        let parts = self.pointer.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
        guard let result = Self.replace(document, parts[...], with: self.value) else {
            throw OpenAPIError("quirk \(self.quirk): \(self.pointer) is not in the spec")
        }
        return result
    }

    private static func replace(_ node: JSONValue, _ parts: ArraySlice<String>, with value: JSONValue) -> JSONValue? {
        guard let first = parts.first else { return value }
        guard case .object(var members) = node else { return nil }
        if parts.count == 1 {
            members[first] = value
            return .object(members)
        }
        guard let child = members[first], let replaced = Self.replace(child, parts.dropFirst(), with: value) else { return nil }
        members[first] = replaced
        return .object(members)
    }
}
