/// One problem in a configuration file: where it is and why it is wrong.
public struct ConfigIssue: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem, stable for tests and tooling.
    public enum Kind: String, Sendable, Hashable {
        case syntax, unknownKey, wrongType, missingKey, invalidValue, unknownEnumValue, duplicateName
        case danglingReference, unknownFieldType, invalidCron, invalidDuration, invalidURL, outOfRange
        case valueMapOnNonSelect, unknownModelField, modelMismatch, invalidSecretReference, missingSecret
        case unknownSelectValue, notFilterable, unknownProject, unsupportedVersion, invalidTransition
        /// Beyond a bound on the document (`YAMLLimits`) or on a value (`ConfigLimits`).
        case limitExceeded
        /// Not UTF-8, or characters that change how text is displayed (control, bidirectional override).
        case invalidText
        /// YAML a configuration has no use for: tags, merge keys, several documents, keys that are not text.
        case unsupportedYAML
        /// Credentials where they would be shown and stored in the clear (a URL's user information).
        case credentialsInURL
        /// A secret reference to an environment variable a configuration may not read.
        case forbiddenVariable
        /// The database refused to store it.
        case notStored
    }

    public var kind: Kind
    public var file: String?
    /// The path of the offending element, e.g. `integrations[0].fieldFlows.status`.
    public var path: String
    public var line: Int?
    public var column: Int?
    public var reason: String

    /// `path` and `reason` are kept as they may be shown: a value quoted from a hostile file cannot act on a terminal
    /// (its control characters are escaped) or flood it (it is cut short).
    public init(_ kind: Kind, path: String, reason: String, file: String? = nil, line: Int? = nil, column: Int? = nil) {
        self.kind = kind
        self.path = path.escapedForDisplay(limit: 300)
        self.reason = reason.escapedForDisplay(limit: 1000)
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column: path: reason`, with whatever parts are known.
    public var description: String {
        var location = self.file?.escapedForDisplay() ?? "<configuration>"
        if let line { location += ":\(line)" + (self.column.map { ":\($0)" } ?? "") }
        return self.path.isEmpty ? "\(location): \(self.reason)" : "\(location): \(self.path): \(self.reason)"
    }
}

/// A configuration that cannot be used, with every problem found.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var issues: [ConfigIssue]
    public init(issues: [ConfigIssue]) { self.issues = issues }
    public var description: String {
        let header = self.issues.count == 1 ? "1 problem in the configuration" : "\(self.issues.count) problems in the configuration"
        return ([header + ":"] + self.issues.map { "  " + $0.description }).joined(separator: "\n")
    }
}
