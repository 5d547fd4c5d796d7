import Postgres

/// Builds a query from pieces (optional filters): SQL text you write, values only as `$n` parameters.
struct QueryBuilder {
    var sql: String
    var binds: [PostgresBind] = []

    init(_ sql: String = "") { self.sql = sql }

    /// A `$n` parameter for `value` (NULL of its type for nil).
    mutating func bind<Value: PostgresEncodable>(_ value: Value?) -> String {
        self.binds.append(value.postgresBind())
        return "$\(self.binds.count)"
    }

    mutating func append(_ sql: String) { self.sql += sql }

    var query: PostgresQuery { PostgresQuery(self.sql, binds: self.binds) }
}
