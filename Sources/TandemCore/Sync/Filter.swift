/// A comparison of one model field with values (artifact filtering, conditional field flow, guide L7307–7429).
public enum FilterOperator: Sendable, Hashable {
    case equals(FieldValue)
    case notEquals(FieldValue)
    /// Equal to one of the values.
    case oneOf([FieldValue])
    /// Text contains the string (case-insensitive); a multi-select contains the value.
    case contains(String)
    /// Greater than or equal (dates, date-times, numbers, durations, strings).
    case atLeast(FieldValue)
    /// Less than or equal.
    case atMost(FieldValue)
    case isEmpty
    case isNotEmpty
}

/// A condition on one model field.
public struct FilterCondition: Sendable, Hashable {
    public var field: String
    public var `operator`: FilterOperator

    public init(_ field: String, _ op: FilterOperator) {
        self.field = field
        self.operator = op
    }

    /// Whether `value` satisfies the condition.
    public func matches(_ value: FieldValue) -> Bool {
        switch self.operator {
        case .equals(let expected): return Self.equal(value, expected)
        case .notEquals(let expected): return !Self.equal(value, expected)
        case .oneOf(let values): return values.contains { Self.equal(value, $0) }
        case .contains(let needle):
            if case .multiSelect(let values) = value { return values.contains(needle) }
            return value.text.lowercased().contains(needle.lowercased())
        case .atLeast(let bound): return Self.compare(value, bound).map { $0 >= 0 } ?? false
        case .atMost(let bound): return Self.compare(value, bound).map { $0 <= 0 } ?? false
        case .isEmpty: return value.isEmpty
        case .isNotEmpty: return !value.isEmpty
        }
    }

    /// Equality, where a multi-select equals a value it contains exactly as a one-element list.
    static func equal(_ a: FieldValue, _ b: FieldValue) -> Bool {
        switch (a, b) {
        case (.multiSelect(let values), .select(let s)): values == [s]
        case (.long(let x), .double(let y)): Double(x) == y
        case (.double(let x), .long(let y)): x == Double(y)
        default: a == b
        }
    }

    /// -1, 0, 1, or nil when the values do not compare.
    static func compare(_ a: FieldValue, _ b: FieldValue) -> Int? {
        func order<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : (x == y ? 0 : 1) }
        switch (a, b) {
        case (.date(let x), .date(let y)): return order(x, y)
        case (.dateTime(let x), .dateTime(let y)): return order(x, y)
        case (.long(let x), .long(let y)): return order(x, y)
        case (.double(let x), .double(let y)): return order(x, y)
        case (.long(let x), .double(let y)): return order(Double(x), y)
        case (.double(let x), .long(let y)): return order(x, Double(y))
        case (.duration(let x), .duration(let y)): return order(x, y)
        case (.string(let x), .string(let y)): return order(x, y)
        default: return nil
        }
    }
}

/// Conditions combined with and, or, not.
public indirect enum FilterExpression: Sendable, Hashable {
    case condition(FilterCondition)
    case all([FilterExpression])
    case any([FilterExpression])
    case not(FilterExpression)

    /// Evaluates the expression; `value` gives a model field's value by name.
    public func evaluate(_ value: (String) -> FieldValue) -> Bool {
        switch self {
        case .condition(let c): c.matches(value(c.field))
        case .all(let parts): parts.allSatisfy { $0.evaluate(value) }
        case .any(let parts): parts.contains { $0.evaluate(value) }
        case .not(let part): !part.evaluate(value)
        }
    }

    /// All conditions, depth first.
    public var conditions: [FilterCondition] {
        switch self {
        case .condition(let c): [c]
        case .all(let parts), .any(let parts): parts.flatMap(\.conditions)
        case .not(let part): part.conditions
        }
    }
}

/// When a filter applies (guide L7354–7365).
public enum FilterScope: String, Sendable, Hashable, Codable {
    /// Artifacts that stop matching leave the integration (and become twinless).
    case creationAndUpdate = "creation-and-update"
    /// Only creation is filtered; pairs keep synchronising whatever their values become.
    case creationOnly = "creation-only"
}

/// Which artifacts a statement concerns (guide L7368–7411).
public enum FilterTarget: Sendable, Hashable {
    case bothCollections
    case collection(Side)
    case projects(Side, [String])

    func applies(to side: Side, project: String) -> Bool {
        switch self {
        case .bothCollections: true
        case .collection(let s): s == side
        case .projects(let s, let projects): s == side && projects.contains(project)
        }
    }
}

/// One filter statement.
public struct FilterStatement: Sendable, Hashable {
    public var target: FilterTarget
    public var expression: FilterExpression

    public init(_ target: FilterTarget = .bothCollections, _ expression: FilterExpression) {
        self.target = target
        self.expression = expression
    }
}

/// Artifact filtering: an artifact is eligible when every statement that applies to it holds.
public struct ArtifactFilter: Sendable, Hashable {
    public var scope: FilterScope
    public var statements: [FilterStatement]

    public init(scope: FilterScope = .creationAndUpdate, _ statements: [FilterStatement]) {
        self.scope = scope
        self.statements = statements
    }

    /// The first statement that applies and fails, or nil when the artifact passes.
    func failing(side: Side, project: String, _ value: (String) -> FieldValue) -> FilterStatement? {
        self.statements.first { $0.target.applies(to: side, project: project) && !$0.expression.evaluate(value) }
    }
}

/// Conditions read as the configuration writes them: `status not-equals Closed`, `priority in [High, Urgent]`.
extension FilterCondition: CustomStringConvertible {
    public var description: String {
        func text(_ v: FieldValue) -> String {
            switch v {
            case .null: "empty"
            case .multiSelect(let values): "[" + values.joined(separator: ", ") + "]"
            default: v.text
            }
        }
        switch self.operator {
        case .equals(let v): return "\(self.field) equals \(text(v))"
        case .notEquals(let v): return "\(self.field) not-equals \(text(v))"
        case .oneOf(let values): return "\(self.field) in [\(values.map(text).joined(separator: ", "))]"
        case .contains(let s): return "\(self.field) contains \(s)"
        case .atLeast(let v): return "\(self.field) at-least \(text(v))"
        case .atMost(let v): return "\(self.field) at-most \(text(v))"
        case .isEmpty: return "\(self.field) is-empty"
        case .isNotEmpty: return "\(self.field) is-not-empty"
        }
    }
}

extension FilterExpression: CustomStringConvertible {
    public var description: String {
        switch self {
        case .condition(let c): return c.description
        case .all(let parts): return parts.count == 1 ? parts[0].description : "(" + parts.map(\.description).joined(separator: " and ") + ")"
        case .any(let parts): return parts.count == 1 ? parts[0].description : "(" + parts.map(\.description).joined(separator: " or ") + ")"
        case .not(.condition(let c)):
            switch c.operator {
            case .oneOf(let values): return "\(c.field) not-in [\(values.map(\.text).joined(separator: ", "))]"
            case .atMost(let v): return "\(c.field) greater-than \(v.text)"
            case .atLeast(let v): return "\(c.field) less-than \(v.text)"
            default: return "not (\(c.description))"
            }
        case .not(let part): return "not \(part.description)"
        }
    }
}
