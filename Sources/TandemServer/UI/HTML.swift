import Foundation

/// A fragment of HTML. Built with string interpolation, where every interpolated value is escaped — except another
/// `HTML` fragment, which is already safe. This is the web UI's one escaping helper: nothing reaches a page without
/// passing through `HTML.escape`.
public struct HTML: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public private(set) var text: String

    public init(stringLiteral value: String) { self.text = value }
    public init(stringInterpolation: StringInterpolation) { self.text = stringInterpolation.text }
    /// Markup that is trusted as it is (only for literals assembled in this module).
    init(trusted text: String) { self.text = text }

    public var description: String { self.text }

    public struct StringInterpolation: StringInterpolationProtocol {
        var text = ""
        public init(literalCapacity: Int, interpolationCount: Int) { self.text.reserveCapacity(literalCapacity + interpolationCount * 16) }
        public mutating func appendLiteral(_ literal: String) { self.text += literal }
        /// Any value: escaped.
        public mutating func appendInterpolation(_ value: some CustomStringConvertible) { self.text += HTML.escape(value.description) }
        /// An optional value: escaped, nothing for nil.
        public mutating func appendInterpolation(_ value: (some CustomStringConvertible)?) {
            if let value { self.text += HTML.escape(value.description) }
        }
        /// A fragment: as it is.
        public mutating func appendInterpolation(_ html: HTML) { self.text += html.text }
        public mutating func appendInterpolation(_ html: HTML?) { self.text += html?.text ?? "" }
        /// Fragments, one after the other.
        public mutating func appendInterpolation(_ list: [HTML]) { for html in list { self.text += html.text } }
    }

    /// `&`, `<`, `>`, `"` and `'` as entities: safe in text and in quoted attribute values.
    public static func escape(_ string: String) -> String {
        var out = ""
        out.reserveCapacity(string.utf8.count)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    public static func + (a: HTML, b: HTML) -> HTML { HTML(trusted: a.text + b.text) }
    public static func += (a: inout HTML, b: HTML) { a.text += b.text }

    /// Fragments joined.
    public static func join(_ parts: some Sequence<HTML>, separator: HTML = "") -> HTML {
        HTML(trusted: parts.map(\.text).joined(separator: separator.text))
    }

    /// `value` percent-encoded for one path segment or query value (then escaped where it is placed, by interpolation).
    public static func urlComponent(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
