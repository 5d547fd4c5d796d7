import Foundation
import Hummingbird
import TandemConfig
import TandemStore

/// Users (admins): the list with roles and state, a form to add one, and per user: roles, a new password (their
/// sessions end), disable or enable, unlock.
extension WebUI {
    func registerUsers(on router: Router<APIContext>) {
        router.get("/ui/users") { request, context in
            try await self.page(request, context, .manageUsers) { session in
                Self.html(try await self.usersPage(session: session, notice: Self.flash(request).notice, draft: nil, problem: nil))
            }
        }
        router.post("/ui/users") { request, context in
            try await self.action(request, context, .manageUsers) { form, session, _ in
                do {
                    let roles = try Self.roles(form)
                    let password = form.first("password").flatMap { $0.isEmpty ? nil : String($0.prefix(4096)) }
                    _ = try await self.auth.createUser(
                        username: String((form.text("username") ?? "").prefix(200)), password: password, roles: roles,
                        displayName: form.text("displayName").map { String($0.prefix(200)) }, actor: session.user.username)
                    return Self.redirect("/ui/users", notice: "Added user '\(form.text("username") ?? "")'.")
                } catch let error as AdminError where error.kind != .notFound {
                    let problem = FormProblem(field: error.field, message: error.message)
                    return Self.html(
                        try await self.usersPage(session: session, notice: nil, draft: form, problem: problem), status: .unprocessableContent)
                }
            }
        }
        router.post("/ui/users/:username") { request, context in
            try await self.action(request, context, .manageUsers) { form, session, _ in
                guard let raw = context.parameters.get("username"), let name = raw.removingPercentEncoding else {
                    throw Refusal(status: .notFound, title: "Not found", message: "No user in the address.")
                }
                if form.first("change") == "password" {
                    do {
                        try await self.auth.setPassword(
                            name, password: String((form.first("password") ?? "").prefix(4096)), actor: session.user.username)
                    } catch let error as AdminError {
                        let problem = FormProblem(field: error.field.map { "\(name): \($0)" }, message: error.message)
                        return Self.html(
                            try await self.usersPage(session: session, notice: nil, draft: nil, problem: problem),
                            status: error.kind == .notFound ? .notFound : .unprocessableContent)
                    }
                    return Self.redirect("/ui/users", notice: "Set a new password for '\(name)'; their sessions have ended.")
                }
                var changes = AuthStore.UserChanges()
                switch form.first("change") {
                case "roles": changes.roles = try Self.roles(form)
                case "disable":
                    if name == session.user.username { throw Refusal(status: .conflict, title: "Not done", message: "You cannot disable yourself.") }
                    changes.disabled = true
                case "enable": changes.disabled = false
                case "unlock": changes.unlock = true
                default: throw Refusal(status: .unprocessableContent, title: "Not done", message: "change: unknown change.")
                }
                do {
                    _ = try await self.auth.updateUser(name, changes, actor: session.user.username)
                } catch let error as AdminError {
                    throw Refusal(status: error.kind == .notFound ? .notFound : .conflict, title: "Not done", message: error.description)
                }
                return Self.redirect("/ui/users", notice: "Changed user '\(name)'.")
            }
        }
    }

    static func roles(_ form: FormData) throws -> [Role] {
        try form.all("role").map { name in
            guard let role = Role(rawValue: name) else { throw AdminError(.invalid, field: "roles", "'\(name)' is not a role") }
            return role
        }
    }

    func usersPage(session: Session, notice: String?, draft: FormData?, problem: FormProblem?) async throws -> HTML {
        let users = try await self.auth.users()
        let now = Date()
        var rows: [HTML] = []
        for user in users {
            let path = "/ui/users/\(HTML.urlComponent(user.username))"
            let state: HTML =
                user.disabled
                ? Self.badge("disabled") : user.isLocked(at: now) ? Self.badge("locked", "err") : Self.badge("active", "ok")
            let boxes = HTML.join(
                Role.allCases.map { role in
                    "<label class=\"check\"><input type=\"checkbox\" name=\"role\" value=\"\(role.rawValue)\"\(user.roles.contains(role) ? HTML(" checked") : "")> \(role.rawValue)</label> "
                })
            var actions: [HTML] = []
            if user.isLocked(at: now) { actions.append(self.button("Unlock", action: path, session: session, fields: [("change", "unlock")])) }
            if user.username != session.user.username {
                actions.append(
                    """
                    <details class="menu set-password"><summary class="btn small">Set password</summary><div class="items">\
                    <form method="post" action="\(path)">\(self.csrf(session))<input type="hidden" name="change" value="password">\
                    <label class="field">New password for \(user.username)<input type="password" name="password" autocomplete="new-password"></label>\
                    <button class="btn small primary" type="submit">Set password</button></form></div></details>
                    """)
                actions.append(
                    user.disabled
                        ? self.button("Enable", action: path, session: session, fields: [("change", "enable")])
                        : self.button(
                            "Disable", action: path, session: session, style: "btn small danger",
                            confirm: "Disable '\(user.username)'? Their sessions end.",
                            fields: [("change", "disable")]))
            }
            rows.append(
                """
                <tr><td><strong>\(user.username)</strong><div class="muted">\(user.displayName ?? "")</div></td>\
                <td><form method="post" action="\(path)">\(self.csrf(session))<input type="hidden" name="change" value="roles">\(boxes)\
                <button class="btn small" type="submit">Save roles</button></form></td><td>\(state)</td>\
                <td class="nowrap">\(Self.relative(user.createdAt, now: now))</td><td class="right nowrap">\(HTML.join(actions, separator: " "))</td></tr>
                """)
        }
        var entity = EntityDraft(section: .repositories)
        for key in ["username", "displayName"] { entity.values[key] = draft?.first(key) ?? "" }
        let f = FormFields(draft: entity, problem: problem, readOnly: false)
        let chosen = Set(draft?.all("role") ?? ["user"])
        let roleBoxes = HTML.join(
            Role.allCases.map { role in
                "<label class=\"check\"><input type=\"checkbox\" name=\"role\" value=\"\(role.rawValue)\"\(chosen.contains(role.rawValue) ? HTML(" checked") : "")> \(role.rawValue)</label> "
            })
        let add: HTML = """
            <form class="form" method="post" action="/ui/users">\(self.csrf(session))
            <div class="row">\(f.text("username", "User name"))\(f.text("displayName", "Display name"))</div>
            \(f.text("password", "Password", type: "password", hint: "At least \(PasswordHasher.minimumPasswordLength) characters; blank: a user for API tokens only"))
            <div class="field\(f.marked("roles") ? " invalid" : "")"><strong>Roles</strong><div>\(roleBoxes)</div>\(f.message("roles"))</div>
            <div><button class="btn primary" type="submit" id="add-user">Add user</button></div></form>
            """
        let problemText = problem.map { p in p.field.map { "\($0): \(p.message)" } ?? p.message }
        return self.layout(
            "Users", session: session, active: "/ui/users", notice: notice, error: problemText,
            header: Self.header("Users", sub: "Who can sign in, and what their roles let them do."),
            """
            <div class="card"><div class="table-wrap"><table><thead><tr><th>User</th><th>Roles</th><th>State</th><th>Added</th><th></th></tr></thead>\
            <tbody>\(rows)</tbody></table></div></div>
            <div class="card"><h2>Add a user</h2><div class="body">\(add)</div></div>
            """)
    }
}
