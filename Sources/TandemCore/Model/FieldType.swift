/// The type of a model field (guide L5075–5207). The raw values are the names used in configuration files.
public enum FieldType: String, Sendable, Hashable, Codable, CaseIterable {
    case string
    case formattedString = "formatted-string"
    case literalString = "literal-string"
    case richText = "rich-text"
    case singleSelect = "single-select"
    case multiSelect = "multi-select"
    case boolean
    case date
    case dateTime = "date-time"
    case duration
    case long
    case double
    case location
    case webLinks = "web-links"
    case person
    case persons
    case relationship
    case relationships

    /// Select types carry a list of values and take value maps.
    public var isSelect: Bool { self == .singleSelect || self == .multiSelect }

    /// Types that artifact filters may test (guide L7326–7344: nine filterable types).
    public var isFilterable: Bool {
        switch self {
        case .singleSelect, .multiSelect, .boolean, .date, .dateTime, .double, .long, .duration, .string: true
        default: false
        }
    }
}
