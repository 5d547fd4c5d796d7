/// A JSON document that keeps its members' order and tells integers from other numbers: the API's request bodies are
/// read into it (so that every type error names its field), and its answers are written from it.
public indirect enum JSONNode: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case array([JSONNode])
    case object([Member])

    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONNode
        public init(_ key: String, _ value: JSONNode) {
            self.key = key
            self.value = value
        }
    }

    /// An object from ordered pairs; nil values are left out.
    public static func object(_ pairs: KeyValuePairs<String, JSONNode?>) -> JSONNode {
        .object(pairs.compactMap { pair in pair.value.map { Member(pair.key, $0) } })
    }

    /// The first member named `key` of an object.
    public subscript(key: String) -> JSONNode? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    public var members: [Member]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The value as an integer: an integer, or a number without a fractional part (`2.0`, `1e3`), which JSON Schema
    /// also counts as an integer. Nil for anything else, or beyond `Int`.
    public var integerValue: Int? {
        switch self {
        case .int(let value): value
        case .number(let value): Int(exactly: value)
        default: nil
        }
    }

    /// What the value is, for error messages: `a string`, `an integer`, `null`.
    public var typeDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int: "an integer"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

// MARK: - Parsing

/// Why a request body is not JSON, and where.
public struct JSONSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    public var offset: Int
    public var line: Int
    public var column: Int
    public var reason: String
    public var description: String { "malformed JSON at line \(self.line), column \(self.column): \(self.reason)" }
}

extension JSONNode {
    /// The deepest nesting accepted; deeper documents are refused rather than risking the stack.
    public static let maximumDepth = 64

    /// Parses `bytes` as exactly one JSON value (RFC 8259), whitespace around it allowed, nested at most
    /// `maximumDepth` levels. `replacingLoneSurrogates` reads a `\\u` escape of half a surrogate pair as U+FFFD (what
    /// a reader of another tool's text wants) instead of refusing the document (what a request body gets).
    public static func parse(
        _ bytes: some Collection<UInt8>, maximumDepth: Int = Self.maximumDepth, replacingLoneSurrogates: Bool = false
    ) throws(JSONSyntaxError) -> JSONNode {
        var parser = JSONParser(bytes: Array(bytes), maximumDepth: maximumDepth, replacingLoneSurrogates: replacingLoneSurrogates)
        return try parser.document()
    }

    public static func parse(
        _ text: String, maximumDepth: Int = Self.maximumDepth, replacingLoneSurrogates: Bool = false
    ) throws(JSONSyntaxError) -> JSONNode {
        try Self.parse(Array(text.utf8), maximumDepth: maximumDepth, replacingLoneSurrogates: replacingLoneSurrogates)
    }
}

struct JSONParser {
    let bytes: [UInt8]
    let maximumDepth: Int
    let replacingLoneSurrogates: Bool
    var index = 0

    init(bytes: [UInt8], maximumDepth: Int, replacingLoneSurrogates: Bool) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
        self.replacingLoneSurrogates = replacingLoneSurrogates
    }

    func error(_ reason: String, at offset: Int? = nil) -> JSONSyntaxError {
        let offset = min(offset ?? self.index, self.bytes.count)
        var line = 1
        var column = 1
        for byte in self.bytes[..<offset] {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return JSONSyntaxError(offset: offset, line: line, column: column, reason: reason)
    }

    mutating func document() throws(JSONSyntaxError) -> JSONNode {
        guard String(validating: self.bytes, as: UTF8.self) != nil else { throw self.error("the body is not valid UTF-8", at: 0) }
        self.skipSpace()
        if self.index >= self.bytes.count { throw self.error("the body is empty; expected a JSON value") }
        let value = try self.value(depth: 0)
        self.skipSpace()
        if self.index < self.bytes.count { throw self.error("unexpected \(self.describeCurrent()) after the JSON value") }
        return value
    }

    mutating func skipSpace() {
        while self.index < self.bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(self.bytes[self.index]) { self.index += 1 }
    }

    func describeCurrent() -> String {
        guard self.index < self.bytes.count else { return "end of input" }
        let byte = self.bytes[self.index]
        return (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x" + String(byte, radix: 16, uppercase: true)
    }

    mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONNode {
        guard depth < self.maximumDepth else { throw self.error("nested deeper than \(self.maximumDepth) levels") }
        guard self.index < self.bytes.count else { throw self.error("unexpected end of input; expected a value") }
        switch self.bytes[self.index] {
        case UInt8(ascii: "{"): return try self.object(depth: depth)
        case UInt8(ascii: "["): return try self.array(depth: depth)
        case UInt8(ascii: "\""): return .string(try self.string())
        case UInt8(ascii: "t"): return try self.literal("true", .bool(true))
        case UInt8(ascii: "f"): return try self.literal("false", .bool(false))
        case UInt8(ascii: "n"): return try self.literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try self.number()
        default: throw self.error("unexpected \(self.describeCurrent()); expected a value")
        }
    }

    mutating func literal(_ word: String, _ value: JSONNode) throws(JSONSyntaxError) -> JSONNode {
        let expected = Array(word.utf8)
        guard self.index + expected.count <= self.bytes.count, Array(self.bytes[self.index..<self.index + expected.count]) == expected else {
            throw self.error("unexpected \(self.describeCurrent()); expected a value")
        }
        self.index += expected.count
        return value
    }

    mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONNode {
        self.index += 1
        var members: [JSONNode.Member] = []
        self.skipSpace()
        if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "}") {
            self.index += 1
            return .object(members)
        }
        while true {
            self.skipSpace()
            guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\"") else {
                throw self.error("unexpected \(self.describeCurrent()); expected a member name in double quotes")
            }
            let key = try self.string()
            self.skipSpace()
            guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: ":") else {
                throw self.error("unexpected \(self.describeCurrent()); expected ':' after the member name")
            }
            self.index += 1
            self.skipSpace()
            members.append(JSONNode.Member(key, try self.value(depth: depth + 1)))
            self.skipSpace()
            guard self.index < self.bytes.count else { throw self.error("unexpected end of input; expected ',' or '}'") }
            if self.bytes[self.index] == UInt8(ascii: ",") {
                self.index += 1
                continue
            }
            if self.bytes[self.index] == UInt8(ascii: "}") {
                self.index += 1
                return .object(members)
            }
            throw self.error("unexpected \(self.describeCurrent()); expected ',' or '}'")
        }
    }

    mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONNode {
        self.index += 1
        var items: [JSONNode] = []
        self.skipSpace()
        if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "]") {
            self.index += 1
            return .array(items)
        }
        while true {
            self.skipSpace()
            items.append(try self.value(depth: depth + 1))
            self.skipSpace()
            guard self.index < self.bytes.count else { throw self.error("unexpected end of input; expected ',' or ']'") }
            if self.bytes[self.index] == UInt8(ascii: ",") {
                self.index += 1
                continue
            }
            if self.bytes[self.index] == UInt8(ascii: "]") {
                self.index += 1
                return .array(items)
            }
            throw self.error("unexpected \(self.describeCurrent()); expected ',' or ']'")
        }
    }

    mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard self.index + 4 <= self.bytes.count else { throw self.error("unexpected end of input in a \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = self.bytes[self.index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw self.error("'\\u' must be followed by four hexadecimal digits")
            }
            value = value * 16 + digit
            self.index += 1
        }
        return value
    }

    mutating func string() throws(JSONSyntaxError) -> String {
        let start = self.index
        self.index += 1
        var scalars = String.UnicodeScalarView()
        var run: [UInt8] = []
        func flush() {
            if !run.isEmpty {
                scalars.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars)
                run.removeAll()
            }
        }
        while true {
            guard self.index < self.bytes.count else { throw self.error("unterminated string", at: start) }
            let byte = self.bytes[self.index]
            switch byte {
            case UInt8(ascii: "\""):
                self.index += 1
                flush()
                return String(scalars)
            case UInt8(ascii: "\\"):
                flush()
                self.index += 1
                guard self.index < self.bytes.count else { throw self.error("unterminated string", at: start) }
                let escape = self.bytes[self.index]
                self.index += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try self.hex4()
                    if (0xD800..<0xDC00).contains(code) {
                        let followedByEscape =
                            self.index + 2 <= self.bytes.count && self.bytes[self.index] == UInt8(ascii: "\\")
                            && self.bytes[self.index + 1] == UInt8(ascii: "u")
                        let resume = self.index
                        var low: UInt32 = 0
                        if followedByEscape {
                            self.index += 2
                            low = try self.hex4()
                        }
                        if followedByEscape, (0xDC00..<0xE000).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else if self.replacingLoneSurrogates {
                            // Lenient: the lone half becomes U+FFFD and whatever follows it is read as it is.
                            self.index = resume
                            code = 0xFFFD
                        } else if followedByEscape {
                            throw self.error("invalid low surrogate in a \\u escape")
                        } else {
                            throw self.error("a high surrogate \\u escape must be followed by a low one")
                        }
                    } else if (0xDC00..<0xE000).contains(code) {
                        guard self.replacingLoneSurrogates else { throw self.error("a lone low surrogate in a \\u escape") }
                        code = 0xFFFD
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw self.error("invalid \\u escape") }
                    scalars.append(scalar)
                default:
                    throw self.error("invalid escape '\\\(Character(Unicode.Scalar(escape)))'", at: self.index - 2)
                }
            case 0x00..<0x20:
                throw self.error("control characters must be escaped in strings")
            default:
                run.append(byte)
                self.index += 1
            }
        }
    }

    mutating func number() throws(JSONSyntaxError) -> JSONNode {
        let start = self.index
        func digits() -> Int {
            let from = self.index
            while self.index < self.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self.bytes[self.index]) { self.index += 1 }
            return self.index - from
        }
        if self.bytes[self.index] == UInt8(ascii: "-") { self.index += 1 }
        let integerStart = self.index
        let integerDigits = digits()
        guard integerDigits > 0 else { throw self.error("a number needs digits") }
        if integerDigits > 1, self.bytes[integerStart] == UInt8(ascii: "0") {
            throw self.error("numbers must not have leading zeros", at: integerStart)
        }
        var isInteger = true
        if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: ".") {
            self.index += 1
            isInteger = false
            guard digits() > 0 else { throw self.error("a digit must follow the decimal point") }
        }
        if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "e") || self.bytes[self.index] == UInt8(ascii: "E") {
            self.index += 1
            isInteger = false
            if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "+") || self.bytes[self.index] == UInt8(ascii: "-") {
                self.index += 1
            }
            guard digits() > 0 else { throw self.error("an exponent needs digits") }
        }
        let text = String(decoding: self.bytes[start..<self.index], as: UTF8.self)
        if isInteger, let value = Int(text) { return .int(value) }
        guard let value = Double(text), value.isFinite else { throw self.error("the number \(text) is out of range", at: start) }
        return .number(value)
    }
}

// MARK: - Writing

extension JSONNode {
    /// Compact JSON text, members in their order.
    public var text: String {
        var out = ""
        self.write(to: &out)
        return out
    }

    /// JSON text for people to read and edit: objects one member per line, indented by two spaces, members in their
    /// order; arrays of scalars that fit stay on one line.
    public var indentedText: String {
        var out = ""
        self.writeIndented(to: &out, depth: 0)
        return out
    }

    var isScalar: Bool {
        switch self {
        case .object, .array: false
        default: true
        }
    }

    /// An object's members (keyed) or an array's items, one per line, one level deeper than `depth`.
    static func writeBlock(_ open: String, _ close: String, _ entries: [(String?, JSONNode)], to out: inout String, depth: Int) {
        let inner = String(repeating: "  ", count: depth + 1)
        out += open + "\n"
        for (index, (key, value)) in entries.enumerated() {
            out += inner
            if let key {
                Self.writeString(key, to: &out)
                out += ": "
            }
            value.writeIndented(to: &out, depth: depth + 1)
            out += index < entries.count - 1 ? ",\n" : "\n"
        }
        out += String(repeating: "  ", count: depth) + close
    }

    func writeIndented(to out: inout String, depth: Int) {
        let inner = String(repeating: "  ", count: depth + 1)
        switch self {
        case .object(let members) where !members.isEmpty:
            // A small object of scalars stays on one line: {"set": true}, {"interval": "5m"}.
            if members.count <= 3, members.allSatisfy({ $0.value.isScalar }) {
                let line =
                    "{"
                    + members.map { member in
                        var key = ""
                        Self.writeString(member.key, to: &key)
                        return key + ": " + member.value.text
                    }.joined(separator: ", ") + "}"
                if line.count + inner.count <= 60 {
                    out += line
                    return
                }
            }
            Self.writeBlock("{", "}", members.map { ($0.key, $0.value) }, to: &out, depth: depth)
        case .array(let items) where !items.isEmpty:
            if items.allSatisfy(\.isScalar) {
                let line = "[" + items.map(\.text).joined(separator: ", ") + "]"
                if line.count + inner.count <= 100 {
                    out += line
                    return
                }
            }
            Self.writeBlock("[", "]", items.map { (nil, $0) }, to: &out, depth: depth)
        default:
            self.write(to: &out)
        }
    }

    func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .number(let value):
            if value.isFinite { out += value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)" } else { out += "null" }
        case .string(let value): Self.writeString(value, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                Self.writeString(member.key, to: &out)
                out += ":"
                member.value.write(to: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ value: String, to out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

extension JSONNode: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONNode].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONNode].self).sorted { $0.key < $1.key }.map { Member($0.key, $0.value) })
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .int(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .number(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .string(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .array(let items):
            var container = encoder.unkeyedContainer()
            for item in items { try container.encode(item) }
        case .object(let members):
            var container = encoder.container(keyedBy: AnyKey.self)
            for member in members { try container.encode(member.value, forKey: AnyKey(member.key)) }
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { self.stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
