import Foundation
import TandemConfig
import TandemConnectors
import TandemCore

/// What a configuration form holds, as the user typed it (strings), so that a refused form is shown again unchanged:
/// single values by input name, table rows (a model's fields, a collection's field mappings), and an integration's
/// field flows by model field.
struct EntityDraft: Sendable {
    var section: ConfigJSON.Section
    var values: [String: String] = [:]
    var rows: [[String: String]] = []
    /// Model field → (left to right, right to left), as chosen in the field-flow table.
    var flows: [String: (String, String)] = [:]

    static let rowKeys: [ConfigJSON.Section: [String]] = [
        .models: ["name", "type", "required", "values"],
        .collections: ["field", "modelField", "valueMap"],
    ]

    static func empty(_ section: ConfigJSON.Section) -> EntityDraft {
        var draft = EntityDraft(section: section)
        switch section {
        case .repositories:
            draft.values = ["type": "redmine", "auth.kind": "api-key", "enabled": "on", "eventRateLimit.scope": "all"]
        case .integrations:
            draft.values = ["creation": "two-way", "comments": "both", "attachments.direction": "none", "conflicts.default": "error"]
        default: break
        }
        return draft
    }

    init(section: ConfigJSON.Section) { self.section = section }

    /// The draft of a stored entity, or nil when there is none by that name.
    init?(_ section: ConfigJSON.Section, name: String, in c: TandemConfiguration) {
        self.section = section
        switch section {
        case .repositories:
            guard let r = c.repositories.first(where: { $0.name == name }) else { return nil }
            self.values = [
                "name": r.name, "type": r.kind.rawValue, "url": r.url, "auth.kind": r.auth.kind, "enabled": r.enabled ? "on" : "",
                "debugLogging": r.debugLogging ? "on" : "",
                "concurrencyLimit": r.concurrencyLimit.map(String.init) ?? "",
                "eventRateLimit.eventsPerMinute": r.eventRateLimit.map { String($0.eventsPerMinute) } ?? "",
                "eventRateLimit.scope": r.eventRateLimit?.scope.rawValue ?? "all",
                "options": r.options.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: "\n"),
            ]
            switch r.auth {
            case .basic(let username, _): self.values["auth.username"] = username
            case .apiKey(_, let header, _): self.values["auth.header"] = header ?? ""
            default: break
            }
        case .models:
            guard let m = c.models.first(where: { $0.name == name }) else { return nil }
            self.values = ["name": m.name]
            self.rows = m.fields.map {
                ["name": $0.name, "type": $0.type.rawValue, "required": $0.required ? "on" : "", "values": $0.values.joined(separator: ", ")]
            }
        case .collections:
            guard let col = c.collections.first(where: { $0.name == name }) else { return nil }
            self.values = [
                "name": col.name, "repository": col.repository, "artifactType": col.artifactType, "projects": col.projects.joined(separator: ", "),
                "model": col.model,
            ]
            self.rows = col.fields.map {
                ["field": $0.field, "modelField": $0.modelField, "valueMap": Self.valueMapText($0.valueMap.map { ($0.repository, $0.model) })]
            }
        case .integrations:
            guard let i = c.integrations.first(where: { $0.name == name }) else { return nil }
            self.values = [
                "name": i.name, "left": i.left, "right": i.right, "creation": i.creation.rawValue, "comments": i.comments.rawValue,
                "attachments.direction": i.attachments.direction.rawValue, "conflicts.default": i.conflictDefault.rawValue,
                "running": i.running ? "on" : "",
            ]
            for (field, flow) in i.fieldFlows { self.flows[field] = (flow.leftToRight.rawValue, flow.rightToLeft.rawValue) }
            for side in ["left", "right"] {
                guard let route = i.routes.first(where: { $0.from.rawValue == side && $0.field == nil }) else { continue }
                self.values["route.\(side).sources"] = route.sourceProjects.joined(separator: ", ")
                self.values["route.\(side).target"] = route.targetProject ?? ""
            }
            if i.routes.contains(where: { $0.field != nil }) || i.routes.count > 2 { self.values["route.advanced"] = "on" }
        }
    }

    /// The draft of a submitted form.
    init(section: ConfigJSON.Section, form: FormData) {
        self.section = section
        for (key, value) in form.pairs where key != WebUI.csrfField {
            if key.hasPrefix("fields.") || key.hasPrefix("flow.") { continue }
            self.values[key] = value
        }
        if let keys = Self.rowKeys[section] {
            var index = 0
            while form.has("fields.\(index).\(keys[0])") || form.has("fields.\(index).\(keys[1])") {
                var row: [String: String] = [:]
                for key in keys { row[key] = form.first("fields.\(index).\(key)") ?? "" }
                // Blank rows (the form's spare ones) are dropped, so a row's index is its index in the body.
                if keys.contains(where: { key in key != "required" && !(row[key] ?? "").trimmingCharacters(in: .whitespaces).isEmpty }) {
                    self.rows.append(row)
                }
                index += 1
                if index > 500 { break }
            }
        }
        for (key, value) in form.pairs where key.hasPrefix("flow.") {
            // flow.<model field>.leftToRight / .rightToLeft; the model field may itself contain dots.
            let rest = key.dropFirst("flow.".count)
            guard let dot = rest.lastIndex(of: ".") else { continue }
            let field = String(rest[..<dot])
            let direction = rest[rest.index(after: dot)...]
            var flow = self.flows[field] ?? ("update-normally", "update-normally")
            if direction == "leftToRight" { flow.0 = value } else if direction == "rightToLeft" { flow.1 = value }
            self.flows[field] = flow
        }
    }

    func value(_ key: String) -> String { self.values[key] ?? "" }
    func trimmed(_ key: String) -> String? {
        let v = self.value(key).trimmingCharacters(in: .whitespacesAndNewlines)
        return v.isEmpty ? nil : v
    }

    // MARK: - The API body

    /// The API body of this draft, laid over `stored` (the entity's current JSON, nil when creating) so that members
    /// the form does not show are kept.
    func body(over stored: JSONNode?, configuration c: TandemConfiguration) throws -> JSONNode {
        var body = stored?.members ?? []
        func set(_ key: String, _ value: JSONNode?) {
            if let index = body.firstIndex(where: { $0.key == key }) {
                if let value { body[index].value = value } else { body.remove(at: index) }
            } else if let value {
                body.append(.init(key, value))
            }
        }
        func string(_ key: String) -> JSONNode { .string(self.trimmed(key) ?? "") }
        func int(_ key: String, _ path: String) throws -> JSONNode? {
            guard let text = self.trimmed(key) else { return nil }
            guard let n = Int(text) else { throw FormProblem(field: path, message: "must be a whole number, not '\(text)'") }
            return .int(n)
        }
        set("name", string("name"))
        switch self.section {
        case .repositories:
            set("type", string("type"))
            set("url", string("url"))
            let kind = self.trimmed("auth.kind") ?? "none"
            let storedAuth = stored?["auth"]
            let sameKind: Bool = if case .string(let k)? = storedAuth?["kind"] { k == kind } else { false }
            func secret(_ slot: String) -> JSONNode? {
                if let typed = self.trimmed("auth.secret") { return .string(typed) }
                return sameKind ? storedAuth?[slot] : nil
            }
            var auth: [JSONNode.Member] = [.init("kind", .string(kind))]
            switch kind {
            case "basic":
                auth.append(.init("username", string("auth.username")))
                if let s = secret("password") { auth.append(.init("password", s)) }
            case "api-key":
                if let s = secret("key") { auth.append(.init("key", s)) }
                if let header = self.trimmed("auth.header") { auth.append(.init("header", .string(header))) }
                if sameKind, let parameter = storedAuth?["parameter"] { auth.append(.init("parameter", parameter)) }
            case "token", "bearer":
                if let s = secret("token") { auth.append(.init("token", s)) }
            default: break
            }
            set("auth", .object(auth))
            set("enabled", .bool(self.value("enabled") == "on"))
            set("debugLogging", self.value("debugLogging") == "on" ? .bool(true) : nil)
            set("concurrencyLimit", try int("concurrencyLimit", "concurrencyLimit"))
            if let perMinute = try int("eventRateLimit.eventsPerMinute", "eventRateLimit.eventsPerMinute") {
                set("eventRateLimit", .object(["eventsPerMinute": perMinute, "scope": string("eventRateLimit.scope")]))
            } else {
                set("eventRateLimit", nil)
            }
            var options: [JSONNode.Member] = []
            for (number, line) in self.value("options").split(whereSeparator: \.isNewline).enumerated() {
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.isEmpty || text.hasPrefix("#") { continue }
                guard let eq = text.firstIndex(of: "=") else {
                    throw FormProblem(field: "options", message: "line \(number + 1) is not 'name = value'")
                }
                let key = text[..<eq].trimmingCharacters(in: .whitespaces)
                guard !key.isEmpty else { throw FormProblem(field: "options", message: "line \(number + 1) has no name before '='") }
                options.append(.init(key, .string(text[text.index(after: eq)...].trimmingCharacters(in: .whitespaces))))
            }
            set("options", options.isEmpty ? nil : .object(options))
        case .models:
            let storedFields = Self.array(stored?["fields"])
            let fields: [JSONNode] = self.rows.map { row in
                let name = (row["name"] ?? "").trimmingCharacters(in: .whitespaces)
                var m = storedFields.first(where: { $0["name"] == JSONNode.string(name) })?.members ?? []
                func put(_ key: String, _ value: JSONNode?) {
                    if let i = m.firstIndex(where: { $0.key == key }) {
                        if let value { m[i].value = value } else { m.remove(at: i) }
                    } else if let value {
                        m.append(.init(key, value))
                    }
                }
                put("name", .string(name))
                put("type", .string((row["type"] ?? "").trimmingCharacters(in: .whitespaces)))
                put("required", (row["required"] ?? "") == "on" ? .bool(true) : nil)
                let values = Self.list(row["values"] ?? "")
                put("values", values.isEmpty ? nil : .array(values.map(JSONNode.string)))
                return .object(m)
            }
            set("fields", .array(fields))
        case .collections:
            set("repository", string("repository"))
            set("artifactType", string("artifactType"))
            set("projects", .array(Self.list(self.value("projects")).map(JSONNode.string)))
            set("model", string("model"))
            let storedFields = Self.array(stored?["fields"])
            let fields: [JSONNode] = try self.rows.enumerated().map { index, row in
                let field = (row["field"] ?? "").trimmingCharacters(in: .whitespaces)
                var m = storedFields.first(where: { $0["field"] == JSONNode.string(field) })?.members ?? []
                for (key, value) in [("field", field), ("modelField", (row["modelField"] ?? "").trimmingCharacters(in: .whitespaces))] {
                    if let i = m.firstIndex(where: { $0.key == key }) { m[i].value = .string(value) } else { m.append(.init(key, .string(value))) }
                }
                let entries = try Self.parseValueMap(row["valueMap"] ?? "", field: "fields[\(index)].valueMap")
                m.removeAll { $0.key == "valueMap" }
                if !entries.isEmpty {
                    m.append(
                        .init(
                            "valueMap",
                            .array(
                                entries.map { entry in
                                    .object(["repository": .array(entry.0.map(JSONNode.string)), "model": .string(entry.1)])
                                })))
                }
                return .object(m)
            }
            set("fields", .array(fields))
        case .integrations:
            set("left", string("left"))
            set("right", string("right"))
            set("creation", self.trimmed("creation").map(JSONNode.string))
            set("comments", self.trimmed("comments").map(JSONNode.string))
            var attachments = stored?["attachments"]?.members ?? []
            if let direction = self.trimmed("attachments.direction") {
                attachments.removeAll { $0.key == "direction" }
                attachments.insert(.init("direction", .string(direction)), at: 0)
            }
            set("attachments", attachments.isEmpty ? nil : .object(attachments))
            var conflicts = stored?["conflicts"]?.members ?? []
            if let policy = self.trimmed("conflicts.default") {
                conflicts.removeAll { $0.key == "default" }
                conflicts.insert(.init("default", .string(policy)), at: 0)
            }
            set("conflicts", conflicts.isEmpty ? nil : .object(conflicts))
            // The table's flows replace the stored ones of the fields it shows; others are kept. Defaults are left out.
            var flows = stored?["fieldFlows"]?.members ?? []
            flows.removeAll { self.flows[$0.key] != nil }
            for (field, flow) in self.flows.sorted(by: { $0.key < $1.key }) where flow != ("update-normally", "update-normally") {
                flows.append(.init(field, .object(["leftToRight": .string(flow.0), "rightToLeft": .string(flow.1)])))
            }
            set("fieldFlows", flows.isEmpty ? nil : .object(flows))
            // Routes: one static route per side from the form; conditional or several routes (set through the API or
            // the file) are kept as they are. Blank: a collection's projects go to the other collection's first project.
            if self.value("route.advanced") != "on" {
                let left = c.collections.first { $0.name == self.trimmed("left") }
                let right = c.collections.first { $0.name == self.trimmed("right") }
                var routes: [JSONNode] = []
                for (side, source, target) in [("left", left, right), ("right", right, left)] {
                    var sources = Self.list(self.value("route.\(side).sources"))
                    var targetProject = self.trimmed("route.\(side).target")
                    if sources.isEmpty, targetProject == nil {
                        sources = source?.projects ?? []
                        targetProject = target?.projects.first
                    }
                    guard !sources.isEmpty || targetProject != nil else { continue }
                    routes.append(
                        .object([
                            "from": .string(side), "sourceProjects": .array(sources.map(JSONNode.string)),
                            "targetProject": targetProject.map(JSONNode.string),
                        ]))
                }
                set("routes", routes.isEmpty ? nil : .array(routes))
            }
        }
        return .object(body)
    }

    /// A value map as one line: `New = New; In Progress, Feedback = In Progress` (repository values = model value).
    static func valueMapText(_ entries: [([String], String)]) -> String {
        entries.map { "\($0.0.joined(separator: ", ")) = \($0.1)" }.joined(separator: "; ")
    }

    /// The entries of a value map line; a part without '=' or with an empty side names `field`.
    static func parseValueMap(_ text: String, field: String) throws -> [([String], String)] {
        var entries: [([String], String)] = []
        for (number, part) in text.split(separator: ";").enumerated() {
            let item = part.trimmingCharacters(in: .whitespaces)
            if item.isEmpty { continue }
            guard let eq = item.lastIndex(of: "=") else {
                throw FormProblem(field: field, message: "part \(number + 1) ('\(item)') is not 'repository values = model value'")
            }
            let repository = Self.list(String(item[..<eq]))
            let model = item[item.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard !repository.isEmpty, !model.isEmpty else {
                throw FormProblem(field: field, message: "part \(number + 1) ('\(item)') needs values on both sides of '='")
            }
            entries.append((repository, model))
        }
        return entries
    }

    static func array(_ node: JSONNode?) -> [JSONNode] {
        if case .array(let items)? = node { return items }
        return []
    }

    /// A comma-separated list, trimmed, blanks dropped.
    static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
