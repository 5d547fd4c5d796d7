import Foundation
import HTTP

/// What a JQL query sees of an issue (as the search index holds it).
struct JQLSubject {
    var id: Int
    var key: String
    var projectKey: String
    var created: Date
    var updated: Date
    var status: String
    var issueType: String
    var summary: String
    var labels: [String]
    var properties: [String: JSONValue]
}

/// The JQL that sync tools send, parsed for real: clauses on `project`, `key`/`issuekey`, `id`, `updated`, `created`,
/// `status`, `issuetype`/`type`, `summary ~`, `labels` and `issue.property[KEY].path`, joined by `AND`/`OR`/`NOT` and
/// parentheses, then `ORDER BY` field `ASC`/`DESC`, …. Dates are minute-granular and read in the API user's time zone.
/// Anything else is refused with Jira's message.
struct JQLQuery {
    indirect enum Condition {
        case all
        case and(Condition, Condition)
        case or(Condition, Condition)
        case not(Condition)
        case clause(field: String, op: String, values: [String])
    }

    struct Sort {
        var field: String
        var ascending: Bool
    }

    var condition: Condition
    var sorts: [Sort]
    /// Jira Cloud's `/search/jql` refuses a query with no restriction.
    var isBounded: Bool {
        if case .all = self.condition { return false }
        return true
    }

    static let fields: Set<String> = [
        "project", "key", "issuekey", "id", "updated", "updateddate", "created", "createddate", "status", "issuetype", "type", "summary", "labels",
    ]
    static let sortable: Set<String> = ["updated", "created", "key", "issuekey", "id", "summary", "status", "project"]

    // MARK: - Tokens

    struct Token {
        enum Kind { case word, string, op, open, close, comma }
        var kind: Kind
        var text: String
        var offset: Int
    }

    struct Failure: Error {
        var message: String
    }

    static func error(_ message: String) -> Failure { Failure(message: message) }

    static func syntax(_ expected: String, _ token: Token?, _ length: Int) -> Failure {
        guard let token else {
            return Self.error(
                "Error in the JQL Query: Expecting \(expected) but got the end of the query. The invalid query was detected at line 1, character \(length + 1)."
            )
        }
        return Self.error(
            "Error in the JQL Query: Expecting \(expected) but got '\(token.text)'. The invalid query was detected at line 1, character \(token.offset + 1)."
        )
    }

    static func tokenize(_ text: String) throws(Failure) -> [Token] {
        var tokens: [Token] = []
        let characters = Array(text)
        var i = 0
        while i < characters.count {
            let c = characters[i]
            if c.isWhitespace {
                i += 1
                continue
            }
            switch c {
            case "(":
                tokens.append(Token(kind: .open, text: "(", offset: i))
                i += 1
            case ")":
                tokens.append(Token(kind: .close, text: ")", offset: i))
                i += 1
            case ",":
                tokens.append(Token(kind: .comma, text: ",", offset: i))
                i += 1
            case "\"", "'":
                var j = i + 1
                var value = ""
                while j < characters.count, characters[j] != c {
                    if characters[j] == "\\", j + 1 < characters.count { j += 1 }
                    value.append(characters[j])
                    j += 1
                }
                guard j < characters.count else {
                    throw Self.error(
                        "Error in the JQL Query: The quoted string '\(value)' has not been completed. The invalid query was detected at line 1, character \(i + 1)."
                    )
                }
                tokens.append(Token(kind: .string, text: value, offset: i))
                i = j + 1
            case "=", "!", "<", ">", "~":
                var op = String(c)
                if i + 1 < characters.count, characters[i + 1] == "=" || (c == "!" && characters[i + 1] == "~") {
                    op.append(characters[i + 1])
                }
                guard op != "!" else {
                    throw Self.error(
                        "Error in the JQL Query: The character '!' is a reserved JQL character. The invalid query was detected at line 1, character \(i + 1)."
                    )
                }
                tokens.append(Token(kind: .op, text: op, offset: i))
                i += op.count
            default:
                var j = i
                var word = ""
                while j < characters.count, !characters[j].isWhitespace, !"()\",'=!<>~".contains(characters[j]) {
                    word.append(characters[j])
                    j += 1
                }
                tokens.append(Token(kind: .word, text: word, offset: i))
                i = j
            }
        }
        return tokens
    }

    // MARK: - Parsing

    static func parse(_ text: String) throws(Failure) -> JQLQuery {
        var parser = Parser(tokens: try Self.tokenize(text), length: text.count)
        return try parser.query()
    }

    struct Parser {
        let tokens: [Token]
        let length: Int
        var position = 0

        var current: Token? { self.position < self.tokens.count ? self.tokens[self.position] : nil }

        func isKeyword(_ word: String) -> Bool {
            guard let token = self.current, token.kind == .word else { return false }
            return token.text.uppercased() == word
        }

        mutating func query() throws(Failure) -> JQLQuery {
            var condition = Condition.all
            if self.current != nil, !self.isKeyword("ORDER") { condition = try self.or() }
            var sorts: [Sort] = []
            if self.isKeyword("ORDER") {
                self.position += 1
                guard self.isKeyword("BY") else { throw JQLQuery.syntax("'by'", self.current, self.length) }
                self.position += 1
                repeat {
                    if self.current?.kind == .comma { self.position += 1 }
                    guard let field = self.current, field.kind == .word || field.kind == .string else {
                        throw JQLQuery.syntax("a field name", self.current, self.length)
                    }
                    let name = field.text.lowercased()
                    guard JQLQuery.sortable.contains(name) else {
                        throw JQLQuery.error("Not able to sort using field '\(field.text)'.")
                    }
                    self.position += 1
                    var ascending = name == "key" || name == "issuekey" || name == "summary"
                    if self.isKeyword("ASC") || self.isKeyword("DESC") {
                        ascending = self.isKeyword("ASC")
                        self.position += 1
                    }
                    sorts.append(Sort(field: name == "issuekey" ? "key" : name, ascending: ascending))
                } while self.current?.kind == .comma
            }
            if let extra = self.current { throw JQLQuery.syntax("either 'OR' or 'AND'", extra, self.length) }
            return JQLQuery(condition: condition, sorts: sorts)
        }

        mutating func or() throws(Failure) -> Condition {
            var left = try self.and()
            while self.isKeyword("OR") {
                self.position += 1
                left = .or(left, try self.and())
            }
            return left
        }

        mutating func and() throws(Failure) -> Condition {
            var left = try self.unary()
            while self.isKeyword("AND") {
                self.position += 1
                left = .and(left, try self.unary())
            }
            return left
        }

        mutating func unary() throws(Failure) -> Condition {
            if self.isKeyword("NOT") {
                self.position += 1
                return .not(try self.unary())
            }
            if self.current?.kind == .open {
                self.position += 1
                let inner = try self.or()
                guard self.current?.kind == .close else { throw JQLQuery.syntax("')'", self.current, self.length) }
                self.position += 1
                return inner
            }
            return try self.clause()
        }

        mutating func clause() throws(Failure) -> Condition {
            guard let field = self.current, field.kind == .word || field.kind == .string else {
                throw JQLQuery.syntax("a field name", self.current, self.length)
            }
            let name = field.text.lowercased()
            guard JQLQuery.fields.contains(name) || (name.hasPrefix("issue.property[") && name.contains("]")) else {
                throw JQLQuery.error("Field '\(field.text)' does not exist or you do not have permission to view it.")
            }
            self.position += 1
            guard let opToken = self.current else { throw JQLQuery.syntax("operator", nil, self.length) }
            var op: String
            if opToken.kind == .op {
                op = opToken.text
                self.position += 1
            } else if opToken.kind == .word, ["IN", "NOT", "IS"].contains(opToken.text.uppercased()) {
                op = opToken.text.uppercased()
                self.position += 1
                if op == "NOT" || (op == "IS" && self.isKeyword("NOT")) {
                    if op == "IS" {
                        self.position += 1
                        op = "IS NOT"
                    } else {
                        guard self.isKeyword("IN") else { throw JQLQuery.syntax("'IN'", self.current, self.length) }
                        self.position += 1
                        op = "NOT IN"
                    }
                }
            } else {
                throw JQLQuery.syntax("operator", opToken, self.length)
            }
            var values: [String] = []
            if op == "IN" || op == "NOT IN" {
                guard self.current?.kind == .open else { throw JQLQuery.syntax("'('", self.current, self.length) }
                self.position += 1
                while true {
                    guard let value = self.current, value.kind == .word || value.kind == .string else {
                        throw JQLQuery.syntax("either a value, list or function", self.current, self.length)
                    }
                    values.append(value.text)
                    self.position += 1
                    if self.current?.kind == .comma {
                        self.position += 1
                        continue
                    }
                    guard self.current?.kind == .close else { throw JQLQuery.syntax("')'", self.current, self.length) }
                    self.position += 1
                    break
                }
            } else {
                guard let value = self.current, value.kind == .word || value.kind == .string else {
                    throw JQLQuery.syntax("either a value, list or function", self.current, self.length)
                }
                if value.kind == .word, ["AND", "OR", "ORDER"].contains(value.text.uppercased()) {
                    throw JQLQuery.syntax("either a value, list or function", value, self.length)
                }
                values = [value.text]
                self.position += 1
            }
            return .clause(field: name, op: op, values: values)
        }
    }

    // MARK: - Evaluation

    /// Checks the values against the site (projects exist, dates parse) and returns the predicate.
    func predicate(
        projects: Set<String>, zone: TimeZone, now: Date
    ) throws(Failure) -> (JQLSubject) -> Bool {
        try Self.compile(self.condition, projects: projects, zone: zone, now: now)
    }

    private static func compile(
        _ condition: Condition, projects: Set<String>, zone: TimeZone, now: Date
    ) throws(Failure) -> (JQLSubject) -> Bool {
        switch condition {
        case .all: return { _ in true }
        case .and(let a, let b):
            let (l, r) = (
                try Self.compile(a, projects: projects, zone: zone, now: now), try Self.compile(b, projects: projects, zone: zone, now: now)
            )
            return { l($0) && r($0) }
        case .or(let a, let b):
            let (l, r) = (
                try Self.compile(a, projects: projects, zone: zone, now: now), try Self.compile(b, projects: projects, zone: zone, now: now)
            )
            return { l($0) || r($0) }
        case .not(let a):
            let inner = try Self.compile(a, projects: projects, zone: zone, now: now)
            return { !inner($0) }
        case .clause(let field, let op, let values):
            return try Self.clause(field: field, op: op, values: values, projects: projects, zone: zone, now: now)
        }
    }

    private static func clause(
        field: String, op: String, values: [String], projects: Set<String>, zone: TimeZone, now: Date
    ) throws(Failure) -> (JQLSubject) -> Bool {
        func unsupported() -> Failure {
            Self.error("The operator '\(op.lowercased())' is not supported by the '\(field)' field.")
        }
        func equality(_ read: @escaping (JQLSubject) -> String, caseInsensitive: Bool = true) throws(Failure) -> (JQLSubject) -> Bool {
            let wanted = Set(values.map { caseInsensitive ? $0.lowercased() : $0 })
            let test: (JQLSubject) -> Bool = { wanted.contains(caseInsensitive ? read($0).lowercased() : read($0)) }
            switch op {
            case "=", "IN": return test
            case "!=", "NOT IN": return { !test($0) }
            default: throw unsupported()
            }
        }
        switch field {
        case "project":
            for value in values where !projects.contains(value.uppercased()) {
                throw Self.error("The value '\(value)' does not exist for the field 'project'.")
            }
            return try equality(\.projectKey)
        case "key", "issuekey":
            return try equality(\.key)
        case "id":
            for value in values where Int(value) == nil { throw Self.error("The value '\(value)' does not exist for the field 'id'.") }
            return try equality({ String($0.id) })
        case "status": return try equality(\.status)
        case "issuetype", "type": return try equality(\.issueType)
        case "labels":
            let wanted = Set(values)
            switch op {
            case "=", "IN": return { !wanted.isDisjoint(with: $0.labels) }
            case "!=", "NOT IN": return { wanted.isDisjoint(with: $0.labels) }
            default: throw unsupported()
            }
        case "summary":
            guard op == "~" || op == "!~", let needle = values.first?.lowercased() else { throw unsupported() }
            let words = needle.split(separator: " ").map(String.init)
            return { subject in
                let found = words.allSatisfy { subject.summary.lowercased().contains($0) }
                return op == "~" ? found : !found
            }
        case "updated", "updateddate", "created", "createddate":
            guard values.count == 1, let text = values.first else { throw unsupported() }
            guard let date = JiraTime.parseJQL(text, in: zone, now: now) else {
                throw Self.error(
                    "Date value '\(text)' for field '\(field)' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
                )
            }
            let read: (JQLSubject) -> Date = field.hasPrefix("updated") ? { $0.updated } : { $0.created }
            switch op {
            case ">=": return { read($0) >= date }
            case ">": return { read($0) > date }
            case "<=": return { read($0) <= date }
            case "<": return { read($0) < date }
            case "=": return { read($0) == date }
            case "!=": return { read($0) != date }
            default: throw unsupported()
            }
        default:
            // issue.property[KEY].path
            let inside = field.dropFirst("issue.property[".count)
            guard let close = inside.firstIndex(of: "]") else {
                throw Self.error("Field '\(field)' does not exist or you do not have permission to view it.")
            }
            let key = String(inside[..<close])
            let path = inside[inside.index(after: close)...].split(separator: ".").map(String.init)
            let wanted = Set(values)
            let read: (JQLSubject) -> String? = { subject in
                var value = subject.properties[key]
                for part in path { value = value?[part] }
                switch value {
                case .string(let text): return text
                case .number(let number): return number.rounded() == number ? String(Int(number)) : String(number)
                case .bool(let flag): return String(flag)
                default: return nil
                }
            }
            switch op {
            case "=", "IN": return { read($0).map(wanted.contains) ?? false }
            case "!=", "NOT IN": return { !(read($0).map(wanted.contains) ?? false) }
            default: throw unsupported()
            }
        }
    }

    /// Orders subjects by the query's sorts (then by id, so the order is total and paging is stable).
    func order(_ subjects: inout [JQLSubject]) {
        let sorts = self.sorts.isEmpty ? [Sort(field: "created", ascending: false)] : self.sorts
        subjects.sort { a, b in
            for sort in sorts {
                let result: ComparisonResult
                switch sort.field {
                case "updated": result = Self.compare(a.updated, b.updated)
                case "created": result = Self.compare(a.created, b.created)
                case "key":
                    result =
                        Self.compare(a.projectKey, b.projectKey) == .orderedSame ? Self.compare(a.id, b.id) : Self.compare(a.projectKey, b.projectKey)
                case "id": result = Self.compare(a.id, b.id)
                case "summary": result = Self.compare(a.summary, b.summary)
                case "status": result = Self.compare(a.status, b.status)
                default: result = Self.compare(a.projectKey, b.projectKey)
                }
                if result != .orderedSame { return sort.ascending ? result == .orderedAscending : result == .orderedDescending }
            }
            return a.id < b.id
        }
    }

    static func compare<T: Comparable>(_ a: T, _ b: T) -> ComparisonResult { a < b ? .orderedAscending : a > b ? .orderedDescending : .orderedSame }
}
