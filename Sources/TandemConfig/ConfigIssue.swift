/// One problem in a configuration file: where it is and why it is wrong.
public struct ConfigIssue: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem, stable for tests and tooling.
    public enum Kind: String, Sendable, Hashable {
        case syntax, unknownKey, wrongType, missingKey, invalidValue, unknownEnumValue, duplicateName
        case danglingReference, unknownFieldType, invalidCron, invalidDuration, invalidURL, outOfRange
        case valueMapOnNonSelect, unknownModelField, modelMismatch, invalidSecretReference, missingSecret
        case unknownSelectValue, notFilterable, unknownProject, unsupportedVersion, invalidTransition
    }

    public var kind: Kind
    public var file: String?
    /// The path of the offending element, e.g. `integrations[0].fieldFlows.status`.
    public var path: String
    public var line: Int?
    public var column: Int?
    public var reason: String

    public init(_ kind: Kind, path: String, reason: String, file: String? = nil, line: Int? = nil, column: Int? = nil) {
        self.kind = kind
        self.path = path
        self.reason = reason
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column: path: reason`, with whatever parts are known.
    public var description: String {
        var location = self.file ?? "<configuration>"
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
