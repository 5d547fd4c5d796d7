/// How a ``PostgresClient`` connects: a libpq connection string plus pool settings.
///
/// `connectionString` is handed to libpq unchanged (`PQconnectdbParams` with `expand_dbname`), so every
/// libpq form works: `key=value` conninfo, `postgresql://` URIs, several hosts
/// (`host=a,b port=5432,5433 target_session_attrs=read-write`), `sslmode`, `passfile`, `service`, and the
/// `PG*` environment variables for whatever the string leaves out.
public struct PostgresConfiguration: Sendable {
    /// Any libpq conninfo string or URI. Settings in it win over ``connectTimeout`` and ``applicationName``.
    public var connectionString: String
    /// The most connections the pool opens; each one is owned by its own OS thread.
    public var maximumConnections: Int = 8
    /// libpq's `connect_timeout` (per host), unless the connection string sets one.
    public var connectTimeout: Duration = .seconds(10)
    /// libpq's `application_name`, unless the connection string sets one. Listeners add `-listener`.
    public var applicationName: String = "tandem"
    /// Prepared statements kept per connection (keyed by SQL text and parameter types); beyond this the
    /// connection deallocates them all and starts again.
    public var statementCacheCapacity: Int = 256

    public init(connectionString: String, maximumConnections: Int = 8) {
        self.connectionString = connectionString
        self.maximumConnections = maximumConnections
    }
}
