import CLibPQ
import Foundation
import Logging

/// Settings derived once from the configuration and shared by every connection of a client.
struct ConnectionSettings: Sendable {
    var connectionString: String
    var connectTimeoutSeconds: Int
    var applicationName: String
    var statementCacheCapacity: Int
    /// The password found in the connection string, scrubbed from every libpq message.
    var secrets: [String]

    init(_ configuration: PostgresConfiguration, applicationSuffix: String = "") {
        self.connectionString = configuration.connectionString
        let (seconds, attoseconds) = configuration.connectTimeout.components
        self.connectTimeoutSeconds = max(1, Int(seconds) + (attoseconds > 0 ? 1 : 0))
        self.applicationName = configuration.applicationName + applicationSuffix
        self.statementCacheCapacity = max(1, configuration.statementCacheCapacity)
        self.secrets = Self.passwords(in: configuration.connectionString)
    }

    /// The `password` values of a conninfo string or URI (parsed by libpq itself).
    static func passwords(in connectionString: String) -> [String] {
        var secrets: [String] = []
        var errorMessage: UnsafeMutablePointer<CChar>?
        if let options = PQconninfoParse(connectionString, &errorMessage) {
            var option = options
            while let keyword = option.pointee.keyword {
                if String(cString: keyword) == "password", let value = option.pointee.val {
                    let password = String(cString: value)
                    if !password.isEmpty { secrets.append(password) }
                }
                option += 1
            }
            PQconninfoFree(options)
        }
        if let errorMessage { PQfreemem(errorMessage) }
        // Also the raw and percent-decoded user-info password of a URI, in case libpq could not parse it.
        if let schemeEnd = connectionString.range(of: "://"),
            let at = connectionString[schemeEnd.upperBound...].firstIndex(of: "@")
        {
            let userInfo = connectionString[schemeEnd.upperBound..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                let raw = String(userInfo[userInfo.index(after: colon)...])
                if !raw.isEmpty {
                    secrets.append(raw)
                    if let decoded = raw.removingPercentEncoding, decoded != raw { secrets.append(decoded) }
                }
            }
        }
        return secrets
    }

    func scrub(_ message: String) -> String {
        var message = message
        for secret in self.secrets where message.contains(secret) {
            message = message.replacingOccurrences(of: secret, with: "********")
        }
        return message.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Keeps a `PGcancel` alive for as long as an interrupt closure may use it.
final class CancelHandle: @unchecked Sendable {
    private let cancel: OpaquePointer

    init?(_ connection: OpaquePointer) {
        guard let cancel = PQgetCancel(connection) else { return nil }
        self.cancel = cancel
    }

    /// Asks the server to cancel the running statement (`PQcancel` is safe from any thread).
    func fire() {
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(self.cancel, &buffer, 256)
    }

    deinit { PQfreeCancel(self.cancel) }
}

/// Holds the logger for libpq's notice processor (a C callback with a context pointer).
final class NoticeSink {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }
}

/// One libpq connection with its prepared-statement cache. Confined to the dedicated thread that owns it:
/// every method runs there (hence `@unchecked Sendable`).
final class LibPQConnection: @unchecked Sendable {
    struct StatementKey: Hashable {
        var sql: String
        var types: [UInt32]
    }

    let settings: ConnectionSettings
    let logger: Logger
    private(set) var handle: OpaquePointer?
    private(set) var cancelHandle: CancelHandle?
    private var noticeSink: NoticeSink?
    private var statements: [StatementKey: String] = [:]
    private var statementCounter = 0
    private var lastLease: UInt64 = 0

    init(settings: ConnectionSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    deinit { self.close() }

    var backendPID: Int32 { self.handle.map { PQbackendPID($0) } ?? 0 }

    func close() {
        if let handle = self.handle {
            PQfinish(handle)
            self.handle = nil
            self.cancelHandle = nil
            self.noticeSink = nil
            self.statements.removeAll()
        }
    }

    /// Opens the connection if there is none, or if the one there is broken: a dead server backend leaves
    /// the socket readable at EOF, so an idle connection that has input pending is checked first.
    func ensureOpen() throws {
        if let handle = self.handle {
            if PQstatus(handle) == CONNECTION_OK && self.idleConnectionIsHealthy(handle) { return }
            self.logger.debug(
                "postgres connection broken, reconnecting", metadata: ["db.backend_pid": "\(PQbackendPID(handle))"])
            self.close()
        }
        try self.open()
    }

    private func idleConnectionIsHealthy(_ handle: OpaquePointer) -> Bool {
        // Input while idle: a notice, a notification, or a terminated backend's FATAL error followed by EOF.
        // Read until nothing is pending; EOF makes PQconsumeInput fail.
        for _ in 0..<8 {
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 0) > 0 else { break }
            if PQconsumeInput(handle) == 0 { return false }
            while let notify = PQnotifies(handle) { PQfreemem(notify) }
        }
        return PQstatus(handle) == CONNECTION_OK
    }

    private func open() throws {
        let connection = try Self.connect(settings: self.settings)
        self.handle = connection
        self.cancelHandle = CancelHandle(connection)
        let sink = NoticeSink(logger: self.logger)
        self.noticeSink = sink
        Self.installNoticeProcessor(connection, sink: sink)
        self.logger.debug(
            "postgres connection opened",
            metadata: [
                "db.backend_pid": "\(PQbackendPID(connection))",
                "db.host": "\(PQhost(connection).map { String(cString: $0) } ?? "")",
                "db.port": "\(PQport(connection).map { String(cString: $0) } ?? "")",
            ])
    }

    /// Sends the connection's notices and warnings to `sink`'s logger at debug level instead of stderr.
    /// `sink` must outlive the connection.
    static func installNoticeProcessor(_ connection: OpaquePointer, sink: NoticeSink) {
        PQsetNoticeProcessor(
            connection,
            { context, message in
                guard let context, let message else { return }
                let sink = Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue()
                let text = String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
                sink.logger.debug("postgres notice", metadata: ["db.notice": "\(text)"])
            }, Unmanaged.passUnretained(sink).toOpaque())
    }

    /// `PQconnectdbParams` with our defaults first, the caller's string expanded after them (so its settings
    /// win), and UTF-8 forced last. Sets DateStyle ISO when the server default differs.
    static func connect(settings: ConnectionSettings) throws -> OpaquePointer {
        // TCP keepalives notice a silently dead peer in about two minutes instead of the OS's two hours.
        let keywords = [
            "connect_timeout", "application_name", "keepalives_idle", "keepalives_interval", "keepalives_count",
            "dbname", "client_encoding",
        ]
        let values = [
            String(settings.connectTimeoutSeconds), settings.applicationName, "60", "10", "6",
            settings.connectionString, "UTF8",
        ]
        let keywordPointers = keywords.map { strdup($0) } + [nil]
        let valuePointers = values.map { strdup($0) } + [nil]
        defer {
            keywordPointers.forEach { free($0) }
            valuePointers.forEach { free($0) }
        }
        let connection: OpaquePointer? = keywordPointers.map { UnsafePointer($0) }.withUnsafeBufferPointer { keys in
            valuePointers.map { UnsafePointer($0) }.withUnsafeBufferPointer { vals in
                PQconnectdbParams(keys.baseAddress, vals.baseAddress, 1)
            }
        }
        guard let connection else {
            throw PostgresError(kind: .connection, message: "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = settings.scrub(String(cString: PQerrorMessage(connection)))
            PQfinish(connection)
            throw PostgresError(kind: .connection, message: message.isEmpty ? "connection failed" : message)
        }
        let dateStyle = PQparameterStatus(connection, "DateStyle").map { String(cString: $0) } ?? ""
        if !dateStyle.hasPrefix("ISO") {
            let result = PQexec(connection, "SET DateStyle TO ISO")
            let ok = PQresultStatus(result) == PGRES_COMMAND_OK
            PQclear(result)
            guard ok else {
                let message = settings.scrub(String(cString: PQerrorMessage(connection)))
                PQfinish(connection)
                throw PostgresError(kind: .connection, message: "could not set DateStyle: \(message)")
            }
        }
        return connection
    }

    // MARK: Queries

    /// Runs a query: bind-less SQL through the simple protocol (several statements allowed, e.g. a migration
    /// file), anything with binds as a prepared statement cached per connection.
    /// Call ``ensureOpen()`` first.
    func execute(_ query: PostgresQuery, lease: UInt64) throws -> PostgresRows {
        guard let handle = self.handle else { throw PostgresError(kind: .connection, message: "not connected") }
        if lease != self.lastLease {
            self.lastLease = lease
            self.resetTransactionIfNeeded(handle)
        }
        self.logger.trace(
            "postgres query", metadata: ["db.statement": "\(query.sql)", "db.binds": "\(query.binds.count)"])
        if query.binds.isEmpty {
            return try self.consume(PQexec(handle, query.sql), query: query, handle: handle)
        }
        let types = query.binds.map(\.dataType.rawValue)
        let key = StatementKey(sql: query.sql, types: types)
        var retried = false
        while true {
            let name = try self.prepare(key, handle: handle, query: query)
            do {
                return try self.executePrepared(name: name, query: query, handle: handle)
            } catch let error as PostgresError
                where !retried && PQtransactionStatus(handle) == PQTRANS_IDLE
                && (error.sqlState == "26000" || (error.sqlState == "0A000" && error.message.contains("cached plan")))
            {
                // The statement vanished (DISCARD ALL) or its result type changed (ALTER TABLE): prepare again.
                retried = true
                self.statements[key] = nil
                PQclear(PQexec(handle, "DEALLOCATE \(name)"))
            }
        }
    }

    /// ROLLBACK if the connection is open and inside a transaction; nothing otherwise (a broken connection
    /// has no transaction left to roll back).
    func rollbackIfInTransaction() {
        guard let handle = self.handle else { return }
        let status = PQtransactionStatus(handle)
        guard status == PQTRANS_INTRANS || status == PQTRANS_INERROR else { return }
        PQclear(PQexec(handle, "ROLLBACK"))
        if PQstatus(handle) != CONNECTION_OK { self.close() }
    }

    /// A connection handed back mid-transaction (say its task was cancelled before ROLLBACK) is rolled back
    /// before the next lease uses it.
    private func resetTransactionIfNeeded(_ handle: OpaquePointer) {
        let status = PQtransactionStatus(handle)
        guard status == PQTRANS_INTRANS || status == PQTRANS_INERROR else { return }
        self.logger.debug("postgres connection returned inside a transaction; rolling back")
        PQclear(PQexec(handle, "ROLLBACK"))
    }

    private func prepare(_ key: StatementKey, handle: OpaquePointer, query: PostgresQuery) throws -> String {
        if let name = self.statements[key] { return name }
        if self.statements.count >= self.settings.statementCacheCapacity {
            PQclear(PQexec(handle, "DEALLOCATE ALL"))
            self.statements.removeAll()
        }
        self.statementCounter += 1
        let name = "tandem_\(self.statementCounter)"
        let result = key.types.withUnsafeBufferPointer { types in
            PQprepare(handle, name, key.sql, Int32(key.types.count), types.baseAddress)
        }
        _ = try self.consume(result, query: query, handle: handle)
        self.statements[key] = name
        return name
    }

    private func executePrepared(name: String, query: PostgresQuery, handle: OpaquePointer) throws -> PostgresRows {
        // All values in one buffer; text values NUL-terminated (libpq reads text parameters as C strings).
        var buffer: [UInt8] = []
        var offsets: [Int] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        offsets.reserveCapacity(query.binds.count)
        lengths.reserveCapacity(query.binds.count)
        formats.reserveCapacity(query.binds.count)
        for (index, bind) in query.binds.enumerated() {
            formats.append(bind.format.rawValue)
            guard let bytes = bind.bytes else {
                offsets.append(-1)
                lengths.append(0)
                continue
            }
            if bind.format == .text && bytes.contains(0) {
                throw PostgresError(
                    kind: .encoding, message: "parameter $\(index + 1) contains a NUL character, which text cannot hold",
                    query: query.sql)
            }
            offsets.append(buffer.count)
            lengths.append(Int32(bytes.count))
            buffer.append(contentsOf: bytes)
            buffer.append(0)
        }
        let count = Int32(query.binds.count)
        let result = buffer.withUnsafeBufferPointer { base -> OpaquePointer? in
            let values: [UnsafePointer<CChar>?] = offsets.map { offset in
                offset < 0 ? nil : UnsafeRawPointer(base.baseAddress! + offset).assumingMemoryBound(to: CChar.self)
            }
            return PQexecPrepared(handle, name, count, values, lengths, formats, 0)
        }
        return try self.consume(result, query: query, handle: handle)
    }

    /// Turns a PGresult into rows or an error, and frees it.
    private func consume(_ result: OpaquePointer?, query: PostgresQuery, handle: OpaquePointer) throws -> PostgresRows {
        guard let result else {
            throw self.connectionError(handle, query: query)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return Self.materialize(result)
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
            if PQstatus(handle) != CONNECTION_OK {
                throw self.connectionError(handle, query: query, result: result)
            }
            throw self.serverError(result, query: query)
        default:
            // COPY and friends: not supported through this API. Leave the connection clean.
            self.close()
            throw PostgresError(
                kind: .protocolViolation,
                message: "unsupported result status \(String(cString: PQresStatus(PQresultStatus(result))))",
                query: query.sql)
        }
    }

    private func field(_ result: OpaquePointer, _ code: Character) -> String? {
        PQresultErrorField(result, Int32(code.asciiValue!)).map { self.settings.scrub(String(cString: $0)) }
    }

    private func serverError(_ result: OpaquePointer, query: PostgresQuery) -> PostgresError {
        var error = PostgresError(
            kind: .server,
            message: self.field(result, "M") ?? self.settings.scrub(String(cString: PQresultErrorMessage(result))),
            sqlState: self.field(result, "C"),
            detail: self.field(result, "D"),
            hint: self.field(result, "H"),
            query: query.sql)
        error.schemaName = self.field(result, "s")
        error.tableName = self.field(result, "t")
        error.columnName = self.field(result, "c")
        error.constraintName = self.field(result, "n")
        self.logger.debug(
            "postgres statement failed",
            metadata: ["db.statement": "\(query.sql)", "db.sqlstate": "\(error.sqlState ?? "")"])
        return error
    }

    /// The connection broke: report it and drop the handle so the next use reconnects.
    private func connectionError(
        _ handle: OpaquePointer, query: PostgresQuery, result: OpaquePointer? = nil
    )
        -> PostgresError
    {
        var error = PostgresError(
            kind: .connection,
            message: self.settings.scrub(String(cString: PQerrorMessage(handle))),
            query: query.sql)
        if let result {
            error.sqlState = self.field(result, "C")
            if let message = self.field(result, "M") { error.message = message }
        }
        if error.message.isEmpty { error.message = "connection to the server lost" }
        self.logger.debug(
            "postgres connection lost",
            metadata: ["db.statement": "\(query.sql)", "db.sqlstate": "\(error.sqlState ?? "")"])
        self.close()
        return error
    }

    static func materialize(_ result: OpaquePointer) -> PostgresRows {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var columns: [String] = []
        var types: [PostgresDataType] = []
        columns.reserveCapacity(columnCount)
        types.reserveCapacity(columnCount)
        for column in 0..<columnCount {
            columns.append(PQfname(result, Int32(column)).map { String(cString: $0) } ?? "?column?")
            types.append(PostgresDataType(PQftype(result, Int32(column))))
        }
        var offsets: [(start: Int, length: Int)] = []
        offsets.reserveCapacity(rowCount * columnCount)
        var bytes: [UInt8] = []
        for row in 0..<rowCount {
            for column in 0..<columnCount {
                let r = Int32(row)
                let c = Int32(column)
                if PQgetisnull(result, r, c) != 0 {
                    offsets.append((0, -1))
                    continue
                }
                let length = Int(PQgetlength(result, r, c))
                offsets.append((bytes.count, length))
                if length > 0, let value = PQgetvalue(result, r, c) {
                    value.withMemoryRebound(to: UInt8.self, capacity: length) {
                        bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
                    }
                }
            }
        }
        let tag = PQcmdStatus(result).map { String(cString: $0) } ?? ""
        let affected = PQcmdTuples(result).map { Int(String(cString: $0)) ?? 0 } ?? 0
        return PostgresRows(
            storage: .init(columns: columns, types: types, offsets: offsets, bytes: bytes, rowCount: rowCount),
            affectedRows: affected, commandTag: tag)
    }
}
