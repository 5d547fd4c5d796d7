import Foundation
import Hummingbird
import TandemConfig
import TandemQueue
import TandemStore

/// Queues and workers: each repository's depth, latency, in flight, delayed and dead jobs, its limiter (slots, event
/// rate, pause), pause and resume; the workers' heartbeats; retrying dead jobs.
extension WebUI {
    func registerQueues(on router: Router<APIContext>) {
        router.get("/ui/queues") { request, context in
            try await self.page(request, context, .readActivity) { session in
                Self.html(try await self.queuesPage(session: session, notice: Self.flash(request).notice))
            }
        }
        router.post("/ui/queues/:repository/pause") { request, context in
            try await self.action(request, context, .actOnActivity) { form, _, _ in
                let repository = try await self.repositoryParameter(context)
                let minutes = Int(form.first("minutes") ?? "") ?? 60
                guard (1...(60 * 24 * 365)).contains(minutes) else {
                    throw Refusal(status: .unprocessableContent, title: "Not paused", message: "minutes: must be between 1 and 525600")
                }
                try await self.queue.pause(repository: repository, until: Date().addingTimeInterval(Double(minutes) * 60))
                return Self.redirect("/ui/queues", notice: "Paused '\(repository)' for \(Self.duration(Double(minutes) * 60)).")
            }
        }
        router.post("/ui/queues/:repository/resume") { request, context in
            try await self.action(request, context, .actOnActivity) { _, _, _ in
                let repository = try await self.repositoryParameter(context)
                try await self.queue.resume(repository: repository)
                return Self.redirect("/ui/queues", notice: "Resumed '\(repository)'.")
            }
        }
        router.post("/ui/queues/dead/retry") { request, context in
            try await self.action(request, context, .actOnActivity) { _, _, _ in
                let count = try await self.queue.retryDead()
                return Self.redirect("/ui/queues", notice: "Put \(count) dead job\(count == 1 ? "" : "s") back in their queues.")
            }
        }
    }

    /// The configured repository the address names (pausing a made-up name would only leave keys behind).
    func repositoryParameter(_ context: APIContext) async throws -> String {
        guard let raw = context.parameters.get("repository"), !raw.isEmpty, raw.count <= 200 else {
            throw Refusal(status: .notFound, title: "Not found", message: "No repository in the address.")
        }
        let name = raw.removingPercentEncoding ?? raw
        guard try await self.config.export().repositories.contains(where: { $0.name == name }) else {
            throw Refusal(status: .notFound, title: "Not found", message: "There is no repository named '\(name)'.")
        }
        return name
    }

    func queuesPage(session: Session, notice: String?) async throws -> HTML {
        let queues = try await self.queue.queues()
        let workers = try await self.queue.workers()
        let canAct = session.user.has(.actOnActivity)
        let now = Date()
        var rows: [HTML] = []
        for q in queues {
            let paused = q.pausedUntil.map { $0 > now } ?? false
            let state: HTML =
                paused
                ? Self.badge("paused \(Self.relative(q.pausedUntil, now: now, future: true))", "warn")
                : (q.nextAdmission.map { $0 > now } ?? false) ? Self.badge("rate-limited", "info") : Self.badge("flowing", "ok")
            let path = "/ui/queues/\(HTML.urlComponent(q.repository))"
            var action: HTML = ""
            if canAct {
                action =
                    paused
                    ? self.button("Resume", action: "\(path)/resume", session: session, style: "btn small primary")
                    : """
                    <form class="inline" method="post" action="\(path)/pause">\(self.csrf(session))<select name="minutes" aria-label="Pause for">\
                    <option value="15">15 min</option><option value="60" selected>1 hour</option><option value="1440">1 day</option>\
                    <option value="525600">until resumed</option></select> <button class="btn small" type="submit">Pause</button></form>
                    """
            }
            let latency = [q.high.latencySeconds, q.low.latencySeconds].compactMap { $0 }.max()
            rows.append(
                """
                <tr><td><strong>\(q.repository)</strong></td><td class="num">\(q.high.pending)</td><td class="num">\(q.low.pending)</td>\
                <td class="num">\(latency.map { Self.duration($0) } ?? "—")</td><td class="num">\(q.inFlight)</td><td class="num">\(q.delayed)</td>\
                <td class="num">\(q.dead > 0 ? Self.badge(String(q.dead), "err") : HTML("0"))</td>\
                <td class="num">\(q.slotsUsed) / \(q.slotLimit.map(String.init) ?? "∞")</td>\
                <td class="num">\(q.eventsPerMinute == 0 ? "unlimited" : "\(q.eventsPerMinute)/min") <span class="muted">(\(q.rateScope.rawValue))</span></td>\
                <td>\(state)</td><td class="right nowrap">\(action)</td></tr>
                """)
        }
        let totalDead = queues.reduce(0) { $0 + $1.dead }
        let totals: HTML = """
            <div class="grid stats">
            <div class="stat"><div class="label">Pending</div><div class="value">\(queues.reduce(0) { $0 + $1.high.pending + $1.low.pending })</div>\
            <div class="note">high and low priority</div></div>
            <div class="stat"><div class="label">In flight</div><div class="value">\(queues.reduce(0) { $0 + $1.inFlight })</div></div>
            <div class="stat\(totalDead > 0 ? " err" : "")"><div class="label">Dead</div><div class="value">\(totalDead)</div>\
            <div class="note">failed every attempt</div></div>
            <div class="stat ok"><div class="label">Workers</div><div class="value">\(workers.count)</div><div class="note">with a live heartbeat</div></div>
            </div>
            """
        let queueTable: HTML =
            rows.isEmpty
            ? Self.empty("No queues yet", "Queues appear once a repository has had work: run an integration.", icon: "≡")
            : """
            <div class="table-wrap"><table><thead><tr><th>Repository</th><th class="num">High</th><th class="num">Low</th><th class="num">Latency</th>\
            <th class="num">In flight</th><th class="num">Delayed</th><th class="num">Dead</th><th class="num">Slots</th><th class="num">Event rate</th>\
            <th>Limiter</th><th></th></tr></thead><tbody>\(rows)</tbody></table></div>
            """
        var workerRows: [HTML] = []
        for w in workers.sorted(by: { $0.id < $1.id }) {
            let age = now.timeIntervalSince(w.lastHeartbeat)
            workerRows.append(
                """
                <tr><td class="mono">\(w.id)</td><td>\(w.host)</td><td class="num">\(w.pid)</td><td>\(w.version)</td>\
                <td class="num">\(w.jobsInHand)</td><td>\(Self.relative(w.startedAt, now: now))</td>\
                <td>\(age < 60 ? Self.badge("\(Int(age))s ago", "ok") : Self.badge(Self.relative(w.lastHeartbeat, now: now), "warn"))</td></tr>
                """)
        }
        let workerTable: HTML =
            workerRows.isEmpty
            ? Self.empty("No workers", "Start one with 'tandem worker'.", icon: "⚙")
            : """
            <div class="table-wrap"><table><thead><tr><th>Worker</th><th>Host</th><th class="num">PID</th><th>Version</th><th class="num">Jobs in hand</th>\
            <th>Started</th><th>Heartbeat</th></tr></thead><tbody>\(workerRows)</tbody></table></div>
            """
        let jobs = try await BackgroundJobs(client: self.postgres).list(limit: 50).items
        let jobRows = jobs.map { j -> HTML in
            """
            <tr><td>#\(j.id)</td><td>\(j.kind)</td><td>\(j.integration)</td><td>\(j.side ?? "both")</td>\
            <td>\(j.projects.isEmpty ? "all" : j.projects.joined(separator: ", "))</td><td>\(j.requestedBy)</td>\
            <td class="nowrap">\(Self.relative(j.requestedAt))</td><td>\(j.status == "pending" ? Self.badge("pending", "info") : Self.badge(j.status))</td></tr>
            """
        }
        let jobTable: HTML =
            jobRows.isEmpty
            ? Self.empty(
                "No background jobs", "Process All Artifacts and Initiate Synchronization requests wait here until the coordinator takes them.",
                icon: "⟳")
            : """
            <div class="table-wrap"><table><thead><tr><th>Job</th><th>Kind</th><th>Integration</th><th>Side</th><th>Projects</th><th>Requested by</th>\
            <th>When</th><th>Status</th></tr></thead><tbody>\(jobRows)</tbody></table></div>
            """
        let retry: HTML =
            canAct && totalDead > 0
            ? self.button(
                "Retry dead jobs", action: "/ui/queues/dead/retry", session: session, style: "btn", confirm: "Put every dead job back in its queue?")
            : ""
        return self.layout(
            "Queues & workers", session: session, active: "/ui/queues", notice: notice,
            header: Self.header("Queues & workers", sub: "Work waiting per repository, each repository's limiter, and the workers.", actions: retry),
            totals + "<div class=\"card\"><h2>Repository queues</h2>\(queueTable)</div><div class=\"card\"><h2>Workers</h2>\(workerTable)</div>"
                + "<div class=\"card\"><h2>Background jobs</h2>\(jobTable)</div>")
    }

    /// "42s", "3m 5s", "2h 10m", "3d 4h".
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m \(s % 60)s" }
        if s < 86400 { return "\(s / 3600)h \(s % 3600 / 60)m" }
        return "\(s / 86400)d \(s % 86400 / 3600)h"
    }

    /// "5m 2s ago", or "for 1h 0m" (future).
    static func relative(_ date: Date?, now: Date = Date(), future: Bool = false) -> String {
        guard let date else { return "—" }
        let seconds = date.timeIntervalSince(now)
        if future || seconds > 0 { return "for \(Self.duration(max(0, seconds)))" }
        return "\(Self.duration(-seconds)) ago"
    }

    /// A date as "2026-12-03 10:20 UTC".
    static func timestamp(_ date: Date?) -> String {
        guard let date else { return "—" }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return f.string(from: date)
    }
}
