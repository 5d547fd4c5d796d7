/// The rules of "Copy with Default Matching" (guide L5958–5970), tried in this order.
public enum PersonMatchRule: String, Sendable, Hashable, Codable, CaseIterable {
    case usernameToUsername = "username/username"
    case usernameToID = "username/id"
    case idToUsername = "id/username"
    case idToID = "id/id"
    case emailToEmail = "email/email"
    /// The same display name (case and spacing aside), when exactly one person of the target has it.
    case displayNameToDisplayName = "display-name/display-name"
    /// No rule matched: the fallback user (the connection's own user) stands in.
    case fallback
    /// No rule matched and there is no fallback user.
    case unmatched
}

/// The people of a target repository, indexed for matching.
public struct PersonDirectory: Sendable, Hashable {
    public let people: [Person]
    /// The user written when nobody matches, usually the connection's user.
    public let fallback: Person?
    let byUsername: [String: Int]
    let byID: [String: Int]
    let byEmail: [String: Int]
    let byDisplayName: [String: Int]

    public init(_ people: [Person], fallback: Person? = nil) {
        self.people = people
        self.fallback = fallback
        func index(_ key: (Person) -> String?) -> [String: Int] {
            var map: [String: Int] = [:]
            for (i, person) in people.enumerated() { if let k = key(person), map[k] == nil { map[k] = i } }
            return map
        }
        self.byUsername = index(\.username)
        self.byID = index(\.id)
        self.byEmail = index { $0.email?.lowercased() }
        var names: [String: Int] = [:]
        var ambiguous: Set<String> = []
        for (i, person) in people.enumerated() {
            guard let name = person.displayName.map(Self.folded), !name.isEmpty else { continue }
            if names[name] != nil, names[name] != i { ambiguous.insert(name) }
            names[name] = names[name] ?? i
        }
        for name in ambiguous { names[name] = nil }
        self.byDisplayName = names
    }

    /// A display name compared without case or repeated spaces.
    static func folded(_ name: String) -> String { name.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ") }

    /// Finds the target person for a source person: the first rule that matches wins; a rule whose field is missing on
    /// the source is skipped (L5969–5970). E-mail addresses compare case-insensitively; a display name matches last, and
    /// only a name one person has (two people called the same match nobody by it).
    public func reconcile(_ person: Person) -> (person: Person?, rule: PersonMatchRule) {
        let attempts: [(PersonMatchRule, String?, [String: Int])] = [
            (.usernameToUsername, person.username, self.byUsername),
            (.usernameToID, person.username, self.byID),
            (.idToUsername, person.id, self.byUsername),
            (.idToID, person.id, self.byID),
            (.emailToEmail, person.email?.lowercased(), self.byEmail),
            (.displayNameToDisplayName, person.displayName.map(Self.folded), self.byDisplayName),
        ]
        for (rule, key, index) in attempts {
            if let key, let i = index[key] { return (self.people[i], rule) }
        }
        if let fallback = self.fallback { return (fallback, .fallback) }
        return (nil, .unmatched)
    }

    /// Reconciles the people in a person or persons value; other values pass through.
    public func reconcile(_ value: FieldValue) -> FieldValue {
        switch value {
        case .person(let p): return self.reconcile(p).person.map(FieldValue.person) ?? .null
        case .persons(let people):
            var seen: [Person] = []
            for p in people { if let match = self.reconcile(p).person, !seen.contains(match) { seen.append(match) } }
            return .persons(seen)
        default: return value
        }
    }
}
