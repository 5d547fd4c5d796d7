/// SQL text plus bind values. Every interpolated value becomes a `$n` parameter, so values never reach the
/// SQL text; `\(unescaped: name)` splices raw SQL on purpose (identifiers you control, never input).
///
/// ```swift
/// try await client.query("SELECT id FROM \(unescaped: table) WHERE name = \(name) AND n > \(limit)")
/// ```
public struct PostgresQuery: ExpressibleByStringInterpolation, Sendable, Hashable, CustomStringConvertible {
    public var sql: String
    public var binds: [PostgresBind]

    public init(_ sql: String, binds: [PostgresBind] = []) {
        self.sql = sql
        self.binds = binds
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    public init(stringInterpolation: StringInterpolation) {
        self.init(stringInterpolation.sql, binds: stringInterpolation.binds)
    }

    /// The SQL text only (bind values may be secrets and are never shown).
    public var description: String { self.sql }

    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        public var sql: String
        public var binds: [PostgresBind]

        public init(literalCapacity: Int, interpolationCount: Int) {
            self.sql = ""
            self.sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            self.binds = []
            self.binds.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            self.sql.append(literal)
        }

        /// A `$n` parameter.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value) {
            self.binds.append(value.postgresBind())
            self.sql.append("$\(self.binds.count)")
        }

        /// A `$n` parameter; `nil` is NULL of `Value`'s type.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            self.binds.append(value.postgresBind())
            self.sql.append("$\(self.binds.count)")
        }

        /// Raw SQL, spliced in as is.
        public mutating func appendInterpolation(unescaped sql: String) {
            self.sql.append(sql)
        }
    }
}
