public import Postgres
public import TandemCore

/// The state of an artifact pair (`artifact_pairs.status`).
public enum PairStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// In step: the last sync succeeded or found nothing to do.
    case ok
    /// The same fields changed on both sides and the policy says to hold the pair.
    case conflict
    /// The pair cannot sync (e.g. its twin was deleted).
    case error
    /// One side left the integration's filter: the twins are no longer kept in step.
    case twinless
}

/// What an activity item records (`activity.kind`).
public enum ActivityKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A sync of an artifact failed.
    case error
    /// Something stops a repository or an integration as a whole (credentials, permissions, rules).
    case blocker
    case job
    /// Kept for the record, never in error (a conflict the policy resolved).
    case info
}

/// Where an activity item stands (`activity.status`).
public enum ActivityStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case open
    /// An operator asked for a retry; done or open again by its outcome.
    case retrying
    case cleared
    case ignored
    case done
}

/// An enum stored as its raw value in a text column: bound as that text, decoded from it (an unknown value is a
/// decoding error naming the column).
public protocol TextColumnValue: RawRepresentable<String>, PostgresCodable {}

extension TextColumnValue {
    public static var postgresDataType: PostgresDataType { String.postgresDataType }
    public func postgresBind() -> PostgresBind { self.rawValue.postgresBind() }

    public init(postgresCell cell: PostgresCell) throws {
        guard let value = Self(rawValue: try String(postgresCell: cell)) else {
            throw cell.error("holds a value that is not a \(Self.self)", for: Self.self)
        }
        self = value
    }
}

extension PairStatus: TextColumnValue {}
extension ActivityKind: TextColumnValue {}
extension ActivityStatus: TextColumnValue {}
extension TraceOutcome: TextColumnValue {}

extension PostgresQuery.StringInterpolation {
    /// A constant of the statement's text (`'open'`), not a parameter: the planner then sees it, as it must to use a
    /// partial index such as `WHERE status IN ('open', 'retrying')` in a generic plan. Raw values hold no quote.
    mutating func appendInterpolation(literal value: some TextColumnValue) {
        self.appendInterpolation(unescaped: "'\(value.rawValue)'")
    }

    /// Constants separated by commas, for `IN (…)`.
    mutating func appendInterpolation<Value: TextColumnValue>(literals values: [Value]) {
        self.appendInterpolation(unescaped: values.map { "'\($0.rawValue)'" }.joined(separator: ", "))
    }
}
