/// A PostgreSQL type OID (`pg_type.oid`). The built-in ones have fixed OIDs; user types (enums, domains,
/// extensions) have OIDs of 16384 and above.
public struct PostgresDataType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// Type 0: let the server infer the parameter's type from the statement.
    public static let unspecified = Self(0)
    public static let bool = Self(16)
    public static let bytea = Self(17)
    public static let char = Self(18)
    public static let name = Self(19)
    public static let int8 = Self(20)
    public static let int2 = Self(21)
    public static let int4 = Self(23)
    public static let text = Self(25)
    public static let oid = Self(26)
    public static let json = Self(114)
    public static let xml = Self(142)
    public static let jsonArray = Self(199)
    public static let float4 = Self(700)
    public static let float8 = Self(701)
    public static let unknown = Self(705)
    public static let boolArray = Self(1000)
    public static let byteaArray = Self(1001)
    public static let nameArray = Self(1003)
    public static let int2Array = Self(1005)
    public static let int4Array = Self(1007)
    public static let textArray = Self(1009)
    public static let bpcharArray = Self(1014)
    public static let varcharArray = Self(1015)
    public static let int8Array = Self(1016)
    public static let float4Array = Self(1021)
    public static let float8Array = Self(1022)
    public static let bpchar = Self(1042)
    public static let varchar = Self(1043)
    public static let date = Self(1082)
    public static let time = Self(1083)
    public static let timestamp = Self(1114)
    public static let timestampArray = Self(1115)
    public static let timestamptz = Self(1184)
    public static let timestamptzArray = Self(1185)
    public static let interval = Self(1186)
    public static let numeric = Self(1700)
    public static let uuid = Self(2950)
    public static let uuidArray = Self(2951)
    public static let jsonb = Self(3802)
    public static let jsonbArray = Self(3807)

    /// True for OIDs the server allocated at run time (enums, domains, extension types such as citext).
    public var isUserDefined: Bool { self.rawValue >= 16384 }

    public var description: String {
        switch self {
        case .bool: "bool"
        case .bytea: "bytea"
        case .char: "char"
        case .name: "name"
        case .int8: "int8"
        case .int2: "int2"
        case .int4: "int4"
        case .text: "text"
        case .oid: "oid"
        case .json: "json"
        case .xml: "xml"
        case .float4: "float4"
        case .float8: "float8"
        case .unknown: "unknown"
        case .boolArray: "bool[]"
        case .int2Array: "int2[]"
        case .int4Array: "int4[]"
        case .textArray: "text[]"
        case .varcharArray: "varchar[]"
        case .int8Array: "int8[]"
        case .float4Array: "float4[]"
        case .float8Array: "float8[]"
        case .bpchar: "bpchar"
        case .varchar: "varchar"
        case .date: "date"
        case .timestamp: "timestamp"
        case .timestamptz: "timestamptz"
        case .numeric: "numeric"
        case .uuid: "uuid"
        case .uuidArray: "uuid[]"
        case .jsonb: "jsonb"
        case .jsonbArray: "jsonb[]"
        default: "oid \(self.rawValue)"
        }
    }
}
