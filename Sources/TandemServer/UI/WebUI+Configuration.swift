import Foundation
import Hummingbird
import TandemConfig
import TandemConnectors
import TandemCore
import TandemStore

/// Repositories, models, collections and integrations: lists, create and edit forms, delete; run and stop. Forms are
/// turned into the API's JSON body and stored through `ConfigStore.put`, so they are validated exactly like the API and
/// `tandem apply`; a refusal re-renders the form with the user's input and the offending field marked. Editing keeps
/// what the form does not show (transforms, routes, schedules…): the form's values are laid over the stored entity.
extension WebUI {
    func registerConfiguration(on router: Router<APIContext>) {
        for section in ConfigJSON.Section.allCases {
            let base = "/ui/\(section.rawValue)"
            router.get(RouterPath(base)) { request, context in
                try await self.page(request, context, .readConfiguration) { session in
                    try await self.listPage(section, session: session, notice: Self.flash(request).notice)
                }
            }
            router.get(RouterPath("\(base)/new")) { request, context in
                try await self.page(request, context, .writeConfiguration) { session in
                    let configuration = try await self.config.export()
                    var draft = EntityDraft.empty(section)
                    if section == .integrations {
                        draft.values["left"] = request.query("left") ?? ""
                        draft.values["right"] = request.query("right") ?? ""
                    }
                    return Self.html(self.formPage(section, draft: draft, isNew: true, configuration: configuration, problem: nil, session: session))
                }
            }
            router.post(RouterPath("\(base)/new")) { request, context in
                try await self.action(request, context, .writeConfiguration) { form, session, _ in
                    try await self.save(section, name: nil, form: form, session: session)
                }
            }
            router.get(RouterPath("\(base)/:name")) { request, context in
                try await self.page(request, context, .readConfiguration) { session in
                    let name = try Self.nameParameter(context)
                    let configuration = try await self.config.export()
                    guard let draft = EntityDraft(section, name: name, in: configuration) else {
                        throw Refusal(status: .notFound, title: "Not found", message: "There is no \(section.entity) named '\(name)'.")
                    }
                    return Self.html(
                        self.formPage(
                            section, draft: draft, isNew: false, configuration: configuration,
                            problem: Self.flash(request).problem.map { FormProblem(field: nil, message: $0) }, session: session,
                            notice: Self.flash(request).notice))
                }
            }
            router.post(RouterPath("\(base)/:name")) { request, context in
                try await self.action(request, context, .writeConfiguration) { form, session, _ in
                    try await self.save(section, name: try Self.nameParameter(context), form: form, session: session)
                }
            }
            router.post(RouterPath("\(base)/:name/delete")) { request, context in
                try await self.action(request, context, .writeConfiguration) { _, session, _ in
                    let name = try Self.nameParameter(context)
                    try self.requireMasterKey()
                    do {
                        try await self.config.delete(section, name: name, actor: session.user.username)
                    } catch let error as AdminError {
                        throw Refusal(status: error.kind == .notFound ? .notFound : .conflict, title: "Not deleted", message: error.message)
                    }
                    return Self.redirect(base, notice: "Deleted \(section.entity) '\(name)'.")
                }
            }
        }
        for (verb, running) in [("run", true), ("stop", false)] {
            router.post(RouterPath("/ui/integrations/:name/\(verb)")) { request, context in
                try await self.action(request, context, .runIntegrations) { form, session, _ in
                    let name = try Self.nameParameter(context)
                    try self.requireMasterKey()
                    do {
                        try await self.config.setRunning(name, running: running, actor: session.user.username)
                    } catch let error as AdminError {
                        throw Refusal(status: error.kind == .notFound ? .notFound : .conflict, title: "Not done", message: error.message)
                    }
                    let back = form.first("back") == "edit" ? "/ui/integrations/\(HTML.urlComponent(name))" : "/ui/integrations"
                    return Self.redirect(back, notice: running ? "Integration '\(name)' is running." : "Integration '\(name)' is stopped.")
                }
            }
        }
        router.post("/ui/repositories/:name/test") { request, context in
            try await self.action(request, context, .writeConfiguration) { _, _, _ in
                let name = try Self.nameParameter(context)
                try self.requireMasterKey()
                let (configuration, secrets) = try await self.config.loadForRuntime()
                guard let repository = configuration.repositories.first(where: { $0.name == name }) else {
                    throw Refusal(status: .notFound, title: "Not found", message: "There is no repository named '\(name)'.")
                }
                let check = try await self.api.tester(repository, secrets[name] ?? [:], nil)
                let path = "/ui/repositories/\(HTML.urlComponent(name))"
                if check.success {
                    return Self.redirect(path, notice: "Connection works: '\(name)' answered and accepted the credentials.")
                }
                return Self.redirect(
                    path, notice: "'\(name)' failed the connection test (\(check.outcome.rawValue)): \(check.message).", isProblem: true)
            }
        }
        router.post("/ui/integrations/:name/process-all") { request, context in
            try await self.action(request, context, .runIntegrations) { _, session, _ in
                let name = try Self.nameParameter(context)
                guard let requester = self.api.requester else {
                    throw Refusal(status: .notFound, title: "Not available", message: "This server does not take operator requests.")
                }
                do {
                    _ = try await requester("process-all", name, nil, [], session.user.username)
                } catch let error as AdminError {
                    throw Refusal(status: error.kind == .notFound ? .notFound : .conflict, title: "Not done", message: error.message)
                }
                return Self.redirect(
                    "/ui/integrations/\(HTML.urlComponent(name))", notice: "Process All Artifacts requested; the coordinator carries it out shortly.")
            }
        }
    }

    static func nameParameter(_ context: APIContext) throws -> String {
        guard let raw = context.parameters.get("name"), !raw.isEmpty else {
            throw Refusal(status: .notFound, title: "Not found", message: "No name in the address.")
        }
        return raw.removingPercentEncoding ?? raw
    }

    func requireMasterKey() throws {
        if !self.api.hasMasterKey {
            throw Refusal(
                status: .serviceUnavailable, title: "Read-only server",
                message:
                    "This server has no master key (TANDEM_MASTER_KEY or TANDEM_MASTER_KEY_FILE): it shows the configuration but cannot change it.")
        }
    }

    // MARK: - Lists

    func listPage(_ section: ConfigJSON.Section, session: Session, notice: String?) async throws -> Response {
        let c = try await self.config.export()
        let canWrite = session.user.has(.writeConfiguration) && self.api.hasMasterKey
        let base = "/ui/\(section.rawValue)"
        let newButton: HTML = canWrite ? "<a class=\"btn primary\" href=\"\(base)/new\" id=\"new-\(section.entity)\">New \(section.entity)</a>" : ""
        let title = section.rawValue.prefix(1).uppercased() + section.rawValue.dropFirst()
        var rows: [HTML] = []
        let head: HTML
        func link(_ name: String) -> HTML { "<a href=\"\(base)/\(HTML.urlComponent(name))\"><strong>\(name)</strong></a>" }
        switch section {
        case .repositories:
            head = "<th>Name</th><th>Type</th><th>URL</th><th>Authentication</th><th class=\"num\">Concurrency</th><th>State</th>"
            for r in c.repositories {
                rows.append(
                    """
                    <tr><td>\(link(r.name))</td><td>\(Self.badge(r.kind.rawValue, "plain info"))</td><td class="mono">\(r.url)</td>\
                    <td>\(r.auth.kind)</td><td class="num">\(r.concurrencyLimit.map(String.init) ?? "—")</td>\
                    <td>\(r.enabled ? Self.badge("enabled", "ok") : Self.badge("disabled"))</td></tr>
                    """)
            }
        case .models:
            head = "<th>Name</th><th class=\"num\">Fields</th><th>Required fields</th><th>Used by</th>"
            for m in c.models {
                let users = c.collections.filter { $0.model == m.name }.map(\.name).joined(separator: ", ")
                rows.append(
                    """
                    <tr><td>\(link(m.name))</td><td class="num">\(m.fields.count)</td>\
                    <td>\(m.fields.filter(\.required).map(\.name).joined(separator: ", "))</td><td>\(users.isEmpty ? "—" : users)</td></tr>
                    """)
            }
        case .collections:
            head = "<th>Name</th><th>Repository</th><th>Artifact type</th><th>Projects</th><th>Model</th><th class=\"num\">Mapped fields</th>"
            for col in c.collections {
                rows.append(
                    """
                    <tr><td>\(link(col.name))</td><td>\(col.repository)</td><td>\(col.artifactType)</td>\
                    <td>\(col.projects.joined(separator: ", "))</td><td>\(col.model)</td><td class="num">\(col.fields.count)</td></tr>
                    """)
            }
        case .integrations:
            head = "<th>Name</th><th>Left</th><th></th><th>Right</th><th>Creation</th><th>State</th><th class=\"right\">Actions</th>"
            let canRun = session.user.has(.runIntegrations) && self.api.hasMasterKey
            for i in c.integrations {
                let toggle: HTML =
                    canRun
                    ? (i.running
                        ? self.button("Stop", action: "/ui/integrations/\(HTML.urlComponent(i.name))/stop", session: session)
                        : self.button(
                            "Run", action: "/ui/integrations/\(HTML.urlComponent(i.name))/run", session: session, style: "btn small primary"))
                    : ""
                rows.append(
                    """
                    <tr><td>\(link(i.name))</td><td>\(i.left)</td><td class="muted">⇄</td><td>\(i.right)</td><td>\(i.creation.rawValue)</td>\
                    <td>\(i.running ? Self.badge("running", "ok") : Self.badge("stopped"))</td><td class="right">\(toggle)</td></tr>
                    """)
            }
        }
        let body: HTML =
            rows.isEmpty
            ? Self.empty(
                "No \(section.rawValue) yet", Self.emptyHint(section), icon: "＋",
                action: canWrite ? "<a class=\"btn primary\" href=\"\(base)/new\">New \(section.entity)</a>" : "")
            : "<div class=\"table-wrap\"><table><thead><tr>\(head)</tr></thead><tbody>\(rows)</tbody></table></div>"
        let readOnly: HTML =
            self.api.hasMasterKey ? "" : "<div class=\"notice warn\">This server has no master key: the configuration is read-only here.</div>"
        let active = base
        return Self.html(
            self.layout(
                String(title), session: session, active: active, notice: notice,
                header: Self.header(String(title), sub: Self.sectionBlurb(section), actions: newButton),
                readOnly + "<div class=\"card\">\(body)</div>"))
    }

    static func sectionBlurb(_ section: ConfigJSON.Section) -> String {
        switch section {
        case .repositories: "The trackers Tandem connects to, and how it signs in."
        case .models: "The shared vocabulary: fields every connected tracker maps to."
        case .collections: "Which artifacts of a repository take part, and how their fields map to a model."
        case .integrations: "Pairs of collections kept in sync, with the field flow of each model field."
        }
    }

    static func emptyHint(_ section: ConfigJSON.Section) -> String {
        switch section {
        case .repositories: "Add the first tracker Tandem should connect to."
        case .models: "Define the fields your trackers have in common."
        case .collections: "A collection picks a repository's artifacts and maps their fields to a model."
        case .integrations: "An integration keeps two collections in step."
        }
    }

    // MARK: - Saving

    func save(_ section: ConfigJSON.Section, name: String?, form: FormData, session: Session) async throws -> Response {
        try self.requireMasterKey()
        let configuration = try await self.config.export()
        var draft = EntityDraft(section: section, form: form)
        if let name { draft.values["name"] = name }
        let stored: JSONNode? = name == nil ? nil : try await self.config.get(section, name: name ?? "")
        if name != nil, stored == nil {
            throw Refusal(status: .notFound, title: "Not found", message: "There is no \(section.entity) named '\(name ?? "")'.")
        }
        let problem: FormProblem
        do {
            let body = try draft.body(over: stored, configuration: configuration)
            let saved = try await self.config.put(section, name: name, body: body, create: name == nil, actor: session.user.username)
            let savedName: String = if case .string(let s)? = saved["name"] { s } else { draft.values["name"] ?? "" }
            let verb = name == nil ? "Created" : "Saved"
            return Self.redirect("/ui/\(section.rawValue)/\(HTML.urlComponent(savedName))", notice: "\(verb) \(section.entity) '\(savedName)'.")
        } catch let error as FormProblem {
            problem = error
        } catch let error as AdminError {
            problem = FormProblem(field: error.field, message: error.message)
        } catch let error as ConfigError {
            problem = FormProblem(field: error.issues.first?.path, message: error.issues.first?.reason ?? "the configuration is not valid")
        }
        return Self.html(
            self.formPage(section, draft: draft, isNew: name == nil, configuration: configuration, problem: problem, session: session),
            status: .unprocessableContent)
    }
}

/// A refused form: the field (the API body's path, e.g. `url`, `auth.password`, `fields[2].name`) and why.
struct FormProblem: Error, Sendable {
    var field: String?
    var message: String
}
