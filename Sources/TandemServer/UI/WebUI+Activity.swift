import Foundation
import Hummingbird
import TandemCluster
import TandemConfig
import TandemStore

/// Activity (the guide's "Syncs" tab): the list filtered by status (left, with counts), integration, kind and text;
/// checkboxes and a gear menu with Retry, Clear Errors and Clear Errors and Ignore Changes (the clearing actions only
/// while every selected item is in error); one item's page with the same menu.
extension WebUI {
    static let statusLabels: [(ActivityStatus, String)] = [
        (.open, "In error"), (.retrying, "Retrying"), (.cleared, "Cleared"), (.ignored, "Ignored"), (.done, "Done"),
    ]

    static func statusBadge(_ status: ActivityStatus) -> HTML {
        let label = Self.statusLabels.first { $0.0 == status }?.1 ?? status.rawValue
        switch status {
        case .open: return Self.badge(label, "err")
        case .retrying: return Self.badge(label, "info")
        case .ignored: return Self.badge(label, "warn")
        case .done: return Self.badge(label, "ok")
        case .cleared: return Self.badge(label)
        }
    }

    var operatorActions: OperatorActions { OperatorActions(client: self.postgres, queue: self.queue) }

    func registerActivity(on router: Router<APIContext>) {
        router.get("/ui/activity") { request, context in
            try await self.page(request, context, .readActivity) { session in
                Self.html(try await self.activityPage(request, session: session))
            }
        }
        router.get("/ui/activity/:id") { request, context in
            try await self.page(request, context, .readActivity) { session in
                let id = try Self.idParameter(context)
                guard let item = try await ActivityStore(client: self.postgres).item(id: id) else {
                    throw Refusal(status: .notFound, title: "Not found", message: "There is no activity item \(id).")
                }
                return Self.html(self.activityItemPage(item, session: session, notice: Self.flash(request).notice))
            }
        }
        router.post("/ui/activity/action") { request, context in
            try await self.action(request, context, .actOnActivity) { form, session, _ in
                guard let action = ActivityAction(rawValue: form.first("action") ?? "") else {
                    throw Refusal(
                        status: .unprocessableContent, title: "Not done",
                        message: "action: choose Retry, Clear Errors or Clear Errors and Ignore Changes.")
                }
                let ids = form.all("id").compactMap { Int64($0) }.filter { $0 > 0 }
                let back = Self.safeNext(form.first("back")) ?? "/ui/activity"
                guard !ids.isEmpty else { return Self.redirect(back, notice: "Select at least one item first.") }
                let result = try await self.operatorActions.perform(action, ids: ids, actor: session.user.username)
                return Self.redirect(back, notice: Self.summary(result))
            }
        }
    }

    static func idParameter(_ context: APIContext) throws -> Int64 {
        guard let raw = context.parameters.get("id"), let id = Int64(raw), id > 0 else {
            throw Refusal(status: .notFound, title: "Not found", message: "The address does not name an item (a positive number).")
        }
        return id
    }

    static func summary(_ result: ActivityActionResult) -> String {
        let verb: String
        switch result.action {
        case .retry: verb = "Queued a retry of"
        case .clear: verb = "Cleared"
        case .clearAndIgnore: verb = "Cleared and now ignoring changes of"
        }
        var text = "\(verb) \(result.changed.count) item\(result.changed.count == 1 ? "" : "s")."
        if !result.skipped.isEmpty {
            let reasons = result.skipped.prefix(5).map { "#\($0.id): \($0.reason)" }.joined(separator: "; ")
            text += " Skipped \(result.skipped.count): \(reasons)\(result.skipped.count > 5 ? "; …" : "")."
        }
        return text
    }

    func activityPage(_ request: Request, session: Session) async throws -> HTML {
        let store = ActivityStore(client: self.postgres)
        let c = try await self.config.export()
        var filter = ActivityFilter(
            kind: request.query("kind"), status: request.query("status"), integration: request.query("integration"), text: request.query("q"),
            after: request.query("after").flatMap { Int64($0) }, limit: 50)
        var problem: String?
        do {
            try filter.validate()
        } catch let error as AdminError {
            problem = error.description
            filter = ActivityFilter()
        }
        let page = try await store.list(filter)
        let counts = try await store.counts(filter)
        let canAct = session.user.has(.actOnActivity)
        func link(status: String?) -> String {
            var items: [(String, String)] = []
            if let status { items.append(("status", status)) }
            if let v = filter.integration { items.append(("integration", v)) }
            if let v = filter.kind { items.append(("kind", v)) }
            if let v = filter.text { items.append(("q", v)) }
            return "/ui/activity" + (items.isEmpty ? "" : "?" + items.map { "\($0.0)=\(HTML.urlComponent($0.1))" }.joined(separator: "&"))
        }
        let total = counts.values.reduce(0, +)
        var statusLinks: [HTML] = [
            "<a href=\"\(link(status: nil))\"\(filter.status == nil ? HTML(" class=\"active\"") : "")><span>All</span><span class=\"count\">\(total)</span></a>"
        ]
        for (status, label) in Self.statusLabels.map({ ($0.0.rawValue, $0.1) }) {
            statusLinks.append(
                "<a href=\"\(link(status: status))\"\(filter.status == status ? HTML(" class=\"active\"") : "") data-status=\"\(status)\"><span>\(label)</span><span class=\"count\">\(counts[status] ?? 0)</span></a>"
            )
        }
        let integrations = HTML.join(
            ([""] + c.integrations.map(\.name)).map {
                "<option value=\"\($0)\"\($0 == (filter.integration ?? "") ? HTML(" selected") : "")>\($0.isEmpty ? "All integrations" : $0)</option>"
            })
        let kinds = HTML.join(
            ([""] + ActivityStore.kinds).map {
                "<option value=\"\($0)\"\($0 == (filter.kind ?? "") ? HTML(" selected") : "")>\($0.isEmpty ? "All kinds" : $0)</option>"
            })
        let filters: HTML = """
            <aside class="card filters"><h2>Filter</h2><div class="body">
            <div class="status-list">\(statusLinks)</div>
            <form method="get" action="/ui/activity" class="form">\(filter.status.map { "<input type=\"hidden\" name=\"status\" value=\"\($0)\">" as HTML })
            <label class="field">Integration<select name="integration">\(integrations)</select></label>
            <label class="field">Kind<select name="kind">\(kinds)</select></label>
            <label class="field">Text<input type="search" name="q" value="\(filter.text ?? "")" placeholder="message, artifact id or code"></label>
            <button class="btn" type="submit">Apply</button></form></div></aside>
            """
        var rows: [HTML] = []
        for item in page.items {
            let inError = item.status == .open || item.status == .retrying
            let artifact: HTML =
                item.artifactID.map { id in
                    let label = item.artifactKey ?? id
                    return item.artifactURL.flatMap { Self.safeURL($0) }.map { "<a href=\"\($0)\" rel=\"noreferrer\">\(label)</a>" }
                        ?? "<code>\(label)</code>"
                } ?? "—"
            let pair: HTML =
                item.pairID.map { session.user.has(.viewPairs) ? " <a class=\"muted\" href=\"/ui/pairs/\($0)\">pair #\($0)</a>" : "" } ?? ""
            let check: HTML =
                canAct
                ? "<td class=\"check\"><input type=\"checkbox\" name=\"id\" value=\"\(item.id)\" form=\"bulk\" data-error=\"\(inError ? "1" : "0")\" aria-label=\"Select item \(item.id)\"></td>"
                : ""
            rows.append(
                """
                <tr data-id="\(item.id)"><td><a href="/ui/activity/\(item.id)" title="Details" aria-label="Details of item \(item.id)">\(Icons.info)</a></td>\
                <td>\(Self.statusBadge(item.status))<div class="muted">\(item.kind.rawValue)</div></td>\
                <td>\(item.integration ?? "—")<div class="muted">\(item.repository ?? "")\(item.side.map { " · \($0)" } ?? "")</div></td>\
                <td>\(artifact)\(pair)</td>\
                <td>\(item.message)\(item.code.map { " <code class=\"muted\">\($0)</code>" as HTML })</td>\
                <td class="num">\(item.occurrences)</td><td class="nowrap">\(Self.relative(item.lastSeenAt))</td>\(check)</tr>
                """)
        }
        let selectAll: HTML =
            canAct ? "<th class=\"check\"><input type=\"checkbox\" data-select-all=\"id\" aria-label=\"Select all\"></th>" : ""
        let table: HTML =
            rows.isEmpty
            ? Self.empty(
                filter.status == ActivityStatus.open.rawValue ? "No errors" : "Nothing here",
                filter.status == ActivityStatus.open.rawValue ? "Every synchronization is healthy." : "No activity matches these filters.",
                icon: filter.status == ActivityStatus.open.rawValue ? "✓" : "◌")
            : """
            <div class="table-wrap"><table id="activity"><thead><tr><th></th><th>Status</th><th>Integration</th><th>Artifact</th><th>Message</th>\
            <th class="num">Seen</th><th>Last</th>\(selectAll)</tr></thead><tbody>\(rows)</tbody></table></div>
            """
        let here = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        let menu: HTML = canAct ? self.gearMenu(session: session, back: here, count: true) : ""
        let more: HTML =
            page.next.map { next in
                var target = link(status: filter.status)
                target += (target.contains("?") ? "&" : "?") + "after=\(next)"
                return "<div class=\"body right\"><a class=\"btn\" href=\"\(target)\">Older →</a></div>"
            } ?? ""
        return self.layout(
            "Activity", session: session, active: "/ui/activity", notice: Self.flash(request).notice, error: problem,
            header: Self.header("Activity", sub: "Failed items, blockers and background jobs, newest first.", actions: menu),
            "<div class=\"layout-filter\">\(filters)<div class=\"card\">\(table)\(more)</div></div>")
    }

    /// The gear menu: Retry always; the clearing actions only while every selected item is in error (the script
    /// enables them; the server skips items not in error either way, and says why).
    func gearMenu(session: Session, back: String, count: Bool, single: Int64? = nil, inError: Bool = true) -> HTML {
        let ids: HTML = single.map { "<input type=\"hidden\" name=\"id\" value=\"\($0)\">" } ?? ""
        let needs: HTML = single == nil ? " data-needs-selection" : ""
        let needsErrors: HTML = single == nil ? " data-needs-errors" : (inError ? "" : " disabled")
        let plural = single == nil ? "s" : ""
        return """
            <form id="bulk" method="post" action="/ui/activity/action">\(self.csrf(session))<input type="hidden" name="back" value="\(back)">\(ids)
            <details class="menu"><summary class="btn" id="gear">\(Icons.gear)<span>Actions\(count ? HTML(" (<span data-selected-count>0</span>)") : "")</span></summary>
            <div class="items">\(single == nil ? HTML("<div class=\"hint\">With the selected items:</div>") : "")
            <button type="submit" name="action" value="retry" id="action-retry"\(needs)>Retry</button>
            <button type="submit" name="action" value="clear" id="action-clear"\(needsErrors)>Clear Error\(plural)</button>
            <button type="submit" name="action" value="clear-and-ignore" id="action-clear-ignore"\(needsErrors) \
            data-confirm="Clear and ignore new changes until the item is retried?">Clear Error\(plural) and Ignore Changes</button></div></details></form>
            """
    }

    func activityItemPage(_ item: ActivityItem, session: Session, notice: String?) -> HTML {
        let inError = item.status == .open || item.status == .retrying
        let menu: HTML =
            session.user.has(.actOnActivity)
            ? self.gearMenu(session: session, back: "/ui/activity/\(item.id)", count: false, single: item.id, inError: inError) : ""
        let artifactLink: HTML =
            item.artifactURL.flatMap { Self.safeURL($0) }.map {
                "<a href=\"\($0)\" rel=\"noreferrer\">\(item.artifactKey ?? item.artifactID ?? $0)</a>"
            }
            ?? HTML("\(item.artifactKey ?? item.artifactID ?? "—")")
        let pair: HTML =
            item.pairID.map { id in session.user.has(.viewPairs) ? "<a href=\"/ui/pairs/\(id)\">pair #\(id)</a>" : "pair #\(id)" } ?? "—"
        let facts: HTML = """
            <dl class="facts"><dt>Status</dt><dd>\(Self.statusBadge(item.status)) <span class="muted">\(item.kind.rawValue)</span></dd>
            <dt>Integration</dt><dd>\(item.integration ?? "—")</dd><dt>Repository</dt><dd>\(item.repository ?? "—") \(item.side.map { "(\($0))" })</dd>
            <dt>Artifact</dt><dd>\(artifactLink)</dd><dt>Pair</dt><dd>\(pair)</dd>
            <dt>Message</dt><dd>\(item.message)</dd><dt>Code</dt><dd>\(item.code ?? "—")</dd>
            <dt>Occurrences</dt><dd>\(item.occurrences)</dd><dt>Retries</dt><dd>\(item.retries)</dd>
            <dt>First seen</dt><dd>\(Self.timestamp(item.firstSeenAt))</dd><dt>Last seen</dt><dd>\(Self.timestamp(item.lastSeenAt))</dd>
            <dt>Resolved</dt><dd>\(Self.timestamp(item.resolvedAt))</dd>
            <dt>Last action</dt><dd>\(item.actedBy.map { "\($0), \(Self.timestamp(item.actedAt))" } ?? "—")</dd></dl>
            """
        return self.layout(
            "Item \(item.id)", session: session, active: "/ui/activity", notice: notice,
            header: Self.header("Activity item #\(item.id)", crumbs: [("Activity", "/ui/activity")], actions: menu),
            "<div class=\"card\"><div class=\"body\">\(facts)</div></div>")
    }

    /// Only http(s) links are shown as links (no `javascript:`).
    static func safeURL(_ text: String) -> String? {
        let lower = text.lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://") ? text : nil
    }

    func activityStats() async throws -> [HTML] {
        let counts = try await ActivityStore(client: self.postgres).counts(ActivityFilter())
        let open = counts[ActivityStatus.open.rawValue] ?? 0
        return [
            """
            <a class="stat\(open > 0 ? " err" : " ok")" href="/ui/activity?status=open"><div class="label">Items in error</div><div class="value">\(open)</div>\
            <div class="note">\(counts[ActivityStatus.retrying.rawValue] ?? 0) retrying, \(counts[ActivityStatus.ignored.rawValue] ?? 0) ignored</div></a>
            """
        ]
    }
}
