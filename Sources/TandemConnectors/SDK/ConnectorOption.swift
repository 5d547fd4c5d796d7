public import Foundation

/// One setting a repository of a tool may give in `repositories[].options`: its name, the type of its value, what it
/// does and what applies when it is absent. `tandem apply`, the API and the web UI check values against it, and the
/// documentation's table of options is printed from it.
public struct ConnectorOption: Sendable, Hashable {
    public enum ValueType: Sendable, Hashable {
        case string
        /// A whole number in the range.
        case integer(ClosedRange<Int>)
        case boolean
        /// One of the names.
        case choice([String])
        /// Comma-separated `name=value` pairs (`resolution=Done, customfield_10010=Fixed`): names and values trimmed,
        /// neither empty, a value may hold `=`; a name given twice takes its last value.
        case pairs

        /// A regular expression matching exactly the valid values (nil where any text is valid, or the type is an
        /// enumeration): an integer's range spelled digit by digit, the shape of pairs; for the API's document, so a
        /// client can check a value before sending it. `excluding`: characters (a class body) no value may hold.
        public func pattern(excluding excluded: String = "") -> String? {
            switch self {
            case .integer(let range): return "^(" + IntegerRangePattern.alternatives(range).joined(separator: "|") + ")$"
            case .pairs:
                // A name with a non-blank character and no `=` or `,`, then `=`, then a value with a non-blank
                // character and no `,`.
                let pair = "[^,=\(excluded)]*[^,=\\s\(excluded)][^,=\(excluded)]*=[^,\(excluded)]*[^,\\s\(excluded)][^,\(excluded)]*"
                return "^" + pair + "(," + pair + ")*$"
            default: return nil
            }
        }

        var summary: String {
            switch self {
            case .string: "text"
            case .integer(let range): "integer \(range.lowerBound)–\(range.upperBound)"
            case .boolean: "true or false"
            case .choice(let names): names.map { "`\($0)`" }.joined(separator: ", ")
            case .pairs: "comma-separated name=value pairs"
            }
        }
    }

    public var name: String
    public var type: ValueType
    /// What it does, one sentence.
    public var summary: String
    /// What applies when it is absent, in words.
    public var absent: String

    public init(_ name: String, _ type: ValueType, _ summary: String, absent: String) {
        self.name = name
        self.type = type
        self.summary = summary
        self.absent = absent
    }

    /// Why `value` is not a valid value, or nil.
    public func problem(with value: String) -> String? {
        switch self.type {
        case .string:
            return value.isEmpty ? "'\(self.name)' is empty (leave it out instead)" : nil
        case .integer(let range):
            // Written as digits, as the API's document describes it (`ValueType.pattern`): no sign but a minus, no
            // leading zeros.
            guard let number = Int(value), String(number) == value else { return "'\(value)' is not a whole number" }
            return range.contains(number) ? nil : "\(number) is outside \(range.lowerBound)…\(range.upperBound)"
        case .boolean:
            return ["true", "false"].contains(value) ? nil : "'\(value)' is not true or false"
        case .choice(let names):
            return names.contains(value) ? nil : "'\(value)' is not one of \(names.joined(separator: ", "))"
        case .pairs:
            switch Self.pairs(value) {
            case .success: return nil
            case .failure(let problem): return problem.reason
            }
        }
    }

    /// A reason a `pairs` value is refused, naming the part.
    public struct PairsProblem: Error, Sendable { public var reason: String }

    /// `resolution=Done, customfield_1=A=B` → ["resolution": "Done", "customfield_1": "A=B"]; an empty part, a part
    /// without `=`, or a blank name or value is refused naming it. A name given twice takes its last value (what the
    /// API's pattern can say: a regular expression cannot tell names apart).
    public static func pairs(_ text: String) -> Result<[String: String], PairsProblem> {
        var result: [String: String] = [:]
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let shown = part.trimmingCharacters(in: .whitespaces)
            let sides = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard sides.count == 2, !sides[0].isEmpty, !sides[1].isEmpty else {
                return .failure(PairsProblem(reason: shown.isEmpty ? "an empty pair (two commas, or one at an end)" : "'\(shown)' is not name=value"))
            }
            result[sides[0]] = sides[1]
        }
        return .success(result)
    }

    /// Options named `param.<name>` are kept for others and never read by a connector: the v2 connections API stores
    /// there the parameters its clients send that the tool has no option for, and returns them as they came.
    public static let passThroughPrefix = "param."

    /// Options every repository may set, whatever its tool.
    public static let common: [ConnectorOption] = [
        ConnectorOption(
            "syncFrequency", .choice(["hourly", "daily", "weekly", "monthly", "manually"]),
            "How often this repository's collections are scanned in full (seed 003's connection frequency).",
            absent: "the global full-scan interval"),
        ConnectorOption(
            "connectionProject", .integer(0...Int(Int32.max)), "The v2 API's project number of the connection.", absent: "none"),
        ConnectorOption("trackerProject", .string, "The v2 API's tracker project of the connection.", absent: "none"),
    ]
}

/// A repository's options, validated against its tool's registration, read by type.
public struct ConnectorOptionValues: Sendable, Hashable {
    public var raw: [String: String]

    public init(_ raw: [String: String] = [:]) { self.raw = raw }

    public func string(_ name: String) -> String? { self.raw[name] }
    public func integer(_ name: String) -> Int? { self.raw[name].flatMap { Int($0) } }
    /// A `pairs` option's pairs (a value the registration refused reads as absent).
    public func pairs(_ name: String) -> [String: String]? { self.raw[name].flatMap { try? ConnectorOption.pairs($0).get() } }
    public func boolean(_ name: String) -> Bool? { self.raw[name].flatMap { $0 == "true" ? true : $0 == "false" ? false : nil } }
    public func choice<Value: RawRepresentable<String>>(_ name: String, as type: Value.Type = Value.self) -> Value? {
        self.raw[name].flatMap(Value.init(rawValue:))
    }
}

/// Regular expressions for whole numbers in a range, written as `String(n)` writes them.
enum IntegerRangePattern {
    /// Alternatives that together match exactly the numbers of `range`.
    static func alternatives(_ range: ClosedRange<Int>) -> [String] {
        var out: [String] = []
        if range.lowerBound < 0 {
            // The negatives: a minus before the magnitudes, largest first.
            let magnitudes = Self.magnitude(range.upperBound < 0 ? -range.upperBound : 1)...Self.magnitude(range.lowerBound)
            out += Self.nonNegative(magnitudes).map { "-" + $0 }
        }
        if range.upperBound >= 0 { out += Self.nonNegative(max(0, range.lowerBound)...range.upperBound) }
        return out
    }

    /// |n| without overflowing at `Int.min` (whose magnitude is one beyond `Int.max`, so capped there).
    static func magnitude(_ n: Int) -> Int { n == Int.min ? Int.max : abs(n) }

    static func nonNegative(_ range: ClosedRange<Int>) -> [String] {
        var out: [String] = []
        var low = range.lowerBound
        // One run per number of digits: 0–9, 10–99, …
        while low <= range.upperBound {
            let digits = String(low).count
            let top = digits >= 19 ? Int.max : Int(pow(10, Double(digits))) - 1
            let high = min(range.upperBound, top)
            out += Self.sameLength(Array(String(low)), Array(String(high)))
            if high == Int.max { break }
            low = high + 1
        }
        return out
    }

    /// Patterns for the digit strings from `low` to `high`, both of one length (tails may start with zeros).
    static func sameLength(_ low: [Character], _ high: [Character]) -> [String] {
        guard let first = low.first, let last = high.first else { return [""] }
        let rest = low.count - 1
        if low == high { return [String(low)] }
        if first == last { return Self.sameLength(Array(low.dropFirst()), Array(high.dropFirst())).map { String(first) + $0 } }
        var out: [String] = []
        var from = first.wholeNumberValue!
        var to = last.wholeNumberValue!
        if low.dropFirst().contains(where: { $0 != "0" }) {
            out += Self.sameLength(Array(low.dropFirst()), Array(repeating: "9", count: rest)).map { String(first) + $0 }
            from += 1
        }
        var tail: [String] = []
        if high.dropFirst().contains(where: { $0 != "9" }) {
            tail = Self.sameLength(Array(repeating: "0", count: rest), Array(high.dropFirst())).map { String(last) + $0 }
            to -= 1
        }
        if from <= to {
            let digit = from == to ? "\(from)" : "[\(from)-\(to)]"
            out.append(digit + (rest == 0 ? "" : rest == 1 ? "[0-9]" : "[0-9]{\(rest)}"))
        }
        return out + tail
    }
}
