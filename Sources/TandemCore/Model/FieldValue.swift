public import Foundation

/// A calendar date without a time of day or zone (a `date` field).
public struct LocalDate: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int
    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }
    public static func < (a: LocalDate, b: LocalDate) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }
    /// ISO 8601, `YYYY-MM-DD`.
    public var description: String {
        func pad(_ v: Int, _ n: Int) -> String { String(repeating: "0", count: max(0, n - String(v).count)) + String(v) }
        return "\(pad(self.year, 4))-\(pad(self.month, 2))-\(pad(self.day, 2))"
    }
}

/// The markup language of a rich-text value.
public enum TextMarkup: String, Sendable, Hashable, Codable, CaseIterable {
    case plain, html, markdown, textile
    /// Atlassian Document Format: the text is an ADF JSON document (Jira Cloud REST v3).
    case adf
    /// Jira wiki markup (Jira Data Center REST v2).
    case jiraWiki
}

/// A person as a repository knows them; any of the identifiers may be missing.
public struct Person: Sendable, Hashable, Codable {
    public var id: String?
    public var username: String?
    public var email: String?
    public var displayName: String?
    public init(id: String? = nil, username: String? = nil, email: String? = nil, displayName: String? = nil) {
        self.id = id
        self.username = username
        self.email = email
        self.displayName = displayName
    }
}

/// A link to another artifact (relationship fields).
public struct ArtifactReference: Sendable, Hashable, Codable {
    public var repository: String?
    public var id: String
    public init(repository: String? = nil, id: String) {
        self.repository = repository
        self.id = id
    }
}

/// A web link: a URL with a label.
public struct WebLink: Sendable, Hashable, Codable {
    public var url: String
    public var label: String?
    public init(url: String, label: String? = nil) {
        self.url = url
        self.label = label
    }
}

/// The value of one field, in a repository or in the model. Shared vocabulary of connectors and the core.
///
/// The large payloads are `indirect`, which keeps a value small and cheap to copy (a decision copies many).
public enum FieldValue: Sendable, Hashable, Codable {
    case null
    case string(String)
    case richText(String, markup: TextMarkup)
    case select(String)
    case multiSelect([String])
    case boolean(Bool)
    indirect case date(LocalDate)
    case dateTime(Date)
    /// A length of time in seconds.
    case duration(Int64)
    case long(Int64)
    case double(Double)
    /// A URL.
    case location(String)
    case webLinks([WebLink])
    indirect case person(Person)
    case persons([Person])
    indirect case relationship(ArtifactReference)
    case relationships([ArtifactReference])
}
