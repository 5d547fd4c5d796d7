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
