import Yams

/// Walks a composed YAML tree, collecting precise issues (path, line, column, reason) instead of stopping at the first.
final class YAMLReader {
    let file: String?
    /// JSON documents (the API's bodies) are typed: a string must be quoted, a number or boolean must not be.
    let strictTypes: Bool
    private(set) var issues: [ConfigIssue] = []
    /// Where each visited path is in the file, for issues found later by semantic validation.
    private(set) var locations = ConfigLocations()

    init(file: String?, strictTypes: Bool = false) {
        self.file = file
        self.strictTypes = strictTypes
    }

    /// Whether `scalar` came from a JSON string (quoted), as opposed to a number, boolean or null.
    func isQuoted(_ scalar: Node.Scalar) -> Bool { scalar.style == .doubleQuoted || scalar.style == .singleQuoted }

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
            self.locations.record(keyPath, value.mark ?? keyNode.mark)
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
            self.locations.record(keyPath, keyNode.mark)
            guard self.acceptable(key.string, .name, keyPath, at: keyNode) else { continue }
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
            self.locations.record(itemPath, item.element.mark)
            return (itemPath, item.element)
        }
    }

    // MARK: Scalars

    /// What a string holds, for the characters and length it may have.
    enum TextKind {
        /// Names and identifiers: entity, field and project names, values, keys, references. No control or
        /// bidirectional characters at all, and at most `ConfigLimits.maximumNameLength` characters.
        case name
        /// A URL: as a name, up to `ConfigLimits.maximumURLLength`.
        case url
        /// Free text (a constant, a connector option): tabs and line breaks allowed, up to `ConfigLimits.maximumTextLength`.
        case text

        var limit: Int {
            switch self {
            case .name: ConfigLimits.maximumNameLength
            case .url: ConfigLimits.maximumURLLength
            case .text: ConfigLimits.maximumTextLength
            }
        }
    }

    /// Whether `value` may be stored and shown as `kind`; reports why not. PostgreSQL's text cannot hold NUL, names
    /// are indexed (an index entry holds at most 2704 bytes), and a control character would act on the terminal or
    /// page that shows the name.
    func acceptable(_ value: String, _ kind: TextKind, _ path: String, at node: Node?) -> Bool {
        if value.unicodeScalars.contains("\u{0}") {
            self.report(.invalidText, path, "contains a NUL character (U+0000), which cannot be stored", at: node)
            return false
        }
        let allowed: Set<Unicode.Scalar> = kind == .text ? ["\t", "\n"] : []
        if let control = value.unicodeScalars.first(where: { $0.isDisplayControl && !allowed.contains($0) }) {
            let what = kind == .text ? "text" : kind == .url ? "a URL" : "a name"
            self.report(
                .invalidText, path,
                "contains the control character \(control.codePoint); \(what) may not contain control or bidirectional-override characters",
                at: node)
            return false
        }
        let length = value.unicodeScalars.count
        if length > kind.limit {
            let what = kind == .text ? "text" : kind == .url ? "a URL" : "a name"
            self.report(.limitExceeded, path, "is \(length) characters long; \(what) may have at most \(kind.limit)", at: node)
            return false
        }
        return true
    }

    func string(_ node: Node?, _ path: String, _ kind: TextKind = .name) -> String? {
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
        guard self.acceptable(scalar.string, kind, path, at: node) else { return nil }
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
            if case .scalar(let scalar) = node, !(self.strictTypes && self.isQuoted(scalar)), Self.isInteger(scalar.string) {
                self.report(
                    .outOfRange, path, "\(Self.describe(node)) is out of range: must be at least \(range.lowerBound)\(Self.upper(range))", at: node)
                return nil
            }
            self.report(.wrongType, path, "expected an integer, found \(Self.describe(node))", at: node)
            return nil
        }
        guard range.contains(value) else {
            self.report(.outOfRange, path, "\(value) is out of range: must be at least \(range.lowerBound)\(Self.upper(range))", at: node)
            return nil
        }
        return value
    }

    static func upper(_ range: ClosedRange<Int>) -> String { range.upperBound == Int.max ? "" : " and at most \(range.upperBound)" }

    /// Digits with an optional sign: an integer, even one too large for `Int`.
    static func isInteger(_ text: String) -> Bool {
        let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
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
        let maximum = ConfigLimits.maximumDurationSeconds
        if let value = ConfigDuration(parsing: text) {
            guard value.seconds <= maximum else {
                self.report(
                    .outOfRange, path, "'\(text)' is \(value.seconds) seconds; a duration may be at most \(maximum)s (about 68 years)", at: node)
                return nil
            }
            return value
        }
        // Digits and a unit that do not fit: too long rather than malformed.
        let digits = text.last.map { "smhd".contains($0) } == true ? text.dropLast() : Substring(text)
        if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.contains(where: { $0 != "0" }) {
            self.report(.outOfRange, path, "'\(text)' is too long a duration; a duration may be at most \(maximum)s (about 68 years)", at: node)
            return nil
        }
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

    /// Query parameters that carry credentials in the APIs Tandem talks to (Redmine's `key`, GitLab's
    /// `private_token`, OAuth's `access_token`, …).
    static let credentialParameters: Set<String> = [
        "key", "apikey", "api_key", "api-key", "token", "access_token", "private_token", "auth", "password", "passwd", "secret",
        "client_secret",
    ]

    /// An http(s) URL with a host, and no credentials in it: a URL is stored as it is and shown to every role (the API,
    /// the UI, `export`), so a user and password in it, or a key in its query, would be shown too. `instead` says where
    /// they belong.
    func url(_ node: Node?, _ path: String, credentialsBelongIn instead: String = "`auth`") -> String? {
        guard let text = self.string(node, path, .url) else { return nil }
        let afterScheme = text.firstRange(of: "://").map { text[$0.upperBound...] } ?? Substring(text)
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if authority.contains("@") {
            self.report(
                .credentialsInURL, path,
                "the URL has credentials in it (before '@'), which would be stored and shown as they are: remove them and use \(instead) with a ${TANDEM_SECRET_…} reference",
                at: node)
            return nil
        }
        if let query = afterScheme.split(separator: "?", maxSplits: 1).dropFirst().first?.prefix(while: { $0 != "#" }) {
            for parameter in query.split(separator: "&") {
                let name = parameter.prefix { $0 != "=" }.lowercased()
                if Self.credentialParameters.contains(name) {
                    self.report(
                        .credentialsInURL, path,
                        "the URL's query parameter '\(name)' carries a credential, which would be stored and shown as it is: remove it and use \(instead) with a ${TANDEM_SECRET_…} reference",
                        at: node)
                    return nil
                }
            }
        }
        let lower = text.lowercased()
        let schemeOK = lower.hasPrefix("http://") || lower.hasPrefix("https://")
        let host = authority.split(separator: ":").first
        if schemeOK, let host, !host.isEmpty, !text.contains(where: { $0.isWhitespace }) { return text }
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

/// Where each path of a parsed file is: the line and column of its value (or key), so that problems found after
/// parsing — a secret that is not set, a value the database refuses — can name their line too.
public struct ConfigLocations: Sendable {
    private var marks: [String: Position] = [:]

    struct Position: Sendable {
        var line: Int
        var column: Int
    }

    public init() {}

    mutating func record(_ path: String, _ mark: Mark?) {
        if let mark { self.marks[path] = Position(line: mark.line, column: mark.column) }
    }

    /// The line and column of `path`, or of its closest ancestor that has one.
    public func position(of path: String) -> (line: Int, column: Int)? {
        var current = Substring(path)
        while !current.isEmpty {
            if let position = self.marks[String(current)] { return (position.line, position.column) }
            guard let cut = current.lastIndex(where: { $0 == "." || $0 == "[" }) else { break }
            current = current[..<cut]
        }
        return nil
    }

    /// `issue` with its line and column, when it has none and its path is in the file.
    public func locate(_ issue: ConfigIssue) -> ConfigIssue {
        guard issue.line == nil, let position = self.position(of: issue.path) else { return issue }
        var located = issue
        located.line = position.line
        located.column = position.column
        return located
    }
}
