/// Bounds on a configuration's values, so that what validation accepts the database stores (docs/configuration.md,
/// "Limits"). `YAMLLimits` bounds the file itself.
public enum ConfigLimits {
    /// Names and identifiers (entity, field, project and transition names, select values, keys): PostgreSQL indexes
    /// them — unique entity names, a model's field names, a collection's transitions by their two statuses, the audit
    /// log by entity name — and an index entry holds at most 2704 bytes. 255 characters of at most 4 bytes each, twice
    /// over for a transition, stay below it.
    public static let maximumNameLength = 255
    /// URLs (a repository's, a proxy's).
    public static let maximumURLLength = 2048
    /// Free text: a constant written to repositories, a connector option.
    public static let maximumTextLength = 65536
    /// Durations, in seconds: schedules are stored as PostgreSQL `integer` seconds (2,147,483,647, about 68 years).
    public static let maximumDurationSeconds = Int(Int32.max)
}

/// The same rules as JSON Schema patterns (ECMA-262 and Python `re` alike), for the API's OpenAPI document: what a
/// pattern allows, validation accepts (the patterns may be stricter, never looser).
extension ConfigLimits {
    /// Characters no name may hold (`Unicode.Scalar.isDisplayControl`).
    static let displayControls = "\\u0000-\\u001F\\u007F-\\u009F\\u061C\\u200E\\u200F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069"
    /// A name: no control or bidirectional characters (with `maximumNameLength`).
    public static let namePattern = "^[^\(displayControls)]+$"
    /// Characters no free text may hold: the display controls but tab and line feed.
    public static let textControls =
        "\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F\\u061C\\u200E\\u200F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069"
    /// Free text: tabs and line feeds allowed (with `maximumTextLength`).
    public static let textPattern = "^[^\(textControls)]*$"
    /// An http(s) URL with a host, no user information and no credential in its query (with `maximumURLLength`).
    public static var urlPattern: String {
        let caseless = { (name: String) in name.map { $0.isLetter ? "[\($0.lowercased())\($0.uppercased())]" : String($0) }.joined() }
        let credentials = YAMLReader.credentialParameters.sorted().map(caseless).joined(separator: "|")
        let text = "[^\\s\(displayControls)]"
        return
            "^(?![^#]*[?&](?:\(credentials))(?:[=&#]|$))[Hh][Tt][Tt][Pp][Ss]?://[^/?#@:\\s\(displayControls)]+(?::[^/?#@\\s\(displayControls)]*)?(?:[/?#]\(text)*)?$"
    }
    /// A duration of at most `maximumDurationSeconds`, as digits per unit allow: 9 digits of seconds, 7 of minutes,
    /// 5 of hours, 4 of days.
    public static let durationPattern = "^\\+?0*(?:[1-9][0-9]{0,8}s?|[1-9][0-9]{0,6}m|[1-9][0-9]{0,4}h|[1-9][0-9]{0,3}d)$"
}
