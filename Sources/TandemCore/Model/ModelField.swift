import Foundation

/// One field of a model (guide L4984–5111).
public struct ModelField: Sendable, Hashable, Codable {
    public var name: String
    public var type: FieldType
    /// The values of a select field.
    public var values: [String]
    /// Select fields only: whether values not in `values` may flow (default false, guide L5097–5101).
    public var allowUnmapped: Bool

    public init(_ name: String, _ type: FieldType, values: [String] = [], allowUnmapped: Bool = false) {
        self.name = name
        self.type = type
        self.values = values
        self.allowUnmapped = allowUnmapped
    }
}

extension FieldValue {
    /// Whether the value can be held by a field of this type (`null` fits every type).
    public func fits(_ type: FieldType) -> Bool {
        switch (self, type) {
        case (.null, _): true
        case (.string, .string), (.string, .formattedString), (.string, .literalString): true
        case (.richText, .richText), (.select, .singleSelect), (.multiSelect, .multiSelect), (.boolean, .boolean): true
        case (.date, .date), (.dateTime, .dateTime), (.duration, .duration), (.long, .long), (.double, .double): true
        case (.location, .location), (.webLinks, .webLinks), (.person, .person), (.persons, .persons): true
        case (.relationship, .relationship), (.relationships, .relationships): true
        default: false
        }
    }

    /// Whether the value is empty: null, an empty string or an empty list.
    public var isEmpty: Bool {
        switch self {
        case .null: true
        case .string(let s), .richText(let s, _), .location(let s): s.isEmpty
        case .multiSelect(let values): values.isEmpty
        case .webLinks(let links): links.isEmpty
        case .persons(let people): people.isEmpty
        case .relationships(let references): references.isEmpty
        default: false
        }
    }

    /// The value as plain text, for conditions, filters, traces and string conversions.
    public var text: String {
        switch self {
        case .null: ""
        case .string(let s), .select(let s), .location(let s): s
        case .richText(let s, let markup): Markup.convert(s, from: markup, to: .plain)
        case .multiSelect(let values): values.joined(separator: ", ")
        case .boolean(let b): b ? "true" : "false"
        case .date(let d): d.description
        case .dateTime(let d): CivilTime.iso8601(d)
        case .duration(let seconds): "\(seconds)"
        case .long(let n): "\(n)"
        case .double(let x): "\(x)"
        case .webLinks(let links): links.map(\.url).joined(separator: ", ")
        case .person(let p): p.displayName ?? p.username ?? p.email ?? p.id ?? ""
        case .persons(let people): people.map { FieldValue.person($0).text }.joined(separator: ", ")
        case .relationship(let r): r.id
        case .relationships(let references): references.map(\.id).joined(separator: ", ")
        }
    }
}
