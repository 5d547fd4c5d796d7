import Foundation
import Hummingbird
import TandemConfig
import TandemStore

/// The signed-in user's own account (`/ui/account`, every role): who they are and what their roles allow, their
/// password, and their API tokens (`Authorization: Token …`) — create one (shown once, on the answer page, never in a
/// cookie or an address), see when each was last used, revoke. The same store calls as `/api/v1/me/password` and
/// `/api/v1/tokens`.
extension WebUI {
    func registerAccount(on router: Router<APIContext>) {
        router.get("/ui/account") { request, context in
            try await self.page(request, context, .account) { session in
                let flash = Self.flash(request)
                return Self.html(
                    try await self.accountPage(session: session, notice: flash.notice, problem: flash.problem.map { FormProblem(message: $0) }))
            }
        }
        router.post("/ui/account/password") { request, context in
            try await self.action(request, context, .account) { form, session, _ in
                let current = String((form.first("currentPassword") ?? "").prefix(4096))
                let new = String((form.first("newPassword") ?? "").prefix(4096))
                let problem: FormProblem
                if new != form.first("confirmPassword") ?? "" {
                    problem = FormProblem(field: "confirmPassword", message: "the two new passwords differ")
                } else if case .success = try await self.auth.login(username: session.user.username, password: current) {
                    do {
                        try await self.auth.setPassword(session.user.username, password: new, actor: session.user.username, keepSession: session.id)
                        return Self.redirect("/ui/account", notice: "Password changed. Your other sessions have ended.")
                    } catch let error as AdminError where error.kind == .invalid {
                        problem = FormProblem(field: "newPassword", message: error.message)
                    }
                } else {
                    problem = FormProblem(field: "currentPassword", message: "is not your current password (repeated failures lock the account)")
                }
                return Self.html(try await self.accountPage(session: session, notice: nil, problem: problem), status: .unprocessableContent)
            }
        }
        router.post("/ui/account/tokens") { request, context in
            try await self.action(request, context, .account) { form, session, _ in
                let days = form.text("expiresInDays").flatMap(Int.init)
                if let raw = form.text("expiresInDays"), days == nil {
                    let problem = FormProblem(field: "expiresInDays", message: "must be a whole number of days, not '\(raw)'")
                    return Self.html(
                        try await self.accountPage(session: session, notice: nil, problem: problem, typed: form), status: .unprocessableContent)
                }
                do {
                    let (token, record) = try await self.auth.createToken(
                        for: session.user.username, name: String((form.first("name") ?? "").prefix(200)), expiresInDays: days,
                        actor: session.user.username)
                    return Self.html(
                        try await self.accountPage(session: session, notice: nil, problem: nil, created: (token, record)), status: .created)
                } catch let error as AdminError where error.kind == .invalid {
                    let problem = FormProblem(field: error.field, message: error.message)
                    return Self.html(
                        try await self.accountPage(session: session, notice: nil, problem: problem, typed: form), status: .unprocessableContent)
                }
            }
        }
        router.post("/ui/account/sessions/end-others") { request, context in
            try await self.action(request, context, .account) { _, session, _ in
                let ended = try await self.auth.endOtherSessions(of: session.user.username, keep: session.id, actor: session.user.username)
                return Self.redirect("/ui/account", notice: "Signed out \(Self.plural(ended, "other session")); this one stays.")
            }
        }
        router.post("/ui/account/tokens/:id/revoke") { request, context in
            try await self.action(request, context, .account) { _, session, _ in
                guard let raw = context.parameters.get("id"), let id = Int64(raw), id > 0 else {
                    throw Refusal(status: .notFound, title: "Not found", message: "There is no such token.")
                }
                do {
                    let record = try await self.auth.revokeToken(id: id, of: session.user.username, actor: session.user.username)
                    return Self.redirect("/ui/account", notice: "Revoked the token '\(record.name)': it no longer works.")
                } catch let error as AdminError where error.kind == .notFound {
                    throw Refusal(status: .notFound, title: "Not found", message: "You have no token with that number.")
                }
            }
        }
    }

    func accountPage(
        session: Session, notice: String?, problem: FormProblem?, created: (token: String, record: TokenRecord)? = nil, typed: FormData? = nil
    ) async throws
        -> HTML
    {
        let user = session.user
        let now = Date()
        let tokens = try await self.auth.tokens(of: user.username)
        var rows: [HTML] = []
        for t in tokens {
            let state: HTML =
                t.revokedAt != nil
                ? Self.badge("revoked") : t.isActive(at: now) ? Self.badge("active", "ok") : Self.badge("expired", "warn")
            let revoke: HTML =
                t.revokedAt == nil
                ? self.button(
                    "Revoke", action: "/ui/account/tokens/\(t.id)/revoke", session: session, style: "btn small danger",
                    confirm: "Revoke the token '\(t.name)'? Programs using it stop working.")
                : ""
            rows.append(
                """
                <tr><td><strong>\(t.name)</strong></td><td class="mono">\(t.prefix)…</td><td>\(state)</td>\
                <td class="nowrap" title="\(Self.timestamp(t.createdAt))">\(Self.relative(t.createdAt, now: now))</td>\
                <td class="nowrap">\(t.lastUsedAt.map { Self.relative($0, now: now) } ?? "never")</td>\
                <td class="nowrap">\(t.expiresAt.map { Self.timestamp($0) } ?? "never")</td><td class="right">\(revoke)</td></tr>
                """)
        }
        let tokenTable: HTML =
            rows.isEmpty
            ? Self.empty("No API tokens", "Scripts and tools sign in to the REST API with a token instead of your password.", icon: "⚿")
            : """
            <div class="table-wrap"><table id="tokens"><thead><tr><th>Name</th><th>Starts with</th><th>State</th><th>Created</th>\
            <th>Last used</th><th>Expires</th><th></th></tr></thead><tbody>\(rows)</tbody></table></div>
            """
        let shown: HTML =
            created.map { created in
                """
                <div class="notice ok" role="status" id="new-token"><strong>Created the token '\(created.record.name)'.</strong> Copy it now: it is \
                stored only as a hash and is never shown again.<pre class="token">\(created.token)</pre>\
                Send it in the header <code>Authorization: Token</code> followed by the token.</div>
                """
            } ?? ""
        var draft = EntityDraft(section: .repositories)
        draft.values["name"] = typed?.first("name") ?? ""
        let f = FormFields(draft: draft, problem: problem, readOnly: false)
        let passwordForm: HTML =
            user.hasPassword
            ? """
            <form class="form" method="post" action="/ui/account/password" autocomplete="off">\(self.csrf(session))
            \(f.text("currentPassword", "Current password", type: "password"))
            <div class="row">\(f.text("newPassword", "New password", type: "password", hint: "At least \(PasswordHasher.minimumPasswordLength) characters"))\
            \(f.text("confirmPassword", "New password again", type: "password"))</div>
            <div><button class="btn primary" type="submit" id="change-password">Change password</button></div></form>
            """
            : "<p class=\"muted\">This account has no password: it signs in with API tokens only. An administrator can set one.</p>"
        let expiry = HTML.join(
            [("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("", "never")].map {
                "<option value=\"\($0.0)\"\($0.0 == (typed?.first("expiresInDays") ?? "90") ? HTML(" selected") : "")>\($0.1)</option>"
            })
        let tokenForm: HTML = """
            <form class="form" method="post" action="/ui/account/tokens">\(self.csrf(session))
            <div class="row">\(f.text("name", "Token name", hint: "What it is for, e.g. 'nightly export'"))\
            <label class="field\(f.marked("expiresInDays") ? " invalid" : "")">Expires after<select name="expiresInDays">\(expiry)</select>\(f.message("expiresInDays"))</label></div>
            <div><button class="btn primary" type="submit" id="create-token">Create token</button></div></form>
            """
        let sessions = try await self.auth.sessions(of: user.username, current: session.id)
        let sessionRows = sessions.map { s -> HTML in
            """
            <tr><td>\(Self.browserName(s.userAgent))\(s.current ? " " + Self.badge("this one", "ok") : "")</td>\
            <td class="nowrap" title="\(Self.timestamp(s.createdAt))">\(Self.relative(s.createdAt, now: now))</td>\
            <td class="nowrap">\(Self.relative(s.lastSeenAt, now: now))</td><td class="nowrap">\(Self.timestamp(s.expiresAt))</td></tr>
            """
        }
        let others = sessions.filter { !$0.current }.count
        let endOthers: HTML =
            others > 0
            ? self.button(
                "Sign out \(Self.plural(others, "other session"))", action: "/ui/account/sessions/end-others", session: session, style: "btn",
                confirm: "Sign out everywhere but here?")
            : "<span class=\"muted\">No other sessions.</span>"
        let sessionCard: HTML = """
            <div class="card"><h2>Sessions</h2><div class="table-wrap"><table id="sessions"><thead><tr><th>Browser</th><th>Signed in</th>\
            <th>Last active</th><th>Expires</th></tr></thead><tbody>\(sessionRows)</tbody></table></div><div class="body">\(endOthers)</div></div>
            """
        let capabilities = Capability.allCases.filter { user.has($0) }.map(\.rawValue).joined(separator: ", ")
        let profile: HTML = """
            <dl class="facts"><dt>User name</dt><dd><strong>\(user.username)</strong></dd><dt>Display name</dt><dd>\(user.displayName ?? "—")</dd>\
            <dt>Roles</dt><dd>\(HTML.join(user.roles.map { Self.badge($0.rawValue, "info") }, separator: " "))</dd>\
            <dt>Permissions</dt><dd class="muted">\(capabilities)</dd></dl>
            """
        let problemText = problem.map { p in p.field.map { "\($0): \(p.message)" } ?? p.message }
        return self.layout(
            "Your account", session: session, active: "/ui/account", notice: notice, error: problemText,
            header: Self.header("Your account", sub: "Your password and the API tokens that act as you."),
            """
            \(shown)<div class="grid two"><div class="card"><h2>Profile</h2><div class="body">\(profile)</div></div>
            <div class="card"><h2>Password</h2><div class="body">\(passwordForm)</div></div></div>
            <div class="card"><h2>API tokens</h2>\(tokenTable)<div class="body">\(tokenForm)</div></div>
            \(sessionCard)
            """)
    }

    /// A browser's name from its User-Agent, for people ("Chrome on Linux"); the raw text when it is not recognised.
    static func browserName(_ agent: String?) -> String {
        guard let agent, !agent.isEmpty else { return "Unknown browser" }
        let browsers = [("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"), ("curl/", "curl")]
        let systems = [("Windows", "Windows"), ("Mac OS X", "macOS"), ("Android", "Android"), ("iPhone", "iOS"), ("Linux", "Linux")]
        guard let browser = browsers.first(where: { agent.contains($0.0) })?.1 else { return String(agent.prefix(60)) }
        let system = systems.first { agent.contains($0.0) }?.1
        let headless = agent.contains("Headless") ? " (headless)" : ""
        return system.map { "\(browser)\(headless) on \($0)" } ?? browser + headless
    }
}
