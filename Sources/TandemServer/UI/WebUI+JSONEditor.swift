import Foundation
import Hummingbird
import TandemConfig
import TandemCore
import TandemStore

/// Every configuration entity as JSON, beside its form: the whole entity (conditional field flows, filters, conditional
/// routes, schedules, transforms, defaults, constants, transitions…), exactly the API's body, with a reference of its
/// members taken from the OpenAPI schema. Saved through `ConfigStore.put`, so it is validated like the form, the API
/// and `tandem apply`; secrets show as `{"set": true}` and stay stored unless a new value is typed in their place. A
/// refused text is shown again as typed, with the line and column of a syntax error or the path of the refused member.
extension WebUI {
    static let jsonField = "json"

    func registerJSONEditor(on router: Router<APIContext>) {
        for section in ConfigJSON.Section.allCases {
            let base = "/ui/\(section.rawValue)"
            router.get(RouterPath("\(base)/new/json")) { request, context in
                try await self.page(request, context, .writeConfiguration) { session in
                    Self.html(self.jsonPage(section, name: nil, text: Self.template(section).indentedText, problem: nil, session: session))
                }
            }
            router.post(RouterPath("\(base)/new/json")) { request, context in
                try await self.action(request, context, .writeConfiguration) { form, session, _ in
                    try await self.saveJSON(section, name: nil, text: form.first(Self.jsonField) ?? "", session: session)
                }
            }
            router.get(RouterPath("\(base)/:name/json")) { request, context in
                try await self.page(request, context, .readConfiguration) { session in
                    let name = try Self.nameParameter(context)
                    guard let stored = try await self.config.get(section, name: name) else {
                        throw Refusal(status: .notFound, title: "Not found", message: "There is no \(section.entity) named '\(name)'.")
                    }
                    return Self.html(
                        self.jsonPage(
                            section, name: name, text: Self.editable(stored, section).indentedText, problem: nil, session: session,
                            notice: Self.flash(request).notice))
                }
            }
            router.post(RouterPath("\(base)/:name/json")) { request, context in
                try await self.action(request, context, .writeConfiguration) { form, session, _ in
                    try await self.saveJSON(section, name: try Self.nameParameter(context), text: form.first(Self.jsonField) ?? "", session: session)
                }
            }
        }
    }

    /// The stored entity as it is edited: an integration's `running` is left out (Run and Stop change it; a body
    /// without it keeps the stored state).
    static func editable(_ stored: JSONNode, _ section: ConfigJSON.Section) -> JSONNode {
        guard section == .integrations, case .object(let members) = stored else { return stored }
        return .object(members.filter { $0.key != "running" })
    }

    /// A starting point for a new entity: the members it needs, blank.
    static func template(_ section: ConfigJSON.Section) -> JSONNode {
        switch section {
        case .repositories:
            .object([
                "name": .string(""), "type": .string("redmine"), "url": .string(""),
                "auth": .object(["kind": .string("api-key"), "key": .string("")]),
            ])
        case .models:
            .object([
                "name": .string(""), "fields": .array([.object(["name": .string("title"), "type": .string("string"), "required": .bool(true)])]),
            ])
        case .collections:
            .object([
                "name": .string(""), "repository": .string(""), "artifactType": .string(""), "projects": .array([]), "model": .string(""),
                "fields": .array([]),
            ])
        case .integrations:
            .object(["name": .string(""), "left": .string(""), "right": .string(""), "creation": .string("two-way"), "fieldFlows": .object([])])
        }
    }

    func saveJSON(_ section: ConfigJSON.Section, name: String?, text: String, session: Session) async throws -> Response {
        try self.requireMasterKey()
        if let name, try await self.config.get(section, name: name) == nil {
            throw Refusal(status: .notFound, title: "Not found", message: "There is no \(section.entity) named '\(name)'.")
        }
        let problem: String
        do {
            let body = try JSONNode.parse(text)
            let saved = try await self.config.put(section, name: name, body: body, create: name == nil, actor: session.user.username)
            let savedName: String = if case .string(let s)? = saved["name"] { s } else { name ?? "" }
            let verb = name == nil ? "Created" : "Saved"
            return Self.redirect(
                "/ui/\(section.rawValue)/\(HTML.urlComponent(savedName))/json", notice: "\(verb) \(section.entity) '\(savedName)'.")
        } catch let error as JSONSyntaxError {
            problem = "Not saved: the text is not JSON (line \(error.line), column \(error.column): \(error.reason))."
        } catch let error where Self.refusalText(error) != nil {
            problem = "Not saved: \(Self.refusalText(error) ?? "")"
        }
        return Self.html(self.jsonPage(section, name: name, text: text, problem: problem, session: session), status: .unprocessableContent)
    }

    /// A configuration change's refusal as "member: reason" (the store's `AdminError`, the parser's `ConfigError`), or nil
    /// for any other error (which is not the user's to fix).
    static func refusalText(_ error: any Error) -> String? {
        switch error {
        case let error as AdminError: (error.field ?? "").isEmpty ? error.message : "\(error.field ?? ""): \(error.message)"
        case let error as ConfigError:
            error.issues.first.map { $0.path.isEmpty ? $0.reason : "\($0.path): \($0.reason)" } ?? "the configuration is not valid"
        default: nil
        }
    }

    func jsonPage(_ section: ConfigJSON.Section, name: String?, text: String, problem: String?, session: Session, notice: String? = nil) -> HTML {
        let base = "/ui/\(section.rawValue)"
        let canWrite = session.user.has(.writeConfiguration) && self.api.hasMasterKey
        let formPath = name.map { "\(base)/\(HTML.urlComponent($0))" } ?? "\(base)/new"
        let listTitle = section.rawValue.prefix(1).uppercased() + section.rawValue.dropFirst()
        let title = name ?? "New \(section.entity)"
        let lines = max(16, min(48, text.split(separator: "\n", omittingEmptySubsequences: false).count + 2))
        let submit: HTML =
            canWrite
            ? "<div><button class=\"btn primary\" type=\"submit\" id=\"save-json\">\(name == nil ? "Create" : "Save")</button> <a class=\"btn\" href=\"\(formPath)\">Cancel</a></div>"
            : ""
        let secretsHint: HTML =
            section == .repositories
            ? " Secrets show as <code>{\"set\": true}</code>, which keeps the stored value; type a new value in its place to change it."
            : ""
        let content: HTML = """
            <div class="grid two json-editor"><div class="card">\(Self.editorTabs(form: formPath, json: "\(formPath)/json", history: name != nil && session.user.has(.readAudit) ? "\(formPath)/history" : nil, active: .json))<div class="body">
            <form class="form" method="post" action="\(formPath)/json" novalidate>\(self.csrf(session))\
            <label class="field\(problem == nil ? "" : " invalid")">The \(section.entity) as JSON<textarea name="\(Self.jsonField)" class="json" rows="\(lines)" spellcheck="false"\(canWrite ? "" : HTML(" disabled"))>\(text)</textarea>\
            <span class="hint">The body the API takes (<code>PUT /api/v1/\(section.rawValue)/{name}</code>), validated the same way.\(secretsHint)</span></label>\
            \(submit)</form></div></div>
            <div class="card"><div class="body"><h3>Members</h3>\(Self.memberReference(section))</div></div></div>
            """
        return self.layout(
            title, session: session, active: base, notice: notice, error: problem,
            header: Self.header(title, crumbs: [(String(listTitle), base)] + (name.map { [($0, formPath)] } ?? [])), content)
    }

    enum EditorTab { case form, json, history }

    /// The Form, JSON and History tabs over an entity's editor (History only when given: an existing entity and a user
    /// who may read the audit log).
    static func editorTabs(form: String, json: String, history: String?, active: EditorTab) -> HTML {
        func tab(_ label: String, _ path: String, _ id: String, _ which: EditorTab) -> HTML {
            "<a href=\"\(path)\" id=\"\(id)\"\(active == which ? HTML(" class=\"active\" aria-current=\"page\"") : "")>\(label)</a>"
        }
        return
            "<div class=\"tabs\">\(tab("Form", form, "tab-form", .form))\(tab("JSON", json, "tab-json", .json))\(history.map { tab("History", $0, "tab-history", .history) })</div>"
    }

    /// The entity's members as the OpenAPI document describes them (one source for the API and this page).
    static func memberReference(_ section: ConfigJSON.Section) -> HTML {
        let schemaName = OpenAPIDocument.entitySchemaName(section)
        guard let schema = OpenAPIDocument.schemas.first(where: { $0.key == schemaName })?.value,
            case .object(let properties)? = schema["properties"]
        else { return "" }
        let required: Set<String> =
            if case .array(let names)? = schema["required"] { Set(names.compactMap { if case .string(let s) = $0 { s } else { nil } }) } else { [] }
        let rows = properties.map { member -> HTML in
            let mark: HTML = required.contains(member.key) ? " <span class=\"badge info\">required</span>" : ""
            return "<dt><code>\(member.key)</code>\(mark)</dt><dd>\(Self.describe(member.value))</dd>"
        }
        var text: HTML = ""
        if case .string(let description)? = schema["description"] {
            // `name` in the schema's description as code.
            let parts = description.split(separator: "`", omittingEmptySubsequences: false).enumerated().map { index, part -> HTML in
                index % 2 == 1 ? "<code>\(String(part))</code>" : "\(String(part))"
            }
            text = "<p class=\"muted\">\(parts)</p>"
        }
        return "\(text)<dl class=\"facts members\">\(rows)</dl>"
    }

    /// A schema in a few words: `one of a, b`, `list of …`, `object: a, b`, `whole number 1–1000`.
    static func describe(_ schema: JSONNode, depth: Int = 0) -> String {
        func strings(_ node: JSONNode?) -> [String] {
            if case .array(let items)? = node { return items.compactMap { if case .string(let s) = $0 { s } else { nil } } }
            return []
        }
        if case .string(let ref)? = schema["$ref"] { return String(ref.split(separator: "/").last ?? "") }
        let values = strings(schema["enum"])
        if !values.isEmpty { return "one of " + values.joined(separator: ", ") }
        for key in ["anyOf", "oneOf"] {
            if case .array(let options)? = schema[key], !options.isEmpty, schema["type"] == nil {
                return options.map { Self.describe($0, depth: depth) }.joined(separator: ", or ")
            }
        }
        switch schema["type"] {
        case .string("string")?:
            if case .string(let format)? = schema["format"] { return format == "date-time" ? "date and time" : format }
            return "text"
        case .string("boolean")?: return "true or false"
        case .string("integer")?:
            let low = schema["minimum"]?.integerValue
            let high = schema["maximum"]?.integerValue
            if let low, let high, high < Int.max { return "whole number \(low)–\(high)" }
            if let low { return "whole number ≥ \(low)" }
            return "whole number"
        case .string("array")?:
            return "list of " + (schema["items"].map { Self.describe($0, depth: depth + 1) } ?? "values")
        case .string("object")?:
            if case .object(let properties)? = schema["properties"], !properties.isEmpty {
                let names = properties.map(\.key)
                return depth > 1 ? "object" : "object: " + names.joined(separator: ", ")
            }
            if let values = schema["additionalProperties"], case .object = values {
                return "map of name → " + Self.describe(values, depth: depth + 1)
            }
            return "object"
        default:
            return "value"
        }
    }
}
