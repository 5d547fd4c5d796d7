/// One query parameter as libpq sends it: bytes (`nil` is SQL NULL), a type OID and a format.
public struct PostgresBind: Sendable, Hashable {
    public enum Format: Int32, Sendable, Hashable {
        case text = 0
        case binary = 1
    }

    /// The value's bytes in `format`; `nil` is SQL NULL.
    public var bytes: [UInt8]?
    /// The parameter type sent with the statement; `.unspecified` lets the server infer it.
    public var dataType: PostgresDataType
    public var format: Format

    public init(bytes: [UInt8]?, dataType: PostgresDataType, format: Format = .text) {
        self.bytes = bytes
        self.dataType = dataType
        self.format = format
    }

    /// A text-format parameter.
    public init(text: String, dataType: PostgresDataType) {
        self.init(bytes: Array(text.utf8), dataType: dataType, format: .text)
    }

    /// SQL NULL of the given type.
    public static func null(_ dataType: PostgresDataType = .unspecified) -> PostgresBind {
        PostgresBind(bytes: nil, dataType: dataType)
    }

    /// The bind for any encodable value (`Optional.none` becomes NULL).
    public init(_ value: some PostgresEncodable) {
        self = value.postgresBind()
    }
}

/// A Swift value that can be sent as a query parameter.
public protocol PostgresEncodable: Sendable {
    /// The parameter type announced to the server (`.unspecified` to let it infer one).
    static var postgresDataType: PostgresDataType { get }
    /// The value as a parameter.
    func postgresBind() -> PostgresBind
}

/// A Swift value that can be decoded from a result column, chosen by the column's type OID.
public protocol PostgresDecodable {
    /// Decodes a non-NULL cell (``Optional`` handles NULL); throws ``PostgresError`` of kind `.decoding`
    /// when the column's type does not fit.
    init(postgresCell cell: PostgresCell) throws
}

public typealias PostgresCodable = PostgresEncodable & PostgresDecodable

/// One value of a result row, in PostgreSQL's text format (the client asks for text results).
public struct PostgresCell: Sendable, Hashable {
    /// The value's bytes as the server sent them; `nil` is SQL NULL.
    public var bytes: [UInt8]?
    public var dataType: PostgresDataType
    public var columnName: String
    public var columnIndex: Int

    public init(bytes: [UInt8]?, dataType: PostgresDataType, columnName: String, columnIndex: Int) {
        self.bytes = bytes
        self.dataType = dataType
        self.columnName = columnName
        self.columnIndex = columnIndex
    }

    public var isNull: Bool { self.bytes == nil }

    /// Decodes the cell as `T`.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self) throws -> T {
        try T(postgresCell: self)
    }

    /// The non-NULL bytes, or a decoding error naming the column.
    public func requireBytes<T>(for type: T.Type) throws -> [UInt8] {
        guard let bytes else {
            throw self.error("is NULL; decode it as \(T.self)? (an Optional)", for: type)
        }
        return bytes
    }

    /// Throws unless the column's type is one of `accepted`.
    public func require<T>(_ accepted: Set<PostgresDataType>, for type: T.Type) throws -> [UInt8] {
        guard accepted.contains(self.dataType) else {
            throw self.error("has type \(self.dataType), which cannot be decoded as \(T.self)", for: type)
        }
        return try self.requireBytes(for: type)
    }

    /// A decoding error that names the column, its type and the Swift type (never the value).
    public func error<T>(_ problem: String, for type: T.Type) -> PostgresError {
        PostgresError(
            kind: .decoding,
            message: "column \"\(self.columnName)\" (index \(self.columnIndex), \(self.dataType)) \(problem)"
        )
    }
}

// MARK: Optional

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { Wrapped.postgresDataType }
    public func postgresBind() -> PostgresBind {
        switch self {
        case .some(let value): value.postgresBind()
        case .none: .null(Wrapped.postgresDataType)
        }
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        if cell.bytes == nil {
            self = .none
        } else {
            self = .some(try Wrapped(postgresCell: cell))
        }
    }
}

extension PostgresBind: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .unspecified }
    public func postgresBind() -> PostgresBind { self }
}
