public import Foundation

// Built-in conformances. Parameters go as text (bytea as binary); results arrive as text and are parsed here
// by column type OID.

// MARK: Strings

extension String: PostgresEncodable, PostgresDecodable {
    /// Unspecified, so the server infers the type from context (text, varchar, enum, json, uuid, ...).
    public static var postgresDataType: PostgresDataType { .unspecified }
    public func postgresBind() -> PostgresBind { PostgresBind(text: self, dataType: .unspecified) }

    static let decodableTypes: Set<PostgresDataType> = [
        .text, .varchar, .bpchar, .name, .char, .unknown, .json, .jsonb, .xml, .numeric, .uuid, .date, .time,
        .interval,
    ]

    public init(postgresCell cell: PostgresCell) throws {
        guard Self.decodableTypes.contains(cell.dataType) || cell.dataType.isUserDefined else {
            throw cell.error("has type \(cell.dataType), which cannot be decoded as String", for: String.self)
        }
        self = String(decoding: try cell.requireBytes(for: String.self), as: UTF8.self)
    }
}

// MARK: Integers

enum TextNumber {
    static func integer(_ bytes: [UInt8]) -> Int64? {
        var index = 0
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard index < bytes.count else { return nil }
        var value: Int64 = 0
        while index < bytes.count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (multiplied, o1) = value.multipliedReportingOverflow(by: 10)
            let (added, o2) =
                negative
                ? multiplied.subtractingReportingOverflow(Int64(digit)) : multiplied.addingReportingOverflow(Int64(digit))
            guard !o1, !o2 else { return nil }
            value = added
            index += 1
        }
        return value
    }

    static func decode<T: FixedWidthInteger>(_ cell: PostgresCell, accepted: Set<PostgresDataType>) throws -> T {
        let bytes = try cell.require(accepted, for: T.self)
        guard let wide = integer(bytes), let value = T(exactly: wide) else {
            throw cell.error("is not a valid \(T.self)", for: T.self)
        }
        return value
    }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public static var postgresDataType: PostgresDataType { .int8 }
    public func postgresBind() -> PostgresBind { PostgresBind(text: String(self), dataType: .int8) }
    public init(postgresCell cell: PostgresCell) throws {
        self = try TextNumber.decode(cell, accepted: [.int2, .int4, .int8, .oid])
    }
}

extension Int64: PostgresEncodable, PostgresDecodable {
    public static var postgresDataType: PostgresDataType { .int8 }
    public func postgresBind() -> PostgresBind { PostgresBind(text: String(self), dataType: .int8) }
    public init(postgresCell cell: PostgresCell) throws {
        self = try TextNumber.decode(cell, accepted: [.int2, .int4, .int8, .oid])
    }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    public static var postgresDataType: PostgresDataType { .int4 }
    public func postgresBind() -> PostgresBind { PostgresBind(text: String(self), dataType: .int4) }
    public init(postgresCell cell: PostgresCell) throws {
        self = try TextNumber.decode(cell, accepted: [.int2, .int4])
    }
}

extension Int16: PostgresEncodable, PostgresDecodable {
    public static var postgresDataType: PostgresDataType { .int2 }
    public func postgresBind() -> PostgresBind { PostgresBind(text: String(self), dataType: .int2) }
    public init(postgresCell cell: PostgresCell) throws {
        self = try TextNumber.decode(cell, accepted: [.int2])
    }
}

// MARK: Bool

extension Bool: PostgresEncodable, PostgresDecodable {
    public static var postgresDataType: PostgresDataType { .bool }
    public func postgresBind() -> PostgresBind {
        PostgresBind(bytes: [self ? UInt8(ascii: "t") : UInt8(ascii: "f")], dataType: .bool)
    }
    public init(postgresCell cell: PostgresCell) throws {
        let bytes = try cell.require([.bool], for: Bool.self)
        switch bytes.first {
        case UInt8(ascii: "t"): self = true
        case UInt8(ascii: "f"): self = false
        default: throw cell.error("is not a valid Bool", for: Bool.self)
        }
    }
}

// MARK: Floating point

extension Double: PostgresEncodable, PostgresDecodable {
    public static var postgresDataType: PostgresDataType { .float8 }
    public func postgresBind() -> PostgresBind {
        let text: String =
            if self.isNaN { "NaN" } else if self == .infinity { "Infinity" } else if self == -.infinity {
                "-Infinity"
            } else { String(self) }
        return PostgresBind(text: text, dataType: .float8)
    }
    public init(postgresCell cell: PostgresCell) throws {
        let text = String(decoding: try cell.require([.float4, .float8, .numeric], for: Double.self), as: UTF8.self)
        switch text {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(text) else { throw cell.error("is not a valid Double", for: Double.self) }
            self = value
        }
    }
}

extension Float: PostgresEncodable, PostgresDecodable {
    public static var postgresDataType: PostgresDataType { .float4 }
    public func postgresBind() -> PostgresBind {
        var bind = Double(self).postgresBind()
        bind.dataType = .float4
        if self.isFinite { bind.bytes = Array(String(self).utf8) }
        return bind
    }
    public init(postgresCell cell: PostgresCell) throws {
        let double = try Double(postgresCell: cell)
        self = Float(double)
    }
}

// MARK: Dates

enum PostgresTimestamp {
    /// Microseconds between 1970-01-01 and 2001-01-01 (Foundation's reference date).
    static let referenceOffsetMicros: Int64 = 978_307_200 * 1_000_000

    static func micros(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSinceReferenceDate * 1_000_000).rounded()) + referenceOffsetMicros
    }

    static func date(micros: Int64) -> Date {
        Date(timeIntervalSinceReferenceDate: Double(micros - referenceOffsetMicros) / 1_000_000)
    }

    static func daysFromCivil(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (month <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, month, day)
    }

    /// `YYYY-MM-DD HH:MM:SS.ffffff+00` (UTC), which the server reads exactly.
    static func format(_ date: Date) -> String {
        let micros = self.micros(date)
        var days = micros / 86_400_000_000
        var rest = micros % 86_400_000_000
        if rest < 0 {
            rest += 86_400_000_000
            days -= 1
        }
        let (year, month, day) = civilFromDays(days)
        let seconds = rest / 1_000_000
        let fraction = rest % 1_000_000
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        let yearText = year > 0 ? pad(year, 4) : pad(1 - year, 4)
        return "\(yearText)-\(pad(month, 2))-\(pad(day, 2)) \(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):"
            + "\(pad(seconds % 60, 2)).\(pad(fraction, 6))+00" + (year > 0 ? "" : " BC")
    }

    /// Parses the ISO output of date, timestamp and timestamptz (DateStyle ISO), offset optional (UTC).
    static func parse(_ bytes: [UInt8]) -> Date? {
        if bytes == Array("infinity".utf8) { return .distantFuture }
        if bytes == Array("-infinity".utf8) { return .distantPast }
        var index = 0
        func number(maxDigits: Int = 10) -> Int64? {
            var value: Int64 = 0
            var count = 0
            while index < bytes.count, count < maxDigits, bytes[index] &- 48 < 10 {
                value = value * 10 + Int64(bytes[index] - 48)
                index += 1
                count += 1
            }
            return count == 0 ? nil : value
        }
        func expect(_ char: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == char else { return false }
            index += 1
            return true
        }
        guard var year = number(), expect(45), let month = number(), expect(45), let day = number() else { return nil }
        var micros: Int64 = 0
        var offsetSeconds: Int64 = 0
        if expect(32) {
            guard let hour = number(), expect(58), let minute = number(), expect(58), let second = number() else {
                return nil
            }
            micros = ((hour * 60 + minute) * 60 + second) * 1_000_000
            if expect(46) {
                let start = index
                guard var fraction = number(maxDigits: 6) else { return nil }
                for _ in 0..<(6 - (index - start)) { fraction *= 10 }
                micros += fraction
                _ = number()  // more than 6 digits never comes from the server; ignore them
            }
            if index < bytes.count, bytes[index] == 43 || bytes[index] == 45 {
                let sign: Int64 = bytes[index] == 45 ? -1 : 1
                index += 1
                guard let hours = number(maxDigits: 2) else { return nil }
                var seconds = hours * 3600
                if expect(58), let minutes = number(maxDigits: 2) {
                    seconds += minutes * 60
                    if expect(58), let secs = number(maxDigits: 2) { seconds += secs }
                }
                offsetSeconds = sign * seconds
            }
        }
        if index < bytes.count {
            guard bytes[index...].elementsEqual(" BC".utf8) else { return nil }
            year = 1 - year
            index = bytes.count
        }
        let days = daysFromCivil(year, month, day)
        return date(micros: days * 86_400_000_000 + micros - offsetSeconds * 1_000_000)
    }
}

extension Date: PostgresEncodable, PostgresDecodable {
    /// Sent as `timestamptz` with microsecond precision (Date's sub-microsecond part is rounded).
    public static var postgresDataType: PostgresDataType { .timestamptz }
    public func postgresBind() -> PostgresBind {
        if self == .distantFuture { return PostgresBind(text: "infinity", dataType: .timestamptz) }
        if self == .distantPast { return PostgresBind(text: "-infinity", dataType: .timestamptz) }
        return PostgresBind(text: PostgresTimestamp.format(self), dataType: .timestamptz)
    }
    /// Decodes timestamptz, timestamp (read as UTC) and date (midnight UTC).
    public init(postgresCell cell: PostgresCell) throws {
        let bytes = try cell.require([.timestamptz, .timestamp, .date], for: Date.self)
        guard let date = PostgresTimestamp.parse(bytes) else {
            throw cell.error("is not a timestamp in ISO DateStyle", for: Date.self)
        }
        self = date
    }
}

// MARK: bytea

enum Bytea {
    static func decode(_ cell: PostgresCell) throws -> [UInt8] {
        let bytes = try cell.require([.bytea], for: [UInt8].self)
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "x"), bytes.count % 2 == 0
        else {
            throw cell.error("is not bytea in hex output format (set bytea_output = 'hex')", for: [UInt8].self)
        }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var result = [UInt8]()
        result.reserveCapacity((bytes.count - 2) / 2)
        var index = 2
        while index < bytes.count {
            guard let high = nibble(bytes[index]), let low = nibble(bytes[index + 1]) else {
                throw cell.error("is not valid hex bytea", for: [UInt8].self)
            }
            result.append(high << 4 | low)
            index += 2
        }
        return result
    }
}

extension Data: PostgresEncodable, PostgresDecodable {
    public static var postgresDataType: PostgresDataType { .bytea }
    public func postgresBind() -> PostgresBind { PostgresBind(bytes: Array(self), dataType: .bytea, format: .binary) }
    public init(postgresCell cell: PostgresCell) throws { self = Data(try Bytea.decode(cell)) }
}

// MARK: UUID

extension UUID: PostgresEncodable, PostgresDecodable {
    public static var postgresDataType: PostgresDataType { .uuid }
    public func postgresBind() -> PostgresBind { PostgresBind(text: self.uuidString.lowercased(), dataType: .uuid) }
    public init(postgresCell cell: PostgresCell) throws {
        let bytes = try cell.require([.uuid], for: UUID.self)
        guard let uuid = UUID(uuidString: String(decoding: bytes, as: UTF8.self)) else {
            throw cell.error("is not a valid UUID", for: UUID.self)
        }
        self = uuid
    }
}

// MARK: JSON

/// A json or jsonb value: raw JSON text, built from an `Encodable` or decoded into a `Decodable`.
/// Sent as `jsonb` (the server casts it to `json` on assignment).
public struct PostgresJSON: Sendable, Hashable, PostgresEncodable, PostgresDecodable {
    /// The JSON text.
    public var raw: String

    /// Raw JSON text, sent as is (the server validates it).
    public init(raw: String) { self.raw = raw }

    /// `value` encoded with `encoder` (sorted keys by default, so equal values give equal text).
    public init<T: Encodable>(_ value: T, encoder: JSONEncoder? = nil) throws {
        let encoder =
            encoder
            ?? {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                return encoder
            }()
        self.raw = String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Decodes the JSON text as `T`.
    public func decode<T: Decodable>(_ type: T.Type = T.self, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(T.self, from: Data(self.raw.utf8))
    }

    public static var postgresDataType: PostgresDataType { .jsonb }
    public func postgresBind() -> PostgresBind { PostgresBind(text: self.raw, dataType: .jsonb) }
    public init(postgresCell cell: PostgresCell) throws {
        self.raw = String(decoding: try cell.require([.json, .jsonb], for: PostgresJSON.self), as: UTF8.self)
    }
}

// MARK: Arrays

/// An element type of one-dimensional arrays (`[String]` is `text[]`, `[Int]` is `int8[]`, ...). `UInt8`
/// is the exception: `[UInt8]` is `bytea`.
public protocol PostgresArrayElement: Sendable {
    static var postgresArrayDataType: PostgresDataType { get }
    static func postgresEncodeArray(_ array: [Self]) -> PostgresBind
    static func postgresDecodeArray(_ cell: PostgresCell) throws -> [Self]
}

extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public static var postgresDataType: PostgresDataType { Element.postgresArrayDataType }
    public func postgresBind() -> PostgresBind { Element.postgresEncodeArray(self) }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
    public init(postgresCell cell: PostgresCell) throws { self = try Element.postgresDecodeArray(cell) }
}

extension UInt8: PostgresArrayElement {
    public static var postgresArrayDataType: PostgresDataType { .bytea }
    public static func postgresEncodeArray(_ array: [UInt8]) -> PostgresBind {
        PostgresBind(bytes: array, dataType: .bytea, format: .binary)
    }
    public static func postgresDecodeArray(_ cell: PostgresCell) throws -> [UInt8] { try Bytea.decode(cell) }
}

enum PostgresArrayText {
    static let elementTypes: [PostgresDataType: PostgresDataType] = [
        .textArray: .text, .varcharArray: .varchar, .bpcharArray: .bpchar, .nameArray: .name,
        .int2Array: .int2, .int4Array: .int4, .int8Array: .int8, .boolArray: .bool,
        .float4Array: .float4, .float8Array: .float8, .uuidArray: .uuid, .jsonArray: .json, .jsonbArray: .jsonb,
        .timestamptzArray: .timestamptz, .timestampArray: .timestamp,
    ]

    /// `{"a","b\"c"}`: every element quoted, `"` and `\` escaped. Elements are never NULL.
    static func encode(_ elements: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (i, element) in elements.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            for byte in element {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Parses a one-dimensional array literal; `nil` elements are NULL. Returns nil when malformed or
    /// multi-dimensional.
    static func parse(_ bytes: [UInt8]) -> [[UInt8]?]? {
        var index = 0
        if bytes.first == UInt8(ascii: "[") {  // explicit bounds: [0:2]={...}
            guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            index = equals + 1
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        var elements: [[UInt8]?] = []
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { return index + 1 == bytes.count ? [] : nil }
        while index < bytes.count {
            var element: [UInt8] = []
            var quoted = false
            if bytes[index] == UInt8(ascii: "{") { return nil }  // multi-dimensional
            if bytes[index] == UInt8(ascii: "\"") {
                quoted = true
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    if bytes[index] == UInt8(ascii: "\\") { index += 1 }
                    guard index < bytes.count else { return nil }
                    element.append(bytes[index])
                    index += 1
                }
                guard index < bytes.count else { return nil }
                index += 1  // closing quote
            } else {
                while index < bytes.count, bytes[index] != UInt8(ascii: ","), bytes[index] != UInt8(ascii: "}") {
                    if bytes[index] == UInt8(ascii: "\\") { index += 1 }
                    guard index < bytes.count else { return nil }
                    element.append(bytes[index])
                    index += 1
                }
            }
            if !quoted && element == Array("NULL".utf8) { elements.append(nil) } else { elements.append(element) }
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "}") { return index + 1 == bytes.count ? elements : nil }
            guard bytes[index] == UInt8(ascii: ",") else { return nil }
            index += 1
        }
        return nil
    }
}

extension PostgresArrayElement where Self: PostgresEncodable & PostgresDecodable {
    public static func postgresEncodeArray(_ array: [Self]) -> PostgresBind {
        PostgresBind(
            bytes: PostgresArrayText.encode(array.map { $0.postgresBind().bytes ?? [] }),
            dataType: Self.postgresArrayDataType
        )
    }

    public static func postgresDecodeArray(_ cell: PostgresCell) throws -> [Self] {
        guard let elementType = PostgresArrayText.elementTypes[cell.dataType] else {
            throw cell.error("has type \(cell.dataType), which cannot be decoded as [\(Self.self)]", for: [Self].self)
        }
        let bytes = try cell.requireBytes(for: [Self].self)
        guard let elements = PostgresArrayText.parse(bytes) else {
            throw cell.error("is not a one-dimensional array", for: [Self].self)
        }
        return try elements.enumerated().map { offset, element in
            guard let element else {
                throw cell.error("has a NULL at array index \(offset)", for: [Self].self)
            }
            return try Self(
                postgresCell: PostgresCell(
                    bytes: element, dataType: elementType, columnName: cell.columnName, columnIndex: cell.columnIndex))
        }
    }
}

extension String: PostgresArrayElement { public static var postgresArrayDataType: PostgresDataType { .textArray } }
extension Int: PostgresArrayElement { public static var postgresArrayDataType: PostgresDataType { .int8Array } }
extension Int64: PostgresArrayElement { public static var postgresArrayDataType: PostgresDataType { .int8Array } }
extension Int32: PostgresArrayElement { public static var postgresArrayDataType: PostgresDataType { .int4Array } }
extension Bool: PostgresArrayElement { public static var postgresArrayDataType: PostgresDataType { .boolArray } }
extension Double: PostgresArrayElement { public static var postgresArrayDataType: PostgresDataType { .float8Array } }
extension UUID: PostgresArrayElement { public static var postgresArrayDataType: PostgresDataType { .uuidArray } }
extension Date: PostgresArrayElement {
    public static var postgresArrayDataType: PostgresDataType { .timestamptzArray }
}
extension PostgresJSON: PostgresArrayElement {
    public static var postgresArrayDataType: PostgresDataType { .jsonbArray }
}
