import Foundation
import TandemConfig
import TandemConnectors
import TandemCore
import TandemStore

/// The create and edit forms of the configuration entities, and the integration's field-flow table (the guide's
/// "Field Flow" screen: repository fields on the far left and right, model fields in the middle, a direction and
/// frequency per side, unmapped model fields hidden unless asked for, constant values marked).
extension WebUI {
    /// Renders one form. `problem` marks its field and is shown on top; the draft keeps what the user typed.
    func formPage(
        _ section: ConfigJSON.Section, draft: EntityDraft, isNew: Bool, configuration c: TandemConfiguration, problem: FormProblem?,
        session: Session, notice: String? = nil
    ) -> HTML {
        let base = "/ui/\(section.rawValue)"
        let name = draft.value("name")
        let action = isNew ? "\(base)/new" : "\(base)/\(HTML.urlComponent(name))"
        let canWrite = session.user.has(.writeConfiguration) && self.api.hasMasterKey
        let f = FormFields(draft: draft, problem: problem, readOnly: !canWrite)
        var fields: HTML = ""
        switch section {
        case .repositories:
            fields += "<div class=\"row\">\(f.text("name", "Name", hint: "Letters, digits, '-' and '_'", locked: !isNew))"
            fields += "\(f.select("type", "Type", RepositoryKind.allCases.map(\.rawValue)))</div>"
            fields += f.text("url", "URL", hint: "The tracker's base address, e.g. https://redmine.example.com")
            fields += "<div class=\"row\">\(f.select("auth.kind", "Authentication", ["none", "basic", "api-key", "token", "bearer"]))"
            fields += "\(f.text("auth.username", "User name", hint: "For basic authentication"))</div>"
            fields += "<div class=\"row\">"
            fields += f.text(
                "auth.secret", "Password, key or token", type: "password",
                hint: isNew
                    ? "Stored encrypted; never shown again"
                    : "Leave blank to keep the stored secret — unless the URL, proxy or authentication kind changes: it is only sent where it was entered, so type it again then"
            )
            fields += "\(f.text("auth.header", "API key header", hint: "For api-key, e.g. X-Redmine-API-Key"))</div>"
            fields +=
                "<div class=\"row\">\(f.text("concurrencyLimit", "Concurrency limit", type: "number", hint: "Requests at once; blank: no limit"))"
            fields += "\(f.text("eventRateLimit.eventsPerMinute", "Events per minute", type: "number", hint: "Blank: the global setting"))</div>"
            fields += "<div class=\"row\">\(f.select("eventRateLimit.scope", "Rate limit applies to", RateLimitScope.allCases.map(\.rawValue)))"
            fields += "\(f.checkbox("enabled", "Enabled"))</div>"
            fields +=
                "<div>\(f.checkbox("debugLogging", "Debug logging"))<span class=\"hint\"> — log every API call to this tracker (method, address, status, time; never credentials or content) at notice level</span></div>"
            fields += f.textarea("options", "Connector options", hint: "One 'name = value' per line")
        case .models:
            fields += f.text("name", "Name", locked: !isNew)
            var rows: [HTML] = []
            let all = draft.rows + Array(repeating: [:], count: 3)
            for (index, row) in all.enumerated() {
                rows.append(
                    """
                    <tr><td>\(f.cell("fields.\(index).name", row["name"] ?? ""))</td>\
                    <td>\(f.cellSelect("fields.\(index).type", row["type"] ?? "string", FieldType.allCases.map(\.rawValue)))</td>\
                    <td class="check">\(f.cellCheck("fields.\(index).required", row["required"] == "on"))</td>\
                    <td>\(f.cell("fields.\(index).values", row["values"] ?? "", placeholder: "for selects: A, B, C"))</td></tr>
                    """)
            }
            fields += """
                <div><strong>Fields</strong> <span class="muted">— blank rows are ignored; save to get more</span>\
                <div class="table-wrap"><table class="edit"><thead><tr><th>Name</th><th>Type</th><th>Required</th><th>Values</th></tr></thead>\
                <tbody>\(rows)</tbody></table></div></div>
                """
        case .collections:
            fields += "<div class=\"row\">\(f.text("name", "Name", locked: !isNew))"
            fields += "\(f.select("repository", "Repository", [""] + c.repositories.map(\.name)))</div>"
            fields += "<div class=\"row\">\(f.text("artifactType", "Artifact type", hint: "e.g. a Redmine tracker number, 'issue' for Roundup"))"
            fields += "\(f.text("projects", "Projects", hint: "Comma-separated"))</div>"
            fields += f.select("model", "Model", [""] + c.models.map(\.name))
            let modelFields = c.models.first { $0.name == draft.value("model") }?.fields.map(\.name) ?? []
            var rows: [HTML] = []
            let all = draft.rows + Array(repeating: [:], count: 3)
            for (index, row) in all.enumerated() {
                let modelCell: HTML =
                    modelFields.isEmpty
                    ? f.cell("fields.\(index).modelField", row["modelField"] ?? "")
                    : f.cellSelect("fields.\(index).modelField", row["modelField"] ?? "", [""] + modelFields)
                rows.append(
                    """
                    <tr><td>\(f.cell("fields.\(index).field", row["field"] ?? ""))</td><td class="muted">⇄</td><td>\(modelCell)</td>\
                    <td>\(f.cell("fields.\(index).valueMap", row["valueMap"] ?? "", placeholder: "Feedback, New = New; Closed = Done"))</td></tr>
                    """)
            }
            fields += """
                <div><strong>Field mappings</strong> <span class="muted">— transforms, defaults and constants are kept; set them on the \
                <a href="\(action)/json">JSON</a> tab</span><div class="table-wrap"><table class="edit"><thead><tr><th>Repository field</th><th></th>\
                <th>Model field</th><th>Value map <span class="muted">(repository values = model value; …)</span></th></tr></thead>\
                <tbody>\(rows)</tbody></table></div></div>
                """
        case .integrations:
            let collections = [""] + c.collections.map(\.name)
            fields += "<div class=\"row\">\(f.text("name", "Name", locked: !isNew))"
            fields += "\(f.select("creation", "Artifact creation", CreationFlowConfig.allCases.map(\.rawValue)))</div>"
            fields +=
                "<div class=\"row\">\(f.select("left", "Left collection", collections))\(f.select("right", "Right collection", collections))</div>"
            fields += "<div class=\"row\">\(f.select("comments", "Comments flow", FlowDirection.allCases.map(\.rawValue)))"
            fields += "\(f.select("attachments.direction", "Attachments flow", FlowDirection.allCases.map(\.rawValue)))</div>"
            fields += f.select("conflicts.default", "On conflicting changes", ConflictPolicyKind.allCases.map(\.rawValue))
            if draft.value("route.advanced") == "on" {
                fields += "<input type=\"hidden\" name=\"route.advanced\" value=\"on\">"
                fields +=
                    "<div class=\"notice warn\">This integration's routes (conditional or several) are kept as configured; change them on the <a href=\"\(action)/json\">JSON</a> tab.</div>"
            } else {
                fields +=
                    "<div><strong>Artifact routing</strong> <span class=\"muted\">— where new artifacts are created; blank: a collection's projects go to the other collection's first project</span></div>"
                fields += "<div class=\"row\">\(f.text("route.left.sources", "From left projects", hint: "Comma-separated"))"
                fields += "\(f.text("route.left.target", "…create in right project"))</div>"
                fields += "<div class=\"row\">\(f.text("route.right.sources", "From right projects", hint: "Comma-separated"))"
                fields += "\(f.text("route.right.target", "…create in left project"))</div>"
            }
            fields += self.fieldFlowTable(draft: draft, configuration: c, form: f)
        }
        let title = isNew ? "New \(section.entity)" : name
        let listTitle = section.rawValue.prefix(1).uppercased() + section.rawValue.dropFirst()
        let submit: HTML =
            canWrite
            ? "<div><button class=\"btn primary\" type=\"submit\" id=\"save\">\(isNew ? "Create" : "Save")</button> <a class=\"btn\" href=\"\(base)\">Cancel</a></div>"
            : ""
        var actions: HTML = ""
        if !isNew, section == .integrations, session.user.has(.runIntegrations), self.api.hasMasterKey {
            let path = "/ui/integrations/\(HTML.urlComponent(name))"
            actions +=
                draft.value("running") == "on"
                ? self.button("Stop", action: "\(path)/stop", session: session, style: "btn", fields: [("back", "edit")])
                : self.button("Run", action: "\(path)/run", session: session, style: "btn primary", fields: [("back", "edit")])
            if self.api.requester != nil {
                actions += self.button(
                    "Process all artifacts", action: "\(path)/process-all", session: session, style: "btn",
                    confirm: "Re-synchronize every artifact pair of this integration?")
            }
        }
        if !isNew, canWrite, section == .repositories {
            actions += self.button("Test connection", action: "\(base)/\(HTML.urlComponent(name))/test", session: session, style: "btn")
        }
        if !isNew, canWrite {
            actions += self.button(
                "Delete", action: "\(base)/\(HTML.urlComponent(name))/delete", session: session, style: "btn danger",
                confirm: "Delete \(section.entity) '\(name)'? This cannot be undone.")
        }
        let state: HTML? =
            section == .integrations && !isNew ? (draft.value("running") == "on" ? Self.badge("running", "ok") : Self.badge("stopped")) : nil
        let problemText: String? = problem.map { p in p.field.map { "\(Self.fieldLabel($0)): \(p.message)" } ?? p.message }
        let content: HTML = """
            <div class="card">\(Self.editorTabs(form: action, json: "\(action)/json", history: !isNew && session.user.has(.readAudit) ? "\(action)/history" : nil, active: .form))<div class="body">\(state.map { "<p>\($0)</p>" as HTML })
            <form class="form" method="post" action="\(action)" novalidate>\(self.csrf(session))\(fields)\(submit)</form></div></div>
            """
        return self.layout(
            title, session: session, active: base, notice: notice, error: problemText,
            header: Self.header(title, crumbs: [(String(listTitle), base)], actions: actions), content)
    }

    /// A field's path as the user knows it: `fields[2].name` → "fields[2].name (row 3)".
    static func fieldLabel(_ path: String) -> String {
        if path.hasPrefix("fields["), let close = path.firstIndex(of: "]"), let n = Int(path[path.index(path.startIndex, offsetBy: 7)..<close]) {
            return "\(path) (row \(n + 1))"
        }
        return path.isEmpty ? "the form" : path
    }

    /// The field-flow table of an integration: one row per model field.
    func fieldFlowTable(draft: EntityDraft, configuration c: TandemConfiguration, form f: FormFields) -> HTML {
        guard let left = c.collections.first(where: { $0.name == draft.value("left") }),
            let right = c.collections.first(where: { $0.name == draft.value("right") })
        else {
            return "<div class=\"notice warn\">Choose the left and right collections, then save: the field flow appears here.</div>"
        }
        guard left.model == right.model, let model = c.models.first(where: { $0.name == left.model }) else {
            return "<div class=\"notice warn\">The two collections use different models; an integration's collections share one model.</div>"
        }
        func mapped(_ collection: CollectionConfig, _ field: String) -> HTML {
            let mappings = collection.fields.filter { $0.modelField == field }
            if mappings.isEmpty { return "<span class=\"muted\">—</span>" }
            return HTML.join(
                mappings.map { m in
                    m.constant.map { "<span class=\"constant\" title=\"A constant value is sent\">◆ \($0)</span>" } ?? "<code>\(m.field)</code>"
                }, separator: " ")
        }
        let frequencies = FlowFrequency.allCases.map(\.rawValue)
        var rows: [HTML] = []
        for field in model.fields {
            let isMapped = left.fields.contains { $0.modelField == field.name } || right.fields.contains { $0.modelField == field.name }
            let flow = draft.flows[field.name] ?? ("update-normally", "update-normally")
            let required: HTML = field.required ? " <span class=\"badge warn plain\" title=\"Required in the model\">required</span>" : ""
            rows.append(
                """
                <tr class="\(isMapped ? "" : "unmapped")"><td class="l">\(mapped(left, field.name))</td>\
                <td>\(f.cellSelect("flow.\(field.name).rightToLeft", flow.1, frequencies, label: "\(field.name): right to left"))<div class="muted">←</div></td>\
                <td class="model">\(field.name)\(required)</td>\
                <td>\(f.cellSelect("flow.\(field.name).leftToRight", flow.0, frequencies, label: "\(field.name): left to right"))<div class="muted">→</div></td>\
                <td class="r">\(mapped(right, field.name))</td></tr>
                """)
        }
        return """
            <div class="card flows"><div class="head"><span>Field flow</span>\
            <label class="check muted"><input type="checkbox" id="show-unmapped"> Show unmapped fields</label></div>
            <div class="body muted">How each model field flows: <strong>update-normally</strong> when it changed, <strong>always-update</strong> \
            when any field changed, <strong>upon-creation</strong> only when the twin is created, <strong>no-update</strong> never.</div>
            <div class="table-wrap"><table class="flow-table"><thead><tr><th class="right">\(left.name) (left)</th><th>Right → left</th>\
            <th>\(model.name) field</th><th>Left → right</th><th class="l">\(right.name) (right)</th></tr></thead><tbody>\(rows)</tbody></table></div></div>
            """
    }
}

/// Renders inputs from a draft, marking the one a problem names.
struct FormFields {
    var draft: EntityDraft
    var problem: FormProblem?
    var readOnly: Bool

    /// The input a problem's path points at (`auth.password` → `auth.secret`, `fields[2].name` → `fields.2.name`,
    /// `fieldFlows.title.leftToRight` → `flow.title.leftToRight`).
    var problemInput: String? {
        guard var path = self.problem?.field else { return nil }
        path = path.replacingOccurrences(of: "]", with: "").replacingOccurrences(of: "[", with: ".")
        switch path {
        case "auth.password", "auth.key", "auth.token": return "auth.secret"
        case "auth": return "auth.kind"
        case "eventRateLimit", "eventRateLimit.scope": return path == "eventRateLimit" ? "eventRateLimit.eventsPerMinute" : path
        case "attachments", "conflicts": return path + (path == "attachments" ? ".direction" : ".default")
        default: break
        }
        if path.hasPrefix("projects") { return "projects" }
        if path.hasPrefix("routes."), let index = Int(path.dropFirst("routes.".count).prefix { $0.isNumber }) {
            let side = index == 0 ? "left" : "right"
            return path.hasSuffix("targetProject") ? "route.\(side).target" : "route.\(side).sources"
        }
        if path.hasPrefix("options") { return "options" }
        if path.hasPrefix("fieldFlows.") {
            let rest = path.dropFirst("fieldFlows.".count)
            if rest.hasSuffix(".leftToRight") || rest.hasSuffix(".rightToLeft") { return "flow." + rest }
            return "flow.\(rest).leftToRight"
        }
        return path
    }

    /// Whether the problem points at this input (or inside it: `fields.1.valueMap.0.model` → `fields.1.valueMap`).
    func marked(_ name: String) -> Bool {
        guard let input = self.problemInput else { return false }
        return input == name || input.hasPrefix(name + ".")
    }

    func message(_ name: String) -> HTML {
        guard self.marked(name), let problem else { return "" }
        return "<span class=\"field-error\">\(problem.message)</span>"
    }

    var disabled: HTML { self.readOnly ? " disabled" : "" }

    func text(_ name: String, _ label: String, type: String = "text", hint: String? = nil, locked: Bool = false) -> HTML {
        let value = type == "password" ? "" : self.draft.value(name)
        let lock: HTML = locked ? " readonly" : ""
        return """
            <label class="field\(self.marked(name) ? " invalid" : "")">\(label)\
            <input type="\(type)" name="\(name)" value="\(value)"\(lock)\(self.disabled)\(self.marked(name) ? HTML(" aria-invalid=\"true\" autofocus") : "")\
            \(type == "password" ? HTML(" autocomplete=\"new-password\"") : "")>\
            \(hint.map { "<span class=\"hint\">\($0)</span>" as HTML })\(self.message(name))</label>
            """
    }

    func textarea(_ name: String, _ label: String, hint: String? = nil) -> HTML {
        """
        <label class="field\(self.marked(name) ? " invalid" : "")">\(label)<textarea name="\(name)"\(self.disabled)>\(self.draft.value(name))</textarea>\
        \(hint.map { "<span class=\"hint\">\($0)</span>" as HTML })\(self.message(name))</label>
        """
    }

    func select(_ name: String, _ label: String, _ options: [String]) -> HTML {
        """
        <label class="field\(self.marked(name) ? " invalid" : "")">\(label)\(self.cellSelect(name, self.draft.value(name), options))\(self.message(name))</label>
        """
    }

    func checkbox(_ name: String, _ label: String) -> HTML {
        "<label class=\"check\">\(self.cellCheck(name, self.draft.value(name) == "on")) \(label)</label>"
    }

    func cell(_ name: String, _ value: String, placeholder: String = "") -> HTML {
        let input: HTML =
            "<input type=\"text\" name=\"\(name)\" value=\"\(value)\" placeholder=\"\(placeholder)\"\(self.marked(name) ? HTML(" class=\"invalid\"") : "")\(self.disabled)>"
        return input + self.message(name)
    }

    func cellSelect(_ name: String, _ value: String, _ options: [String], label: String? = nil) -> HTML {
        var list = options
        if !value.isEmpty, !list.contains(value) { list.append(value) }
        let items = HTML.join(list.map { "<option value=\"\($0)\"\($0 == value ? HTML(" selected") : "")>\($0.isEmpty ? "—" : $0)</option>" })
        let aria: HTML = label.map { " aria-label=\"\($0)\"" } ?? ""
        return "<select name=\"\(name)\"\(aria)\(self.marked(name) ? HTML(" class=\"invalid\"") : "")\(self.disabled)>\(items)</select>"
            + (label == nil ? "" : self.message(name))
    }

    func cellCheck(_ name: String, _ checked: Bool) -> HTML {
        "<input type=\"checkbox\" name=\"\(name)\"\(checked ? HTML(" checked") : "")\(self.disabled)>"
    }
}
