import Foundation
import Hummingbird
import TandemConfig
import TandemCore
import TandemStore

/// Settings: the global sync settings and the sign-in policy (admins change them), and the log level with the
/// troubleshooting level that reverts by itself ("Change Logging Frequency").
extension WebUI {
    func registerSettings(on router: Router<APIContext>) {
        router.get("/ui/settings") { request, context in
            try await self.page(request, context, .readSettings) { session in
                Self.html(try await self.settingsPage(session: session, notice: Self.flash(request).notice, draft: nil, problem: nil))
            }
        }
        router.post("/ui/settings") { request, context in
            try await self.action(request, context, .writeSettings) { form, session, _ in
                do {
                    try self.requireMasterKey()
                    var sync: [JSONNode.Member] = []
                    for key in ["changeDetectionInterval", "fullScanInterval"] {
                        guard let text = form.text(key) else { throw FormProblem(field: key, message: "is required (e.g. 60s, 5m, 1h)") }
                        sync.append(.init(key, .string(text)))
                    }
                    sync.append(.init("fullScanEnabled", .bool(form.first("fullScanEnabled") == "on")))
                    sync.append(.init("maxConcurrencyPerIntegration", try Self.integer(form, "maxConcurrencyPerIntegration")))
                    sync.append(
                        .init(
                            "eventRateLimit",
                            .object([
                                "eventsPerMinute": try Self.integer(form, "eventRateLimit.eventsPerMinute"),
                                "scope": .string(form.text("eventRateLimit.scope") ?? "all"),
                            ])))
                    let before = try await self.auth.policy()
                    var after = before
                    for (key, path) in [
                        ("maxFailedLogins", \AuthPolicy.maxFailedLogins), ("lockoutSeconds", \AuthPolicy.lockoutSeconds),
                        ("sessionSeconds", \AuthPolicy.sessionSeconds),
                    ] {
                        guard case .int(let value) = try Self.integer(form, "security.\(key)"), let range = AuthPolicy.ranges[key],
                            range.contains(value)
                        else {
                            let range = AuthPolicy.ranges[key] ?? 0...0
                            throw FormProblem(
                                field: "security.\(key)", message: "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
                        }
                        after[keyPath: path] = value
                    }
                    _ = try ConfigJSON.settings(.object(sync), current: Settings())
                    _ = try await self.config.updateSettings(.object(sync), actor: session.user.username)
                    try await after.save(self.postgres, before: before, actor: session.user.username)
                    return Self.redirect("/ui/settings", notice: "Settings saved.")
                } catch let problem as FormProblem {
                    return Self.html(
                        try await self.settingsPage(session: session, notice: nil, draft: form, problem: problem), status: .unprocessableContent)
                } catch let error as AdminError {
                    let problem = FormProblem(field: error.field, message: error.message)
                    return Self.html(
                        try await self.settingsPage(session: session, notice: nil, draft: form, problem: problem), status: .unprocessableContent)
                } catch let error as ConfigError {
                    let problem = FormProblem(field: error.issues.first?.path, message: error.issues.first?.reason ?? "is not valid")
                    return Self.html(
                        try await self.settingsPage(session: session, notice: nil, draft: form, problem: problem), status: .unprocessableContent)
                }
            }
        }
        router.post("/ui/settings/logging") { request, context in
            try await self.action(request, context, .changeLogging) { form, session, _ in
                do {
                    var troubleshooting: (String, Int)?
                    if form.first("troubleshooting") == "start" {
                        guard let minutes = Int(form.first("minutes") ?? ""), (1...1440).contains(minutes) else {
                            throw AdminError(.invalid, field: "minutes", "must be a whole number of minutes from 1 to 1440 (24 hours)")
                        }
                        troubleshooting = (form.text("troubleshootingLevel") ?? "debug", minutes * 60)
                    } else if form.first("troubleshooting") == "end" {
                        troubleshooting = ("debug", 0)
                    }
                    let level = troubleshooting == nil ? form.text("level") : nil
                    _ = try await LoggingSettings.update(self.postgres, level: level, troubleshooting: troubleshooting, actor: session.user.username)
                    return Self.redirect("/ui/settings", notice: "Logging changed.")
                } catch let error as AdminError {
                    let problem = FormProblem(field: error.field, message: error.message)
                    return Self.html(
                        try await self.settingsPage(session: session, notice: nil, draft: form, problem: problem), status: .unprocessableContent)
                }
            }
        }
    }

    static func integer(_ form: FormData, _ key: String) throws -> JSONNode {
        guard let text = form.text(key) else { throw FormProblem(field: key, message: "is required") }
        guard let value = Int(text) else { throw FormProblem(field: key, message: "must be a whole number, not '\(text)'") }
        return .int(value)
    }

    func settingsPage(session: Session, notice: String?, draft: FormData?, problem: FormProblem?) async throws -> HTML {
        let settings = try await self.config.settings()
        let policy = try await self.auth.policy()
        let logging = try await LoggingSettings.load(self.postgres)
        let canWrite = session.user.has(.writeSettings) && self.api.hasMasterKey
        var values: [String: String] = [
            "changeDetectionInterval": settings.changeDetectionInterval.description, "fullScanInterval": settings.fullScanInterval.description,
            "fullScanEnabled": settings.fullScanEnabled ? "on" : "", "maxConcurrencyPerIntegration": String(settings.maxConcurrencyPerIntegration),
            "eventRateLimit.eventsPerMinute": String(settings.eventRateLimit.eventsPerMinute),
            "eventRateLimit.scope": settings.eventRateLimit.scope.rawValue, "security.maxFailedLogins": String(policy.maxFailedLogins),
            "security.lockoutSeconds": String(policy.lockoutSeconds), "security.sessionSeconds": String(policy.sessionSeconds),
        ]
        if let draft {
            for (key, value) in draft.pairs where key != Self.csrfField { values[key] = value }
            if !draft.has("fullScanEnabled"), draft.has("fullScanInterval") { values["fullScanEnabled"] = "" }
        }
        var entity = EntityDraft(section: .repositories)
        entity.values = values
        var f = FormFields(draft: entity, problem: problem, readOnly: !canWrite)
        let form: HTML = """
            <form class="form" method="post" action="/ui/settings" novalidate>\(self.csrf(session))
            <div class="row">\(f.text("changeDetectionInterval", "Change detection interval", hint: "How often repositories are polled: 30s, 5m, 1h"))\
            \(f.text("fullScanInterval", "Full scan interval", hint: "e.g. 24h"))</div>
            <div class="row">\(f.text("maxConcurrencyPerIntegration", "Concurrency per integration", type: "number"))\(f.checkbox("fullScanEnabled", "Full scans enabled"))</div>
            <div class="row">\(f.text("eventRateLimit.eventsPerMinute", "Events per minute (default per repository)", type: "number"))\
            \(f.select("eventRateLimit.scope", "Rate limit applies to", RateLimitScope.allCases.map(\.rawValue)))</div>
            <h3>Sign-in</h3>
            <div class="row">\(f.text("security.maxFailedLogins", "Failed logins before lock-out", type: "number"))\
            \(f.text("security.lockoutSeconds", "Lock-out (seconds)", type: "number"))</div>
            \(f.text("security.sessionSeconds", "Session lifetime (seconds)", type: "number"))
            \(canWrite ? HTML("<div><button class=\"btn primary\" type=\"submit\" id=\"save-settings\">Save settings</button></div>") : "")</form>
            """
        f.readOnly = !session.user.has(.changeLogging)
        let levels = HTML.join(
            LoggingSettings.levels.map { "<option value=\"\($0)\"\($0 == logging.level ? HTML(" selected") : "")>\($0)</option>" })
        let troubleshooting: HTML =
            logging.isTroubleshooting()
            ? """
            <div class="notice warn">Troubleshooting: logging at <strong>\(logging.troubleshootingLevel)</strong> until \
            \(Self.timestamp(logging.troubleshootingUntil)), then back to \(logging.level) by itself.</div>
            """
            : ""
        let loggingCard: HTML =
            session.user.has(.changeLogging)
            ? """
            \(troubleshooting)
            <form class="form" method="post" action="/ui/settings/logging">\(self.csrf(session))
            <div class="row"><label class="field">Log level<select name="level">\(levels)</select>\(f.message("level"))</label>\
            <div><button class="btn" type="submit">Set level</button></div></div></form>
            <form class="form" method="post" action="/ui/settings/logging">\(self.csrf(session))<input type="hidden" name="troubleshooting" value="start">
            <div class="row"><label class="field">Troubleshooting level<select name="troubleshootingLevel"><option>debug</option><option>trace</option></select></label>\
            <label class="field\(f.marked("minutes") ? " invalid" : "")">For minutes (at most 1440)<input type="number" name="minutes" value="60" min="1" max="1440">\
            \(f.message("minutes"))</label></div><div><button class="btn" type="submit">Start troubleshooting</button></div></form>
            \(logging.isTroubleshooting() ? self.button("End troubleshooting now", action: "/ui/settings/logging", session: session, style: "btn", fields: [("troubleshooting", "end")]) : "")
            """
            : "<p>Log level <strong>\(logging.effectiveLevel())</strong>.</p>"
        let problemText = problem.map { p in p.field.map { "\($0): \(p.message)" } ?? p.message }
        return self.layout(
            "Settings", session: session, active: "/ui/settings", notice: notice, error: problemText,
            header: Self.header("Settings", sub: "Defaults for every integration, sign-in rules and logging."),
            """
            <div class="grid two"><div class="card"><h2>Synchronization</h2><div class="body">\(form)</div></div>
            <div class="card"><h2>Logging <span class="badge info">\(logging.effectiveLevel())</span></h2><div class="body">\(loggingCard)</div></div></div>
            """)
    }
}
