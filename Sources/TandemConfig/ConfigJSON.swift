public import TandemCore
import Yams

/// Configuration entities as JSON, for the REST API: the same shapes as in a configuration file (docs/configuration.md),
/// read by the same parser and checked by the same validator as `tandem apply`, so both accept and refuse alike.
///
/// Secrets differ: the API takes a secret's value itself (write-only) and answers `{"set": true}` in its place; it never
/// returns a secret. On input, `{"set": true}` keeps the stored secret.
public enum ConfigJSON {
    public enum Section: String, Sendable, CaseIterable {
        case repositories, models, collections, integrations

        /// The singular, as the audit log names entities.
        public var entity: String {
            switch self {
            case .repositories: "repository"
            case .models: "model"
            case .collections: "collection"
            case .integrations: "integration"
            }
        }
    }

    // MARK: Reading

    /// Reads a repository from `json`. Secret values become references to made-up environment variables, returned in
    /// `secrets` (variable → value) for `ConfigStore.apply`; `{"set": true}` keeps `stored`'s reference.
    public static func repository(_ json: JSONNode, stored: RepositoryConfig?) throws(ConfigError) -> (RepositoryConfig, secrets: [String: String]) {
        var issues: [ConfigIssue] = []
        var secrets: [String: String] = [:]
        var document = json
        var name = "REPOSITORY"
        if case .string(let text)? = json["name"], !text.isEmpty { name = text }
        let base =
            SecretReference.environmentPrefix + "API_" + String(name.uppercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        func replace(_ slot: String, in object: JSONNode, keys: [String], path: String, keep: SecretReference?) -> JSONNode {
            guard case .object(var members) = object else { return object }
            for index in members.indices where keys.contains(members[index].key) {
                let memberPath = "\(path).\(members[index].key)"
                switch members[index].value {
                case .string(let value):
                    if value.isEmpty {
                        issues.append(ConfigIssue(.invalidValue, path: memberPath, reason: "must not be empty"))
                        continue
                    }
                    let variable = "\(base)_\(slot.uppercased())"
                    secrets[variable] = value
                    members[index].value = .string("${\(variable)}")
                case .object(let set) where set == [JSONNode.Member("set", .bool(true))]:
                    if let keep {
                        members[index].value = .string("\(keep)")
                    } else {
                        issues.append(ConfigIssue(.missingSecret, path: memberPath, reason: "no secret is stored yet: give its value"))
                    }
                case let other:
                    issues.append(
                        ConfigIssue(
                            .wrongType, path: memberPath,
                            reason: "expected the secret as a string (or {\"set\": true} to keep the stored one), found \(other.typeDescription)"))
                }
            }
            return .object(members)
        }
        if case .object(var members) = document {
            for index in members.indices {
                switch members[index].key {
                case "auth":
                    members[index].value = replace(
                        "auth", in: members[index].value, keys: ["password", "key", "token"], path: "auth", keep: stored?.auth.secrets.first)
                case "proxy":
                    members[index].value = replace(
                        "proxy", in: members[index].value, keys: ["password"], path: "proxy", keep: stored?.proxy?.password)
                default: break
                }
            }
            document = .object(members)
        }
        let repository = try Self.read(document, issues: issues) { node, reader in ConfigParser.repository(node, "", reader) }
        return (repository, secrets)
    }

    public static func model(_ json: JSONNode) throws(ConfigError) -> ModelConfig {
        try Self.read(json, issues: []) { node, reader in ConfigParser.model(node, "", reader) }
    }

    public static func collection(_ json: JSONNode) throws(ConfigError) -> CollectionConfig {
        try Self.read(json, issues: []) { node, reader in ConfigParser.collection(node, "", reader) }
    }

    public static func integration(_ json: JSONNode) throws(ConfigError) -> IntegrationConfig {
        try Self.read(json, issues: []) { node, reader in ConfigParser.integration(node, "", reader) }
    }

    /// Reads global settings; members left out keep their values in `current`.
    public static func settings(_ json: JSONNode, current: Settings) throws(ConfigError) -> Settings {
        guard case .object(let members) = json else {
            throw ConfigError(issues: [ConfigIssue(.wrongType, path: "", reason: "expected an object, found \(json.typeDescription)")])
        }
        // Start from the current values written out in full, then overlay the body, then parse the result.
        var merged = Self.json(Self.settingsNode(current, full: true)).members ?? []
        for member in members {
            if let index = merged.firstIndex(where: { $0.key == member.key }) { merged[index] = member } else { merged.append(member) }
        }
        return try Self.read(.object(merged), issues: []) { node, reader in ConfigParser.settings(node, "", reader) }
    }

    static func read<T>(_ json: JSONNode, issues: [ConfigIssue], _ parse: (Node, YAMLReader) -> T?) throws(ConfigError) -> T {
        let reader = YAMLReader(file: nil, strictTypes: true)
        let value = parse(Self.yaml(json), reader)
        let all = issues + reader.issues
        if !all.isEmpty { throw ConfigError(issues: all) }
        guard let value else { throw ConfigError(issues: [ConfigIssue(.invalidValue, path: "", reason: "the body is not a valid entity")]) }
        return value
    }

    /// JSON as a YAML tree: strings quoted, numbers, booleans and null plain, so that `YAMLReader`'s strict mode can
    /// tell `"5"` from `5`.
    static func yaml(_ json: JSONNode) -> Node {
        switch json {
        case .null: .scalar(Node.Scalar("null", .implicit, .plain))
        case .bool(let value): .scalar(Node.Scalar(value ? "true" : "false", .implicit, .plain))
        case .int(let value): .scalar(Node.Scalar(String(value), .implicit, .plain))
        // 2.0 is an integer to JSON Schema, and to the reader (which reads "2.0" as a float).
        case .number(let value): .scalar(Node.Scalar(Int(exactly: value).map(String.init) ?? "\(value)", .implicit, .plain))
        case .string(let value): .scalar(Node.Scalar(value, .implicit, .doubleQuoted))
        case .array(let items): .sequence(Node.Sequence(items.map(Self.yaml)))
        case .object(let members):
            .mapping(Node.Mapping(members.map { (Node.scalar(Node.Scalar($0.key, .implicit, .doubleQuoted)), Self.yaml($0.value)) }))
        }
    }

    // MARK: Writing

    public static func json(_ repository: RepositoryConfig) -> JSONNode {
        var node = Self.json(ConfigWriter.repository(repository))
        // Secrets: never the value, never even the reference's name.
        func hide(_ key: String, keys: [String]) {
            guard case .object(var members) = node, let index = members.firstIndex(where: { $0.key == key }),
                case .object(var inner) = members[index].value
            else { return }
            for i in inner.indices where keys.contains(inner[i].key) { inner[i].value = .object(["set": .bool(true)]) }
            members[index].value = .object(inner)
            node = .object(members)
        }
        hide("auth", keys: ["password", "key", "token"])
        hide("proxy", keys: ["password"])
        return node
    }

    public static func json(_ model: ModelConfig) -> JSONNode { Self.json(ConfigWriter.model(model)) }
    public static func json(_ collection: CollectionConfig) -> JSONNode { Self.json(ConfigWriter.collection(collection)) }
    public static func json(_ integration: IntegrationConfig) -> JSONNode { Self.json(ConfigWriter.integration(integration)) }
    /// Every setting, defaults included.
    public static func json(_ settings: Settings) -> JSONNode { Self.json(Self.settingsNode(settings, full: true)) }

    static func settingsNode(_ s: Settings, full: Bool) -> Node {
        var m = ConfigWriter.Map()
        m["changeDetectionInterval"] = .s("\(s.changeDetectionInterval)")
        m["fullScanInterval"] = .s("\(s.fullScanInterval)")
        m["fullScanEnabled"] = .s(s.fullScanEnabled ? "true" : "false")
        m["maxConcurrencyPerIntegration"] = .s("\(s.maxConcurrencyPerIntegration)")
        m["eventRateLimit"] = ConfigWriter.rateLimit(s.eventRateLimit)
        return m.node
    }

    static let booleanKeys: Set<String> = ["enabled", "allowInsecure", "debugLogging", "fullScanEnabled", "running", "required", "allowUnmapped"]
    static let integerKeys: Set<String> = [
        "concurrencyLimit", "eventsPerMinute", "maxConcurrency", "maxConcurrencyPerIntegration", "version", "maxSizeBytes",
    ]

    /// The writer's YAML tree as typed JSON: the writer's scalars are all strings, so the keys that hold booleans and
    /// integers say which to convert. Free-keyed maps (`options`, `targets`, conflict `fields`) keep strings.
    static func json(_ node: Node, key: String? = nil, free: Bool = false) -> JSONNode {
        switch node {
        case .scalar(let scalar):
            if !free, let key {
                if Self.booleanKeys.contains(key), scalar.string == "true" || scalar.string == "false" { return .bool(scalar.string == "true") }
                if Self.integerKeys.contains(key), let value = Int(scalar.string) { return .int(value) }
            }
            return .string(scalar.string)
        case .sequence(let sequence):
            return .array(sequence.map { Self.json($0) })
        case .mapping(let mapping):
            let freeKeys = key == "options" || key == "targets" || key == "fields" || key == "fieldFlows"
            return .object(
                mapping.compactMap { pair in
                    guard case .scalar(let k) = pair.key else { return nil }
                    return JSONNode.Member(k.string, Self.json(pair.value, key: k.string, free: freeKeys))
                })
        case .alias:
            return .null
        }
    }

    static func isMapping(_ node: Node) -> Bool {
        if case .mapping = node { return true }
        return false
    }
}
