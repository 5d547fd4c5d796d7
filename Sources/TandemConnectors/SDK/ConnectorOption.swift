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

        var summary: String {
            switch self {
            case .string: "text"
            case .integer(let range): "integer \(range.lowerBound)–\(range.upperBound)"
            case .boolean: "true or false"
            case .choice(let names): names.map { "`\($0)`" }.joined(separator: ", ")
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
            guard let number = Int(value) else { return "'\(value)' is not a whole number" }
            return range.contains(number) ? nil : "\(number) is outside \(range.lowerBound)…\(range.upperBound)"
        case .boolean:
            return ["true", "false"].contains(value) ? nil : "'\(value)' is not true or false"
        case .choice(let names):
            return names.contains(value) ? nil : "'\(value)' is not one of \(names.joined(separator: ", "))"
        }
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
    public func boolean(_ name: String) -> Bool? { self.raw[name].flatMap { $0 == "true" ? true : $0 == "false" ? false : nil } }
    public func choice<Value: RawRepresentable<String>>(_ name: String, as type: Value.Type = Value.self) -> Value? {
        self.raw[name].flatMap(Value.init(rawValue:))
    }
}
