/// A fully materialized result: its rows, column names and types, and the affected-row count.
public struct PostgresRows: Sendable, RandomAccessCollection {
    final class Storage: Sendable {
        let columns: [String]
        let types: [PostgresDataType]
        let columnIndex: [String: Int]
        /// Per cell (row-major): start offset into `bytes` and length, -1 for NULL.
        let offsets: [(start: Int, length: Int)]
        let bytes: [UInt8]
        let rowCount: Int

        init(columns: [String], types: [PostgresDataType], offsets: [(start: Int, length: Int)], bytes: [UInt8], rowCount: Int) {
            self.columns = columns
            self.types = types
            var index: [String: Int] = [:]
            for (i, name) in columns.enumerated() where index[name] == nil { index[name] = i }
            self.columnIndex = index
            self.offsets = offsets
            self.bytes = bytes
            self.rowCount = rowCount
        }
    }

    let storage: Storage
    /// Rows inserted, updated, deleted, selected... as the server's command tag says (0 when it has none).
    public var affectedRows: Int
    /// The server's command tag, e.g. `INSERT 0 1`.
    public var commandTag: String

    init(storage: Storage, affectedRows: Int, commandTag: String) {
        self.storage = storage
        self.affectedRows = affectedRows
        self.commandTag = commandTag
    }

    /// Column names in order.
    public var columns: [String] { self.storage.columns }
    /// Column type OIDs in order.
    public var columnTypes: [PostgresDataType] { self.storage.types }

    public var startIndex: Int { 0 }
    public var endIndex: Int { self.storage.rowCount }
    public var count: Int { self.storage.rowCount }
    public subscript(position: Int) -> PostgresRow {
        precondition(position >= 0 && position < self.storage.rowCount, "row index out of range")
        return PostgresRow(storage: self.storage, row: position)
    }

    /// Decodes the first column of every row as `T`.
    public func decode<T: PostgresDecodable>(_ type: T.Type) throws -> [T] {
        try self.map { try $0.decode(type, at: 0) }
    }

    /// The single row of a result, or nil when it has none; throws if it has more than one.
    public func singleRow() throws -> PostgresRow? {
        guard self.count <= 1 else {
            throw PostgresError(kind: .decoding, message: "expected at most one row, got \(self.count)")
        }
        return self.first
    }
}

/// One row of a ``PostgresRows``.
public struct PostgresRow: Sendable, RandomAccessCollection {
    let storage: PostgresRows.Storage
    let row: Int

    public var columns: [String] { self.storage.columns }
    public var startIndex: Int { 0 }
    public var endIndex: Int { self.storage.columns.count }

    /// The cell at a column index.
    public subscript(position: Int) -> PostgresCell {
        precondition(position >= 0 && position < self.storage.columns.count, "column index out of range")
        let (start, length) = self.storage.offsets[self.row * self.storage.columns.count + position]
        let bytes: [UInt8]? =
            length < 0 ? nil : Array(self.storage.bytes[start..<start + length])
        return PostgresCell(
            bytes: bytes, dataType: self.storage.types[position], columnName: self.storage.columns[position],
            columnIndex: position)
    }

    /// The cell of the first column with that name, or nil when there is none.
    public subscript(column column: String) -> PostgresCell? {
        self.storage.columnIndex[column].map { self[$0] }
    }

    public func decode<T: PostgresDecodable>(_ type: T.Type, at index: Int) throws -> T {
        guard index >= 0 && index < self.storage.columns.count else {
            throw PostgresError(
                kind: .decoding, message: "column index \(index) out of range (\(self.storage.columns.count) columns)")
        }
        return try T(postgresCell: self[index])
    }

    public func decode<T: PostgresDecodable>(_ type: T.Type, column: String) throws -> T {
        guard let index = self.storage.columnIndex[column] else {
            throw PostgresError(
                kind: .decoding,
                message: "no column \"\(column)\" (columns: \(self.storage.columns.joined(separator: ", ")))")
        }
        return try T(postgresCell: self[index])
    }

    /// Decodes the leading columns as a tuple: `let (id, name) = try row.decode((Int, String).self)`.
    public func decode<each T: PostgresDecodable>(_ types: (repeat each T).Type) throws -> (repeat each T) {
        var index = 0
        func next<U: PostgresDecodable>(_ type: U.Type) throws -> U {
            defer { index += 1 }
            return try self.decode(type, at: index)
        }
        return (repeat try next((each T).self))
    }
}
