import Foundation
import Hummingbird
import TandemConfig
import TandemCore
import TandemStore

/// The audit log as the configuration history: `/ui/audit` (every change, filtered by entity, name and actor) and the
/// History tab of each configuration entity. Each row shows who changed what when, and the members before and after.
/// An update of a configuration entity can be reverted (its changed members set back to their values before it, the
/// rest kept), and a deleted entity restored; both go through `ConfigStore.put`, validated and audited like any change.
extension WebUI {
    static let auditEntities = [
        "repository", "model", "collection", "integration", "settings", "user", "api-token", "queue", "artifact-pair", "activity",
    ]

    func registerAudit(on router: Router<APIContext>) {
        router.get("/ui/audit") { request, context in
            try await self.page(request, context, .readAudit) { session in
                let filter = AuditLog.Filter(
                    entity: request.query("entity"), entityName: request.query("name"), actor: request.query("actor"),
                    before: request.query("before").flatMap(Int64.init), limit: 50)
                let entries = try await AuditLog.list(self.postgres, filter)
                return Self.html(try await self.auditPage(filter: filter, entries: entries, request: request, session: session))
            }
        }
        for section in ConfigJSON.Section.allCases {
            router.get(RouterPath("/ui/\(section.rawValue)/:name/history")) { request, context in
                try await self.page(request, context, .readAudit) { session in
                    let name = try Self.nameParameter(context)
                    let filter = AuditLog.Filter(
                        entity: section.entity, entityName: name, before: request.query("before").flatMap(Int64.init), limit: 50)
                    let entries = try await AuditLog.list(self.postgres, filter)
                    return Self.html(try await self.historyPage(section, name: name, entries: entries, request: request, session: session))
                }
            }
        }
        router.post("/ui/audit/:id/revert") { request, context in
            try await self.action(request, context, .writeConfiguration) { form, session, _ in
                guard let raw = context.parameters.get("id"), let id = Int64(raw), id > 0,
                    let entry = try await AuditLog.entry(self.postgres, id: id)
                else { throw Refusal(status: .notFound, title: "Not found", message: "There is no audit entry with that number.") }
                try self.requireMasterKey()
                let back = Self.safeNext(form.first("back")) ?? "/ui/audit"
                do {
                    return Self.redirect(back, notice: try await self.config.revert(entry, actor: session.user.username).message)
                } catch let error where Self.refusalText(error) != nil {
                    return Self.redirect(back, notice: "Not done: \(Self.refusalText(error) ?? "")", isProblem: true)
                }
            }
        }
    }

    func auditPage(filter: AuditLog.Filter, entries: [AuditEntry], request: Request, session: Session) async throws -> HTML {
        let entities = Self.auditEntities + (filter.entity.map { Self.auditEntities.contains($0) ? [] : [$0] } ?? [])
        let options = HTML.join(
            ([""] + entities).map {
                "<option value=\"\($0)\"\($0 == (filter.entity ?? "") ? HTML(" selected") : "")>\($0.isEmpty ? "Everything" : $0)</option>"
            })
        let filters: HTML = """
            <aside class="card filters"><h2>Filter</h2><div class="body">
            <form method="get" action="/ui/audit" class="form">
            <label class="field">What<select name="entity">\(options)</select></label>
            <label class="field">Name<input type="search" name="name" value="\(filter.entityName ?? "")" placeholder="e.g. an integration's name"></label>
            <label class="field">Who<input type="search" name="actor" value="\(filter.actor ?? "")" placeholder="user name"></label>
            <button class="btn" type="submit">Apply</button></form></div></aside>
            """
        var query: [(String, String)] = []
        if let v = filter.entity { query.append(("entity", v)) }
        if let v = filter.entityName { query.append(("name", v)) }
        if let v = filter.actor { query.append(("actor", v)) }
        let here = "/ui/audit" + (query.isEmpty ? "" : "?" + query.map { "\($0.0)=\(HTML.urlComponent($0.1))" }.joined(separator: "&"))
        let table = await self.auditTable(entries, showEntity: true, back: here, session: session)
        let flash = Self.flash(request)
        return self.layout(
            "Audit log", session: session, active: "/ui/audit", notice: flash.notice, error: flash.problem,
            header: Self.header("Audit log", sub: "Every configuration change: who, when, and what it was before and after."),
            "<div class=\"layout-filter\">\(filters)<div class=\"card\">\(table)\(Self.olderLink(entries, base: here))</div></div>")
    }

    func historyPage(_ section: ConfigJSON.Section, name: String, entries: [AuditEntry], request: Request, session: Session) async throws -> HTML {
        let base = "/ui/\(section.rawValue)"
        let formPath = "\(base)/\(HTML.urlComponent(name))"
        let listTitle = section.rawValue.prefix(1).uppercased() + section.rawValue.dropFirst()
        let exists = try await self.config.get(section, name: name) != nil
        let here = "\(formPath)/history"
        let tabs: HTML = exists ? Self.editorTabs(form: formPath, json: "\(formPath)/json", history: here, active: .history) : ""
        let gone: HTML =
            exists ? "" : "<div class=\"notice warn\">There is no \(section.entity) named '\(name)' now; its history is kept.</div>"
        let flash = Self.flash(request)
        let table = await self.auditTable(entries, showEntity: false, back: here, session: session)
        return self.layout(
            name, session: session, active: base, notice: flash.notice, error: flash.problem,
            header: Self.header(name, crumbs: [(String(listTitle), base)]),
            "\(gone)<div class=\"card\">\(tabs)\(table)\(Self.olderLink(entries, base: here))</div>")
    }

    static func olderLink(_ entries: [AuditEntry], base: String) -> HTML {
        guard entries.count == 50, let last = entries.last else { return "" }
        let target = base + (base.contains("?") ? "&" : "?") + "before=\(last.id)"
        return "<div class=\"body right\"><a class=\"btn\" href=\"\(target)\">Older →</a></div>"
    }

    /// The rows of the audit log: when, who, what; the changed members before and after in a disclosure; Revert or
    /// Restore where that can be done.
    func auditTable(_ entries: [AuditEntry], showEntity: Bool, back: String, session: Session) async -> HTML {
        guard !entries.isEmpty else { return Self.empty("No changes", "Configuration changes are recorded here as they happen.", icon: "✎") }
        let canRevert = session.user.has(.writeConfiguration) && self.api.hasMasterKey
        var rows: [HTML] = []
        for e in entries {
            let section = ConfigJSON.Section.allCases.first { $0.entity == e.entity }
            let subject: HTML =
                if let section, let name = e.entityName {
                    "\(e.entity) <a href=\"/ui/\(section.rawValue)/\(HTML.urlComponent(name))/history\"><strong>\(name)</strong></a>"
                } else {
                    "\(e.entity) <strong>\(e.entityName ?? "")</strong>"
                }
            let tone =
                switch e.action {
                case "create", "run": "ok"
                case "delete", "stop": "err"
                default: "info"
                }
            var action: HTML = ""
            if canRevert, section != nil, e.entityName != nil, e.action == "update" || e.action == "delete" {
                let label = e.action == "update" ? "Revert" : "Restore"
                action = self.button(
                    label, action: "/ui/audit/\(e.id)/revert", session: session, style: "btn small",
                    confirm: e.action == "update"
                        ? "Set the members this change touched back to their earlier values? (Later changes to other members are kept.)"
                        : "Create the \(e.entity) '\(e.entityName ?? "")' again as it was when it was deleted?",
                    fields: [("back", back)])
            }
            rows.append(
                """
                <tr id="audit-\(e.id)"><td class="nowrap" title="\(Self.timestamp(e.at))">\(Self.relative(e.at))</td><td><strong>\(e.actor)</strong></td>\
                <td>\(Self.badge(e.action, tone))</td>\(showEntity ? "<td>\(subject)</td>" as HTML : "")<td>\(Self.changeSummary(e))</td>\
                <td class="right">\(action)</td></tr>
                """)
        }
        return """
            <div class="table-wrap"><table class="audit"><thead><tr><th>When</th><th>Who</th><th>Action</th>\(showEntity ? "<th>What</th>" as HTML : "")\
            <th>Changes</th><th></th></tr></thead><tbody>\(rows)</tbody></table></div>
            """
    }

    /// The changed members (named), and a disclosure with their values before and after.
    static func changeSummary(_ e: AuditEntry) -> HTML {
        let before = e.changes["before"]?.members ?? []
        let after = e.changes["after"]?.members ?? []
        var properties: [String] = []
        if case .array(let names)? = e.changes["properties"] {
            properties = names.compactMap { if case .string(let s) = $0 { s } else { nil } }
        }
        var keys: [String] = []
        for key in (before + after).map(\.key) where !keys.contains(key) { keys.append(key) }
        // Other entries (operations, users) keep their own members: shown as they are.
        let extras = (e.changes.members ?? []).filter { !["before", "after", "properties"].contains($0.key) }
        let names = properties.isEmpty ? (keys.isEmpty ? extras.map(\.key) : keys) : properties
        let named: HTML =
            e.action == "create" ? "created" : e.action == "delete" ? "deleted" : names.isEmpty ? "—" : "\(names.joined(separator: ", "))"
        guard !keys.isEmpty || !extras.isEmpty else { return named }
        var lines: [HTML] = []
        for key in keys {
            let old = before.first { $0.key == key }?.value
            let new = after.first { $0.key == key }?.value
            lines.append(
                "<tr><th><code>\(key)</code></th><td>\(Self.value(old))</td><td>\(Self.value(new))</td></tr>")
        }
        for member in extras { lines.append("<tr><th><code>\(member.key)</code></th><td colspan=\"2\">\(Self.value(member.value))</td></tr>") }
        let head: HTML = keys.isEmpty ? "" : "<thead><tr><th></th><th>Before</th><th>After</th></tr></thead>"
        return """
            <details class="changes"><summary>\(named)</summary><table class="diff">\(head)<tbody>\(lines)</tbody></table></details>
            """
    }

    /// A recorded value, short: compact JSON, cut at 300 characters; absent as a dash, null (not set) as "default".
    static func value(_ node: JSONNode?) -> HTML {
        guard let node else { return "<span class=\"muted\">—</span>" }
        if node == .null { return "<span class=\"muted\">default</span>" }
        let text = node.text
        return "<code>\(text.count > 300 ? String(text.prefix(300)) + "…" : text)</code>"
    }
}
