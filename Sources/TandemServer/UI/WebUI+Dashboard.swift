import Foundation
import Hummingbird
import TandemConfig
import TandemQueue
import TandemStore

/// The dashboard: integrations and their state, open errors, queues at a glance, recent configuration changes.
extension WebUI {
    func registerDashboard(on router: Router<APIContext>) {
        router.get("/ui") { request, context in
            try await self.page(request, context, .account) { session in
                Self.html(try await self.dashboard(session: session, notice: Self.flash(request).notice))
            }
        }
    }

    func registerOperations(on router: Router<APIContext>) {
        self.registerQueues(on: router)
        self.registerSettings(on: router)
        self.registerUsers(on: router)
        self.registerAccount(on: router)
        self.registerActivity(on: router)
        self.registerMetrics(on: router)
    }

    static func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }

    func dashboard(session: Session, notice: String?) async throws -> HTML {
        let user = session.user
        var cards: [HTML] = []
        var stats: [HTML] = []
        if user.has(.readConfiguration) {
            let c = try await self.config.export()
            let running = c.integrations.filter(\.running).count
            stats.append(
                """
                <a class="stat ok" href="/ui/integrations"><div class="label">Integrations running</div><div class="value">\(running)</div>\
                <div class="note">of \(c.integrations.count) configured</div></a>
                """)
            stats.append(
                """
                <a class="stat" href="/ui/repositories"><div class="label">Repositories</div><div class="value">\(c.repositories.count)</div>\
                <div class="note">\(Self.plural(c.collections.count, "collection")), \(Self.plural(c.models.count, "model"))</div></a>
                """)
            var rows: [HTML] = []
            for i in c.integrations {
                rows.append(
                    """
                    <tr><td><a href="/ui/integrations/\(HTML.urlComponent(i.name))"><strong>\(i.name)</strong></a></td><td>\(i.left) ⇄ \(i.right)</td>\
                    <td>\(i.running ? Self.badge("running", "ok") : Self.badge("stopped"))</td></tr>
                    """)
            }
            let setup: HTML =
                c.repositories.isEmpty
                ? "Start with a <a href=\"/ui/repositories/new\">repository</a>, then a <a href=\"/ui/models/new\">model</a>, two <a href=\"/ui/collections/new\">collections</a> and an <a href=\"/ui/integrations/new\">integration</a>."
                : "Create an <a href=\"/ui/integrations/new\">integration</a> between two collections."
            cards.append(
                rows.isEmpty
                    ? "<div class=\"card\"><h2>Integrations</h2>\(Self.empty("Nothing is synchronized yet", "", icon: "⇄", action: "<p>\(setup)</p>"))</div>"
                    : "<div class=\"card\"><h2>Integrations</h2><div class=\"table-wrap\"><table><tbody>\(rows)</tbody></table></div></div>")
        }
        if user.has(.readActivity) {
            stats += try await self.activityStats()
            if let queues = try? await self.queue.queues() {
                let pending = queues.reduce(0) { $0 + $1.high.pending + $1.low.pending }
                let dead = queues.reduce(0) { $0 + $1.dead }
                stats.append(
                    """
                    <a class="stat\(dead > 0 ? " err" : "")" href="/ui/queues"><div class="label">Queued jobs</div><div class="value">\(pending)</div>\
                    <div class="note">\(queues.reduce(0) { $0 + $1.inFlight }) in flight, \(dead) dead</div></a>
                    """)
            } else {
                stats.append(
                    "<div class=\"stat err\"><div class=\"label\">Queues</div><div class=\"value\">?</div><div class=\"note\">Redis did not answer</div></div>"
                )
            }
        }
        if user.has(.readAudit) {
            let entries = try await AuditLog.list(self.postgres, .init(limit: 8))
            let rows = entries.map { e -> HTML in
                "<tr><td>\(Self.relative(e.at))</td><td><strong>\(e.actor)</strong></td><td>\(e.action)</td><td>\(e.entity) \(e.entityName ?? "")</td></tr>"
            }
            cards.append(
                rows.isEmpty
                    ? "<div class=\"card\"><h2>Recent changes</h2>\(Self.empty("No changes yet", "Configuration changes appear here.", icon: "✎"))</div>"
                    : "<div class=\"card\"><h2>Recent changes</h2><div class=\"table-wrap\"><table><tbody>\(rows)</tbody></table></div></div>")
        }
        let greeting = "Hello, \(user.displayName ?? user.username)"
        return self.layout(
            "Dashboard", session: session, active: "/ui", notice: notice,
            header: Self.header(greeting, sub: "What Tandem is doing right now."),
            "<div class=\"grid stats\">\(stats)</div><div class=\"grid two\">\(cards)</div>")
    }
}
