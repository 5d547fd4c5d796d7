public import Foundation
import HTTP

/// GitHub's REST description (API version 2022-11-28) as the simulator reads it: the route table and the JSON Schema
/// 2020-12 models of `Tests/Fixtures/github/` (generated from githubkit-schemas, itself generated from
/// github/rest-api-description; see its `SOURCE.txt`), turned into one OpenAPI-shaped document with the quirks of
/// `QUIRKS.md` applied, and compiled once.
///
/// The route table names types the Python way: `list[Issue]`, `Union[PrivateUser, PublicUser]`, `Missing[int]` (an
/// optional query parameter), `Literal['open', 'closed']`, `_dt.datetime`. Each model carries its own `$defs`, which
/// refer to each other as `#/$defs/Name`: they are gathered at the document's root, where those references resolve.
public struct GitHubSpecs: Sendable {
    public static let apiVersion = "2022-11-28"
    static let routesFile = "github/routes.v2022_11_28.json"
    static let schemasFile = "github/schemas.v2022_11_28.json"

    public let document: OpenAPIDocument

    /// Loads the description from `directory` (the folder holding `github/`).
    public init(directory: URL) throws {
        let routes = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: directory.appending(path: Self.routesFile)))
        let schemas = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: directory.appending(path: Self.schemasFile)))
        var document = try Self.document(routes: routes, schemas: schemas)
        for patch in GitHubQuirks.patches { document = try patch.apply(to: document) }
        self.document = try OpenAPIDocument(document: document, dialect: .jsonSchema2020)
    }

    /// The specs' folder: `explicit` if given, else `$TANDEM_GITHUB_SPECS`, else the first `Tests/Fixtures` holding
    /// `github/routes.v2022_11_28.json` found walking up from the current directory, then from the executable's.
    public static func locate(explicit: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        SpecsLocator.locate(explicit: explicit, environmentVariable: "TANDEM_GITHUB_SPECS", marker: Self.routesFile, environment: environment)
    }

    // MARK: - From the route table to a document

    /// The success status of each operation (the route table names the model, not the status).
    static let created: Set<String> = ["issues/create", "issues/create-comment", "issues/add-assignees"]

    static func document(routes: JSONValue, schemas: JSONValue) throws(OpenAPIError) -> JSONValue {
        var definitions: [String: JSONValue] = [:]
        for (name, model) in schemas.object ?? [:] {
            try Self.hoist(name, Self.normalised(model), into: &definitions)
        }
        var paths: [String: JSONValue] = [:]
        for route in routes.array ?? [] {
            guard let method = route["method"]?.string?.lowercased(), let path = route["path"]?.string, let id = route["operationId"]?.string else {
                throw OpenAPIError("a route without method, path or operationId: \(route)")
            }
            var parameters: [JSONValue] = []
            for name in Self.pathParameters(path) {
                let integer = name.hasSuffix("_number") || name.hasSuffix("_id")
                parameters.append(["name": .string(name), "in": "path", "required": true, "schema": ["type": integer ? "integer" : "string"]])
            }
            for (name, type) in (route["query"]?.object ?? [:]).sorted(by: { $0.key < $1.key }) {
                let text = type.string ?? "str"
                let optional = text.hasPrefix("Missing[")
                parameters.append(["name": .string(name), "in": "query", "required": .bool(!optional), "schema": try Self.schema(text)])
            }
            var operation: [String: JSONValue] = ["operationId": .string(id), "parameters": .array(parameters)]
            if let model = route["requestBodyModel"]?.string {
                // `Union[…, None]`: the body may be left out (`PUT …/lock`).
                let optional = model.hasPrefix("Union[") && model.hasSuffix(", None]")
                operation["requestBody"] = ["required": .bool(!optional), "content": ["application/json": ["schema": try Self.schema(model)]]]
            }
            var responses: [String: JSONValue] = [:]
            if let model = route["response"]?.string {
                responses[Self.created.contains(id) ? "201" : "200"] = ["content": ["application/json": ["schema": try Self.schema(model)]]]
            } else {
                responses["204"] = [:]
            }
            for (status, model) in route["errors"]?.object ?? [:] {
                guard let model = model.string else { continue }
                responses[status] = ["content": ["application/json": ["schema": try Self.schema(model)]]]
            }
            operation["responses"] = .object(responses)
            var item = paths[path]?.object ?? [:]
            item[method] = .object(operation)
            paths[path] = .object(item)
        }
        return ["info": ["title": .string("GitHub REST API \(Self.apiVersion)")], "paths": .object(paths), "$defs": .object(definitions)]
    }

    static func pathParameters(_ path: String) -> [String] {
        path.split(separator: "/").filter { $0.hasPrefix("{") && $0.hasSuffix("}") }.map { String($0.dropFirst().dropLast()) }
    }

    /// Moves a model's nested `$defs` (and the model itself) into `definitions`; the same name must mean the same schema.
    static func hoist(_ name: String, _ model: JSONValue, into definitions: inout [String: JSONValue]) throws(OpenAPIError) {
        guard case .object(var members) = model else { throw OpenAPIError("the schema \(name) is not an object") }
        let nested = members["$defs"]?.object ?? [:]
        members["$defs"] = nil
        for (inner, schema) in nested.sorted(by: { $0.key < $1.key }) { try Self.hoist(inner, schema, into: &definitions) }
        if let existing = definitions[name], existing != .object(members) {
            throw OpenAPIError("two different schemas are named \(name)")
        }
        definitions[name] = .object(members)
    }

    /// GH-1: githubkit writes "may be absent" as an `anyOf` branch `{"const": "<UNSET>", "type": "string"}` (with
    /// `"default": "<UNSET>"`); absence is already what `required` says, so the branch and the default go.
    static func normalised(_ schema: JSONValue) -> JSONValue {
        switch schema {
        case .object(let members):
            var result: [String: JSONValue] = [:]
            for (key, value) in members {
                if key == "default", value == "<UNSET>" { continue }
                if key == "anyOf", let branches = value.array {
                    result[key] = .array(branches.filter { $0 != Self.unset }.map(Self.normalised))
                } else if key == "properties" || key == "$defs", let named = value.object {
                    result[key] = .object(named.mapValues(Self.normalised))
                } else {
                    result[key] = Self.normalised(value)
                }
            }
            return .object(result)
        case .array(let items): return .array(items.map(Self.normalised))
        default: return schema
        }
    }

    static let unset: JSONValue = ["const": "<UNSET>", "type": "string"]

    // MARK: - Python type names

    /// The JSON Schema for a route table type: `list[T]`, `Union[A, B]`, `Missing[T]`, `Literal['a', 'b']`, `None`,
    /// `str`, `int`, `bool`, `float`, `_dt.datetime`, `_dt.date`, or a model name (`#/$defs/Name`).
    static func schema(_ text: String) throws(OpenAPIError) -> JSONValue {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let open = trimmed.firstIndex(of: "["), trimmed.hasSuffix("]") else {
            switch trimmed {
            case "None": return ["type": "null"]
            case "str": return ["type": "string"]
            case "int": return ["type": "integer"]
            case "bool": return ["type": "boolean"]
            case "float": return ["type": "number"]
            case "_dt.datetime": return ["type": "string", "format": "date-time"]
            case "_dt.date": return ["type": "string", "format": "date"]
            default:
                guard let first = trimmed.first, first.isUppercase, trimmed.allSatisfy({ $0.isLetter || $0.isNumber }) else {
                    throw OpenAPIError("unknown type in the route table: \(trimmed)")
                }
                return ["$ref": .string("#/$defs/\(trimmed)")]
            }
        }
        let head = trimmed[..<open]
        let arguments = Self.splitArguments(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
        switch head {
        case "list":
            guard arguments.count == 1 else { throw OpenAPIError("list takes one type: \(trimmed)") }
            return ["type": "array", "items": try Self.schema(arguments[0])]
        case "Missing":
            guard arguments.count == 1 else { throw OpenAPIError("Missing takes one type: \(trimmed)") }
            return try Self.schema(arguments[0])
        case "Union":
            var branches: [JSONValue] = []
            for argument in arguments { branches.append(try Self.schema(argument)) }
            return ["anyOf": .array(branches)]
        case "Literal":
            let values = arguments.map { JSONValue.string($0.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))) }
            return ["type": "string", "enum": .array(values)]
        default:
            throw OpenAPIError("unknown generic type in the route table: \(trimmed)")
        }
    }

    /// `A, list[B, C], D` → `["A", "list[B, C]", "D"]`: commas at bracket depth 0, outside quotes.
    static func splitArguments(_ text: Substring) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        var quote: Character?
        for character in text {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == "[" {
                depth += 1
            } else if character == "]" {
                depth -= 1
            } else if character == ",", depth == 0 {
                parts.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
                continue
            }
            current.append(character)
        }
        if !current.trimmingCharacters(in: .whitespaces).isEmpty { parts.append(current.trimmingCharacters(in: .whitespaces)) }
        return parts
    }
}

/// The written quirks list (`Tests/Fixtures/github/QUIRKS.md`) as spec patches, each named as in the list. Quirks that
/// are behaviour (Link URLs by repository id, 304s outside the quota, the secondary limit) live where they act and
/// carry the same names.
enum GitHubQuirks {
    static let patches: [SpecPatch] = [
        // GH-2: labels on the wire have no `archived_at` / `archived_by` (every recorded label); the description
        // requires both.
        SpecPatch("GH-2", "#/$defs/Label/required", ["id", "node_id", "url", "name", "description", "color", "default"])
    ]
}
