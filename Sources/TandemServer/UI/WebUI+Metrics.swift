import Foundation
import Hummingbird
import TandemConfig
import TandemStore

/// Metrics (the guide's Metrics tab): created and updated synchronizations per day for a chosen period (start date and
/// length) beside the previous period of the same length, the totals of both, and the period grouped by weekday × hour.
extension WebUI {
    func registerMetrics(on router: Router<APIContext>) {
        router.get("/ui/metrics") { request, context in
            try await self.page(request, context, .readActivity) { session in
                Self.html(try await self.metricsPage(request, session: session))
            }
        }
        self.registerPairs(on: router)
    }

    static let periodLengths = [7, 14, 31, 90, 365]
    static let metricChoices: [(String, String)] = [
        ("total", "Created + updated"), ("created", "Created"), ("updated", "Updated"), ("failed", "Failed"),
    ]

    func metricsPage(_ request: Request, session: Session) async throws -> HTML {
        let c = try await self.config.export()
        var problem: String?
        let length = request.query("days").flatMap(Int.init).flatMap { Self.periodLengths.contains($0) ? $0 : nil } ?? 14
        var timeZone = request.query("tz") ?? "UTC"
        if !MetricsStore.timeZones.contains(timeZone) {
            problem = "tz: '\(timeZone.prefix(80))' is not a time zone name (IANA, e.g. Europe/Berlin)"
            timeZone = "UTC"
        }
        let today = MetricsStore.today(in: timeZone)
        var from = Calendar.utc.date(byAdding: .day, value: -(length - 1), to: today) ?? today
        if let text = request.query("from") {
            if let date = MetricsStore.parseDay(text) { from = date } else { problem = "from: '\(text)' is not a date (YYYY-MM-DD)" }
        }
        let to = Calendar.utc.date(byAdding: .day, value: length - 1, to: from) ?? from
        let metric = Self.metricChoices.first { $0.0 == request.query("metric") }?.0 ?? "total"
        var integration = request.query("integration")
        if let name = integration, !c.integrations.contains(where: { $0.name == name }) {
            problem = "integration: there is no integration named '\(name)'"
            integration = nil
        }
        let report = try await MetricsStore(client: self.postgres).report(from: from, to: to, integration: integration, timeZone: timeZone)
        func pick(_ d: DailyMetrics) -> Int {
            switch metric {
            case "created": d.created
            case "updated": d.updated
            case "failed": d.failed
            default: d.created + d.updated
            }
        }
        let metricName = Self.metricChoices.first { $0.0 == metric }?.1 ?? metric
        let chart = SVGCharts.dailyBars(
            labels: report.days.map(\.day), current: report.days.map(pick), previous: report.previousDays.map(pick), currentName: "this period",
            previousName: "previous period")
        var cells: [Int: Int] = [:]
        for cell in report.weekdayHour {
            cells[cell.weekday * 100 + cell.hour] =
                switch metric {
                case "created": cell.created
                case "updated": cell.updated
                case "failed": cell.failed
                default: cell.created + cell.updated
                }
        }
        let bubbles = SVGCharts.weekdayHour { weekday, hour in cells[weekday * 100 + hour] ?? 0 }
        func stat(_ label: String, _ now: Int, _ before: Int, tone: String = "") -> HTML {
            let delta: HTML
            if before == 0 {
                delta = now == 0 ? "no change" : "new this period"
            } else {
                let percent = Int((Double(now - before) / Double(before) * 100).rounded())
                delta = "<span class=\"delta \(percent >= 0 ? "up" : "down")\">\(percent >= 0 ? "▲" : "▼") \(abs(percent))%</span>"
            }
            return """
                <div class="stat \(tone)"><div class="label">\(label)</div><div class="value">\(now)</div><div class="note">\(delta) · previous period \(before)</div></div>
                """
        }
        func change(_ now: Int, _ before: Int) -> HTML {
            guard before > 0 else { return now == 0 ? "<span class=\"muted\">—</span>" : "<span class=\"muted\">new</span>" }
            let percent = Int((Double(now - before) / Double(before) * 100).rounded())
            return "<span class=\"delta \(percent >= 0 ? "up" : "down")\">\(percent >= 0 ? "▲" : "▼") \(abs(percent))%</span>"
        }
        let allSynced = max(1, report.integrations.reduce(0) { $0 + $1.counts.created + $1.counts.updated })
        func share(_ counts: MetricCounts) -> String { "\(Int((Double(counts.created + counts.updated) / Double(allSynced) * 100).rounded()))%" }
        let integrationRows = report.integrations.map { i -> HTML in
            """
            <tr><td><a href="/ui/metrics?integration=\(HTML.urlComponent(i.integration))&amp;from=\(report.from)&amp;days=\(length)&amp;metric=\(metric)&amp;tz=\(HTML.urlComponent(report.timeZone))"><strong>\(i.integration)</strong></a>\
            <div class="muted">\(i.left) ⇄ \(i.right)</div></td><td class="num">\(i.counts.created)</td><td class="num">\(i.counts.updated)</td>\
            <td class="num">\(i.counts.failed > 0 ? Self.badge(String(i.counts.failed), "err") : "0")</td>\
            <td class="num">\(change(i.counts.created + i.counts.updated, i.previous.created + i.previous.updated))</td>\
            <td class="num">\(share(i.counts))</td><td class="num">\(i.pairs)</td></tr>
            """
        }
        let repositoryRows = report.repositories.map { r -> HTML in
            """
            <tr><td><strong>\(r.repository)</strong></td><td class="num">\(r.counts.created)</td><td class="num">\(r.counts.updated)</td>\
            <td class="num">\(r.counts.failed)</td><td class="num">\(r.pairs)</td></tr>
            """
        }
        let load: HTML =
            report.integrations.isEmpty
            ? ""
            : """
            <div class="card"><div class="head"><span>Load by integration</span></div><div class="table-wrap">\
            <table id="load-integrations"><thead><tr><th>Integration</th><th class="num">Created</th><th class="num">Updated</th>\
            <th class="num">Failed</th><th class="num">vs previous</th><th class="num">Share</th><th class="num">Pairs</th></tr></thead>\
            <tbody>\(integrationRows)</tbody></table></div></div>
            <div class="card"><div class="head"><span>Load by repository</span></div><div class="table-wrap">\
            <table id="load-repositories"><thead><tr><th>Repository</th><th class="num">Created</th><th class="num">Updated</th>\
            <th class="num">Failed</th><th class="num">Pairs</th></tr></thead><tbody>\(repositoryRows)</tbody></table></div></div>
            """
        let t = report.totals
        let p = report.previousTotals
        let stats: HTML = """
            <div class="grid stats">\(stat("Created", t.created, p.created))\(stat("Updated", t.updated, p.updated))\
            \(stat("Created + updated", t.created + t.updated, p.created + p.updated))\(stat("Failed", t.failed, p.failed, tone: t.failed > 0 ? "err" : ""))\
            \(stat("Conflicts resolved", t.conflicts, p.conflicts))</div>
            """
        let lengths = HTML.join(
            Self.periodLengths.map { "<option value=\"\($0)\"\($0 == length ? HTML(" selected") : "")>\($0) days</option>" })
        let metrics = HTML.join(Self.metricChoices.map { "<option value=\"\($0.0)\"\($0.0 == metric ? HTML(" selected") : "")>\($0.1)</option>" })
        let integrations = HTML.join(
            ([""] + c.integrations.map(\.name)).map {
                "<option value=\"\($0)\"\($0 == (integration ?? "") ? HTML(" selected") : "")>\($0.isEmpty ? "All integrations" : $0)</option>"
            })
        let zones = HTML.join(
            MetricsStore.timeZones.map { "<option value=\"\($0)\"\($0 == timeZone ? HTML(" selected") : "")>\($0)</option>" })
        let form: HTML = """
            <aside class="card filters"><h2>Period</h2><div class="body"><form method="get" action="/ui/metrics" class="form">
            <label class="field">Start<input type="date" name="from" value="\(report.from)"></label>
            <label class="field">Length<select name="days">\(lengths)</select></label>
            <label class="field">Show<select name="metric">\(metrics)</select></label>
            <label class="field">Integration<select name="integration">\(integrations)</select></label>
            <label class="field">Time zone<select name="tz">\(zones)</select></label>
            <button class="btn primary" type="submit">Show</button></form>
            <p class="muted">\(report.from) – \(report.to)<br>compared with \(report.previousFrom) – \(report.previousTo) (\(report.timeZone))</p></div></aside>
            """
        let legend: HTML = """
            <div class="legend"><span><i class="swatch-now"></i>\(report.from) – \(report.to)</span>\
            <span><i class="swatch-prev"></i>\(report.previousFrom) – \(report.previousTo)</span></div>
            """
        return self.layout(
            "Metrics", session: session, active: "/ui/metrics", error: problem,
            header: Self.header("Metrics", sub: "Synchronizations per day, against the previous period, and when they happen."),
            """
            <div class="layout-filter">\(form)<div>\(stats)
            <div class="card"><div class="head"><span>\(metricName) per day</span>\(legend)</div><div class="body">\(chart)</div></div>
            <div class="card"><div class="head"><span>\(metricName) by weekday and hour (\(report.timeZone))</span></div><div class="body">\(bubbles)</div></div>
            \(load)</div></div>
            """)
    }
}

extension Calendar {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        return calendar
    }()
}
