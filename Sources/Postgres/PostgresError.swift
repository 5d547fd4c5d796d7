/// An error from the PostgreSQL client: a server error (with its SQLSTATE), a connection failure, a value
/// that cannot be decoded, or a pool that has been shut down.
///
/// `description` gives the kind, the SQLSTATE, the server's message and hint, and the SQL text (never bind
/// values, and never the connection string's password: libpq messages are scrubbed of it).
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong, broadly.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case connection, server, decoding, encoding, poolClosed, protocolViolation
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Could not connect, or the connection broke (the pool replaces it on next use).
        public static let connection = Kind(.connection)
        /// The server rejected the statement; `sqlState` says why.
        public static let server = Kind(.server)
        /// A column value could not be decoded as the requested Swift type.
        public static let decoding = Kind(.decoding)
        /// A bind value could not be sent (e.g. a string with a NUL character).
        public static let encoding = Kind(.encoding)
        /// The client was shut down.
        public static let poolClosed = Kind(.poolClosed)
        /// libpq returned something unexpected (e.g. COPY on a plain query).
        public static let protocolViolation = Kind(.protocolViolation)

        public var description: String { self.base.rawValue }
    }

    public var kind: Kind
    /// The five-character SQLSTATE (e.g. `23505` unique violation, `42P01` undefined table) for server errors.
    public var sqlState: String?
    /// The server's primary message, libpq's message, or the client's own.
    public var message: String
    /// The server's detail (may quote row values, so it is left out of `description`).
    public var detail: String?
    public var hint: String?
    /// Server fields naming the object involved, when the server sends them.
    public var schemaName: String?
    public var tableName: String?
    public var columnName: String?
    public var constraintName: String?
    /// The SQL text of the statement (no values: those are always binds).
    public var query: String?

    public init(
        kind: Kind, message: String, sqlState: String? = nil, detail: String? = nil, hint: String? = nil,
        query: String? = nil
    ) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.query = query
    }

    public var description: String {
        var text = "PostgresError.\(self.kind)"
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(self.message)"
        if let hint { text += " (hint: \(hint))" }
        if let query { text += " (query: \(query))" }
        return text
    }

    /// `description` plus the server's detail, which may contain row values.
    public var debugDescription: String {
        guard let detail else { return self.description }
        return self.description + " (detail: \(detail))"
    }

    static let poolClosedError = PostgresError(kind: .poolClosed, message: "the PostgreSQL client has been shut down")
}

extension PostgresError {
    /// `23505`
    public static let uniqueViolation = "23505"
    /// `23503`
    public static let foreignKeyViolation = "23503"
    /// `42P01`
    public static let undefinedTable = "42P01"
    /// `40001`
    public static let serializationFailure = "40001"
    /// `40P01`
    public static let deadlockDetected = "40P01"
}
