import Yams

/// Walks a composed YAML tree, collecting precise issues (path, line, column, reason) instead of stopping at the first.
final class YAMLReader {
    let file: String?
    /// JSON documents (the API's bodies) are typed: a string must be quoted, a number or boolean must not be.
    let strictTypes: Bool
    private(set) var issues: [ConfigIssue] = []
    /// Where each visited path is in the file, for issues found later by semantic validation.
    private(set) var marks: [String: Mark] = [:]

    init(file: String?, strictTypes: Bool = false) {
        self.file = file
        self.strictTypes = strictTypes
    }

    /// Whether `scalar` came from a JSON string (quoted), as opposed to a number, boolean or null.
    func isQuoted(_ scalar: Node.Scalar) -> Bool { scalar.style == .doubleQuoted || scalar.style == .singleQuoted }

    /// The mark of `path`, or of its closest ancestor that has one.
    func mark(of path: String) -> Mark? {
        var current = Substring(path)
        while !current.isEmpty {
            if let mark = self.marks[String(current)] { return mark }
            guard let cut = current.lastIndex(where: { $0 == "." || $0 == "[" }) else { break }
            current = current[..<cut]
        }
        return nil
    }

    func report(_ kind: ConfigIssue.Kind, _ path: String, _ reason: String, at node: Node?) {
        self.issues.append(
            ConfigIssue(kind, path: path, reason: reason, file: self.file, line: node?.mark?.line, column: node?.mark?.column))
    }

    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        case .scalar(let s):
            if s.style == .plain, ["", "~", "null", "Null", "NULL"].contains(s.string) { "null" } else { "'\(s.string)'" }
        }
    }

    // MARK: Objects

    /// A YAML mapping with a closed set of keys.
    struct Object {
        let node: Node
        let path: String
        fileprivate(set) var values: [String: Node] = [:]

        func child(_ key: String) -> String { self.path.isEmpty ? key : "\(self.path).\(key)" }
        subscript(_ key: String) -> Node? { self.values[key] }
    }

    /// Reads `node` as a mapping whose keys must be among `allowed` and include `required`.
    func object(_ node: Node?, _ path: String, allowed: [String], required: [String] = []) -> Object? {
        guard let node else { return nil }
        guard case .mapping(let mapping) = node else {
            self.report(.wrongType, path, "expected a mapping, found \(Self.describe(node))", at: node)
            return nil
        }
        var object = Object(node: node, path: path)
        var values: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let key) = keyNode else {
                self.report(.wrongType, path, "keys must be strings, found \(Self.describe(keyNode))", at: keyNode)
                continue
            }
            let keyPath = object.child(key.string)
            self.marks[keyPath] = value.mark ?? keyNode.mark
            if !allowed.contains(key.string) {
                let hint = Self.closest(key.string, in: allowed).map { "; did you mean '\($0)'?" } ?? ""
                self.report(.unknownKey, keyPath, "unknown key '\(key.string)'\(hint) (allowed: \(allowed.joined(separator: ", ")))", at: keyNode)
            } else if values[key.string] != nil {
                self.report(.duplicateName, keyPath, "key '\(key.string)' appears twice", at: keyNode)
            } else {
                values[key.string] = value
            }
        }
        for key in required where values[key] == nil {
            self.report(.missingKey, object.child(key), "required key '\(key)' is missing", at: node)
        }
        object.values = values
        return object
    }

    /// A mapping with free keys (e.g. `fieldFlows`), in file order.
    func entries(_ node: Node?, _ path: String) -> [(key: String, path: String, value: Node)] {
        guard let node else { return [] }
        guard case .mapping(let mapping) = node else {
            self.report(.wrongType, path, "expected a mapping, found \(Self.describe(node))", at: node)
            return []
        }
        var result: [(String, String, Node)] = []
        var seen: Set<String> = []
        for (keyNode, value) in mapping {
            guard case .scalar(let key) = keyNode else {
                self.report(.wrongType, path, "keys must be strings, found \(Self.describe(keyNode))", at: keyNode)
                continue
            }
            let keyPath = path.isEmpty ? key.string : "\(path).\(key.string)"
            self.marks[keyPath] = keyNode.mark
            if !seen.insert(key.string).inserted {
                self.report(.duplicateName, keyPath, "key '\(key.string)' appears twice", at: keyNode)
                continue
            }
            result.append((key.string, keyPath, value))
        }
        return result
    }

    func list(_ node: Node?, _ path: String) -> [(path: String, node: Node)] {
        guard let node else { return [] }
        guard case .sequence(let sequence) = node else {
            self.report(.wrongType, path, "expected a list, found \(Self.describe(node))", at: node)
            return []
        }
        return sequence.enumerated().map { item in
            let itemPath = "\(path)[\(item.offset)]"
            self.marks[itemPath] = item.element.mark
            return (itemPath, item.element)
        }
    }

    // MARK: Scalars

    func string(_ node: Node?, _ path: String) -> String? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node else {
            self.report(.wrongType, path, "expected a string, found \(Self.describe(node))", at: node)
            return nil
        }
        if Self.describe(node) == "null" {
            self.report(.wrongType, path, "expected a string, found null", at: node)
            return nil
        }
        if self.strictTypes, !self.isQuoted(scalar) {
            self.report(.wrongType, path, "expected a string, found \(scalar.string)", at: node)
            return nil
        }
        if scalar.string.isEmpty {
            self.report(.invalidValue, path, "must not be empty", at: node)
            return nil
        }
        return scalar.string
    }

    func stringList(_ node: Node?, _ path: String) -> [String]? {
        guard let node else { return nil }
        if case .scalar = node, Self.describe(node) != "null" { return self.string(node, path).map { [$0] } }
        var result: [String] = []
        for (itemPath, item) in self.list(node, path) {
            if let value = self.string(item, itemPath) { result.append(value) }
        }
        return result
    }

    func int(_ node: Node?, _ path: String, range: ClosedRange<Int>) -> Int? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node, let value = Int(scalar.string), !(self.strictTypes && self.isQuoted(scalar)) else {
            self.report(.wrongType, path, "expected an integer, found \(Self.describe(node))", at: node)
            return nil
        }
        guard range.contains(value) else {
            let upper = range.upperBound == Int.max ? "" : " and at most \(range.upperBound)"
            self.report(.outOfRange, path, "\(value) is out of range: must be at least \(range.lowerBound)\(upper)", at: node)
            return nil
        }
        return value
    }

    func bool(_ node: Node?, _ path: String) -> Bool? {
        guard let node else { return nil }
        if case .scalar(let scalar) = node, !(self.strictTypes && self.isQuoted(scalar)) {
            switch scalar.string {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
        }
        self.report(.wrongType, path, "expected true or false, found \(Self.describe(node))", at: node)
        return nil
    }

    func enumValue<E: RawRepresentable & CaseIterable>(_ node: Node?, _ path: String, _ type: E.Type) -> E?
    where E.RawValue == String {
        guard let text = self.string(node, path) else { return nil }
        if let value = E(rawValue: text) { return value }
        let allowed = E.allCases.map(\.rawValue)
        let hint = Self.closest(text, in: allowed).map { "; did you mean '\($0)'?" } ?? ""
        self.report(.unknownEnumValue, path, "'\(text)' is not one of: \(allowed.joined(separator: ", "))\(hint)", at: node)
        return nil
    }

    func duration(_ node: Node?, _ path: String) -> ConfigDuration? {
        guard let text = self.string(node, path) else { return nil }
        if let value = ConfigDuration(parsing: text) { return value }
        self.report(.invalidDuration, path, "'\(text)' is not a duration: write a positive number with s, m, h or d (e.g. 90s, 5m, 24h)", at: node)
        return nil
    }

    func secret(_ node: Node?, _ path: String) -> SecretReference? {
        guard let text = self.string(node, path) else { return nil }
        if let value = SecretReference(parsing: text) { return value }
        self.report(
            .invalidSecretReference, path,
            "secrets must be environment references like ${REDMINE_API_KEY}, never literal values in the file", at: node)
        return nil
    }

    func url(_ node: Node?, _ path: String) -> String? {
        guard let text = self.string(node, path) else { return nil }
        let lower = text.lowercased()
        let schemeOK = lower.hasPrefix("http://") || lower.hasPrefix("https://")
        let host = text.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first
        if schemeOK, let host, !host.isEmpty, !text.contains(" ") { return text }
        self.report(.invalidURL, path, "'\(text)' is not an http(s) URL with a host", at: node)
        return nil
    }

    /// The allowed name closest to `text` by edit distance, if it is close enough to be a typo.
    static func closest(_ text: String, in candidates: [String]) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var previous = Array(0...b.count)
            for (i, ca) in a.enumerated() {
                var current = [i + 1]
                for (j, cb) in b.enumerated() {
                    current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1)))
                }
                previous = current
            }
            return previous[b.count]
        }
        let scored = candidates.map { ($0, distance(Array(text.lowercased()), Array($0.lowercased()))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(1, text.count / 3) else { return nil }
        return best.0
    }
}
