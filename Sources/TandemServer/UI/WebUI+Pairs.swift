import Foundation
import Hummingbird
import TandemConfig
import TandemStore

/// Artifact pairs: search by integration, status and text; one pair's page (both artifacts with their links, the
/// last sync, the job, and the merged history of traces, activity and audit rows); deletion for `delete-pairs`.
extension WebUI {
    func registerPairs(on router: Router<APIContext>) {
        router.get("/ui/pairs") { request, context in
            try await self.page(request, context, .viewPairs) { session in
                Self.html(try await self.pairsPage(request, session: session))
            }
        }
        router.get("/ui/pairs/:id") { request, context in
            try await self.page(request, context, .viewPairs) { session in
                let id = try Self.idParameter(context)
                guard let details = try await PairQuery(client: self.postgres).details(id: id) else {
                    throw Refusal(status: .notFound, title: "Not found", message: "There is no artifact pair \(id).")
                }
                return Self.html(self.pairPage(details, session: session, notice: Self.flash(request).notice))
            }
        }
        router.post("/ui/pairs/:id/delete") { request, context in
            try await self.action(request, context, .deletePairs) { _, session, _ in
                let id = try Self.idParameter(context)
                do {
                    _ = try await PairQuery(client: self.postgres).delete(id: id, actor: session.user.username)
                } catch let error as AdminError {
                    throw Refusal(status: error.kind == .notFound ? .notFound : .conflict, title: "Not deleted", message: error.message)
                }
                return Self.redirect("/ui/pairs", notice: "Deleted artifact pair #\(id). The artifacts themselves are untouched.")
            }
        }
    }

    static func pairBadge(_ status: PairStatus) -> HTML {
        switch status {
        case .ok: Self.badge("in sync", "ok")
        case .error: Self.badge("error", "err")
        case .conflict: Self.badge("conflict", "warn")
        case .twinless: Self.badge(status.rawValue)
        }
    }

    static func side(_ side: PairSide) -> HTML {
        let label = side.key ?? side.id
        let link: HTML = Self.safeURL(side.url ?? "").map { "<a href=\"\($0)\" rel=\"noreferrer\">\(label)</a>" } ?? "<code>\(label)</code>"
        return link + (side.project.map { " <span class=\"muted\">\($0)</span>" as HTML } ?? "")
    }

    func pairsPage(_ request: Request, session: Session) async throws -> HTML {
        let c = try await self.config.export()
        var filter = PairFilter(
            integration: request.query("integration"), text: request.query("q"), status: request.query("status"),
            after: request.query("after").flatMap { Int64($0) }, limit: 50)
        var problem: String?
        do { try filter.validate() } catch let error as AdminError {
            problem = error.description
            filter = PairFilter()
        }
        let page = try await PairQuery(client: self.postgres).list(filter)
        let integrations = HTML.join(
            ([""] + c.integrations.map(\.name)).map {
                "<option value=\"\($0)\"\($0 == (filter.integration ?? "") ? HTML(" selected") : "")>\($0.isEmpty ? "All integrations" : $0)</option>"
            })
        let statuses = HTML.join(
            ([""] + PairQuery.statuses).map {
                "<option value=\"\($0)\"\($0 == (filter.status ?? "") ? HTML(" selected") : "")>\($0.isEmpty ? "Any status" : $0)</option>"
            })
        let search: HTML = """
            <form method="get" action="/ui/pairs" class="form"><div class="row">\
            <label class="field">Integration<select name="integration">\(integrations)</select></label>\
            <label class="field">Status<select name="status">\(statuses)</select></label></div>\
            <label class="field">Artifact id or key<input type="search" name="q" value="\(filter.text ?? "")"></label>\
            <div><button class="btn" type="submit">Search</button></div></form>
            """
        let rows = page.items.map { p -> HTML in
            """
            <tr><td><a href="/ui/pairs/\(p.id)"><strong>#\(p.id)</strong></a></td><td>\(p.integration)</td><td>\(Self.side(p.left))</td>\
            <td class="muted">⇄</td><td>\(Self.side(p.right))</td><td>\(Self.pairBadge(p.status))\(p.ignoreChanges ? HTML(" <span class=\"badge warn\">ignoring changes</span>") : "")</td>\
            <td class="nowrap">\(Self.relative(p.lastSyncedAt))</td></tr>
            """
        }
        let table: HTML =
            rows.isEmpty
            ? Self.empty("No pairs found", "Pairs appear once an integration has created or matched twins.", icon: "⇄")
            : """
            <div class="table-wrap"><table><thead><tr><th>Pair</th><th>Integration</th><th>Left</th><th></th><th>Right</th><th>Status</th>\
            <th>Last synced</th></tr></thead><tbody>\(rows)</tbody></table></div>
            """
        let more: HTML =
            page.next.map { "<div class=\"body right\"><a class=\"btn\" href=\"/ui/pairs?after=\($0)\">Older →</a></div>" } ?? ""
        return self.layout(
            "Artifact pairs", session: session, active: "/ui/pairs", notice: Self.flash(request).notice, error: problem,
            header: Self.header("Artifact pairs", sub: "Twins Tandem keeps in step, and how their last synchronization went."),
            "<div class=\"card\"><div class=\"body\">\(search)</div></div><div class=\"card\">\(table)\(more)</div>")
    }

    func pairPage(_ d: PairDetails, session: Session, notice: String?) -> HTML {
        let p = d.pair
        let delete: HTML =
            session.user.has(.deletePairs)
            ? self.button(
                "Delete pair", action: "/ui/pairs/\(p.id)/delete", session: session, style: "btn danger",
                confirm: "Delete pair #\(p.id)? The artifacts stay; a later change may create a new twin.")
            : ""
        let facts: HTML = """
            <dl class="facts"><dt>Status</dt><dd>\(Self.pairBadge(p.status)) \(p.statusReason ?? "")</dd>
            <dt>Integration</dt><dd>\(p.integration)</dd><dt>Left artifact</dt><dd>\(Self.side(p.left))</dd>
            <dt>Right artifact</dt><dd>\(Self.side(p.right))</dd><dt>Created from</dt><dd>\(p.createdFrom)</dd>
            <dt>Created</dt><dd>\(Self.timestamp(p.createdAt))</dd><dt>Last synchronized</dt><dd>\(Self.timestamp(p.lastSyncedAt))</dd>
            <dt>Last job</dt><dd>\(d.lastJob ?? "—")</dd><dt>Changes</dt><dd>\(p.ignoreChanges ? Self.badge("ignored until retried", "warn") : Self.badge("synchronized", "ok"))</dd>
            <dt>Last error</dt><dd>\(p.lastError ?? "—")</dd></dl>
            """
        let history = d.history.map { e -> HTML in
            let source: HTML = e.activityID.map { "<a href=\"/ui/activity/\($0)\">\(e.source)</a>" } ?? "\(e.source)"
            return
                "<tr><td class=\"nowrap\">\(Self.timestamp(e.at))</td><td>\(source)</td><td>\(e.side ?? "")</td><td>\(e.summary)</td><td>\(e.actor ?? "")</td></tr>"
        }
        let log: HTML =
            history.isEmpty
            ? Self.empty("No history", "Nothing has been recorded for this pair yet.")
            : "<div class=\"table-wrap\"><table><thead><tr><th>When</th><th>Source</th><th>Side</th><th>What</th><th>Who</th></tr></thead><tbody>\(history)</tbody></table></div>"
        return self.layout(
            "Pair \(p.id)", session: session, active: "/ui/pairs", notice: notice,
            header: Self.header("Artifact pair #\(p.id)", crumbs: [("Artifact pairs", "/ui/pairs")], actions: delete),
            "<div class=\"card\"><div class=\"body\">\(facts)</div></div><div class=\"card\"><h2>History</h2>\(log)</div>")
    }
}
