import Foundation
import HTTPTypes
import TandemStore

/// The page frame: the left navigation (only what the user's roles open), the header, notices; the login and error pages.
extension WebUI {
    /// A navigation entry: its path, label, icon and the capability it needs.
    struct NavItem {
        var path: String
        var label: String
        var icon: HTML
        var capability: Capability
        var group: String
    }

    static let navigation: [NavItem] = [
        NavItem(path: "/ui", label: "Dashboard", icon: Icons.home, capability: .account, group: "Monitor"),
        NavItem(path: "/ui/activity", label: "Activity", icon: Icons.activity, capability: .readActivity, group: "Monitor"),
        NavItem(path: "/ui/metrics", label: "Metrics", icon: Icons.chart, capability: .readActivity, group: "Monitor"),
        NavItem(path: "/ui/queues", label: "Queues & workers", icon: Icons.queue, capability: .readActivity, group: "Monitor"),
        NavItem(path: "/ui/pairs", label: "Artifact pairs", icon: Icons.link, capability: .viewPairs, group: "Monitor"),
        NavItem(path: "/ui/integrations", label: "Integrations", icon: Icons.sync, capability: .readConfiguration, group: "Configure"),
        NavItem(path: "/ui/collections", label: "Collections", icon: Icons.stack, capability: .readConfiguration, group: "Configure"),
        NavItem(path: "/ui/models", label: "Models", icon: Icons.model, capability: .readConfiguration, group: "Configure"),
        NavItem(path: "/ui/repositories", label: "Repositories", icon: Icons.database, capability: .readConfiguration, group: "Configure"),
        NavItem(path: "/ui/settings", label: "Settings", icon: Icons.gear, capability: .readSettings, group: "Configure"),
        NavItem(path: "/ui/users", label: "Users", icon: Icons.users, capability: .manageUsers, group: "Configure"),
        NavItem(path: "/ui/audit", label: "Audit log", icon: Icons.history, capability: .readAudit, group: "Configure"),
    ]

    /// A whole page for a logged-in user. `active` is the navigation path to highlight.
    func layout(
        _ title: String, session: Session, active: String, notice: String? = nil, error: String? = nil, header: HTML? = nil, _ content: HTML
    ) -> HTML {
        var nav: [HTML] = []
        var group = ""
        for item in Self.navigation where session.user.has(item.capability) {
            if item.group != group {
                group = item.group
                nav.append("<div class=\"group\">\(group)</div>")
            }
            let isActive = item.path == active
            nav.append(
                "<a href=\"\(item.path)\"\(isActive ? HTML(" class=\"active\" aria-current=\"page\"") : "")>\(item.icon)<span>\(item.label)</span></a>"
            )
        }
        let name = session.user.displayName ?? session.user.username
        let roles = session.user.roles.map(\.rawValue).joined(separator: ", ")
        let notices: HTML =
            (notice.map { "<div class=\"notice ok\" role=\"status\">\($0)</div>" } ?? "")
            + (error.map { "<div class=\"notice err\" role=\"alert\">\($0)</div>" } ?? "")
        let frame: HTML = """
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · Tandem</title><link rel="stylesheet" href="\(UIAssets.stylesheetPath)"><script src="\(UIAssets.scriptPath)" defer></script>
            <link rel="icon" href="data:,"></head>
            <body><div class="shell"><nav class="side" aria-label="Main"><a class="brand" href="/ui">\(Icons.logo)<span>Tandem</span></a>
            \(nav)<div class="spacer"></div>
            <div class="me"><div><a href="/ui/account" id="account"\(active == "/ui/account" ? HTML(" aria-current=\"page\"") : "")><strong>\(name)</strong></a></div><div class="muted">\(roles)</div>
            <form method="post" action="/ui/logout">\(self.csrf(session))<button type="submit">Log out</button></form></div></nav>
            <main>\(header ?? "")\(notices)\(content)</main></div></body></html>
            """
        return frame
    }

    /// The page header: title, subtitle, breadcrumbs and actions.
    static func header(_ title: String, sub: String? = nil, crumbs: [(String, String)] = [], actions: HTML = "") -> HTML {
        let trail: HTML =
            crumbs.isEmpty
            ? "" : "<div class=\"crumbs\">\(HTML.join(crumbs.map { "<a href=\"\($0.1)\">\($0.0)</a>" }, separator: " / ")) /</div>"
        return """
            <header class="page"><div>\(trail)<h1>\(title)</h1>\(sub.map { "<div class=\"sub\">\($0)</div>" as HTML })</div>\
            <div class="actions">\(actions)</div></header>
            """
    }

    /// The hidden CSRF field every form carries.
    func csrf(_ session: Session) -> HTML {
        "<input type=\"hidden\" name=\"\(Self.csrfField)\" value=\"\(session.csrfToken)\">"
    }

    /// A one-button form (POST) with the CSRF field.
    func button(
        _ label: String, action: String, session: Session, style: String = "btn small", confirm: String? = nil, fields: [(String, String)] = []
    ) -> HTML {
        let hidden = HTML.join(fields.map { "<input type=\"hidden\" name=\"\($0.0)\" value=\"\($0.1)\">" })
        let confirmation: HTML = confirm.map { " data-confirm=\"\($0)\"" } ?? ""
        return """
            <form class="inline" method="post" action="\(action)"\(confirmation)>\(self.csrf(session))\(hidden)<button class="\(style)" type="submit">\(label)</button></form>
            """
    }

    static func empty(_ title: String, _ text: String, icon: String = "◌", action: HTML = "") -> HTML {
        "<div class=\"empty\"><div class=\"icon\">\(icon)</div><h3>\(title)</h3><p>\(text)</p>\(action)</div>"
    }

    static func badge(_ text: String, _ tone: String = "") -> HTML { "<span class=\"badge \(tone)\">\(text)</span>" }

    static func loginPage(username: String, error: String?, next: String?) -> HTML {
        """
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Log in · Tandem</title><link rel="stylesheet" href="\(UIAssets.stylesheetPath)"><link rel="icon" href="data:,"></head>
        <body><div class="login"><div><div class="brand">\(Icons.logo)<span>Tandem</span></div>
        <div class="card"><h2>Log in</h2><div class="body">
        \(error.map { "<div class=\"notice err\" role=\"alert\">\($0)</div>" as HTML })
        <form class="form" method="post" action="/ui/login">
        <input type="hidden" name="next" value="\(next ?? "")">
        <label class="field">User name<input type="text" name="username" value="\(username)" autocomplete="username" required autofocus></label>
        <label class="field">Password<input type="password" name="password" autocomplete="current-password" required></label>
        <button class="btn primary" type="submit" id="login">Log in</button></form></div></div>
        <p class="muted right">Keeps your trackers in step.</p></div></div></body></html>
        """
    }

    func errorPage(_ refusal: Refusal, session: Session?) -> HTML {
        let content: HTML = """
            <div class="card"><div class="error-page"><div class="code">\(Int(refusal.status.code))</div><h2>\(refusal.title)</h2>
            <p class="muted">\(refusal.message)</p><p><a class="btn" href="/ui">Back to the dashboard</a></p></div></div>
            """
        if let session { return self.layout(refusal.title, session: session, active: "", content) }
        return """
            <html lang="en"><head><meta charset="utf-8"><title>\(refusal.title) · Tandem</title>
            <link rel="stylesheet" href="\(UIAssets.stylesheetPath)"></head><body><main>\(content)</main></body></html>
            """
    }
}

/// Small inline SVG icons (stroke icons, currentColor).
enum Icons {
    static func icon(_ path: String) -> HTML {
        HTML(
            trusted:
                "<svg width=\"18\" height=\"18\" viewBox=\"0 0 24 24\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.8\" stroke-linecap=\"round\" stroke-linejoin=\"round\" aria-hidden=\"true\">\(path)</svg>"
        )
    }
    static let logo = HTML(
        trusted:
            "<svg width=\"28\" height=\"28\" viewBox=\"0 0 32 32\" aria-hidden=\"true\"><rect width=\"32\" height=\"32\" rx=\"8\" fill=\"#4f5bd5\"/><circle cx=\"12\" cy=\"16\" r=\"6\" fill=\"none\" stroke=\"#fff\" stroke-width=\"2.4\"/><circle cx=\"20\" cy=\"16\" r=\"6\" fill=\"none\" stroke=\"#b9c0ff\" stroke-width=\"2.4\"/></svg>"
    )
    static let home = icon("<path d=\"M3 11l9-7 9 7v9a1 1 0 0 1-1 1h-5v-6H9v6H4a1 1 0 0 1-1-1z\"/>")
    static let activity = icon("<path d=\"M3 12h4l3-8 4 16 3-8h4\"/>")
    static let chart = icon("<path d=\"M4 20V10M10 20V4M16 20v-7M22 20H2\"/>")
    static let queue = icon(
        "<rect x=\"3\" y=\"4\" width=\"18\" height=\"4\" rx=\"1\"/><rect x=\"3\" y=\"10\" width=\"18\" height=\"4\" rx=\"1\"/><rect x=\"3\" y=\"16\" width=\"18\" height=\"4\" rx=\"1\"/>"
    )
    static let link = icon("<path d=\"M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1\"/>")
    static let sync = icon("<path d=\"M20 7H8a4 4 0 0 0 0 8M4 17h12a4 4 0 0 0 0-8\"/><path d=\"M17 4l3 3-3 3M7 14l-3 3 3 3\"/>")
    static let stack = icon("<path d=\"M12 3l9 5-9 5-9-5zM3 13l9 5 9-5\"/>")
    static let model = icon("<rect x=\"4\" y=\"4\" width=\"16\" height=\"16\" rx=\"2\"/><path d=\"M4 10h16M10 10v10\"/>")
    static let database = icon(
        "<ellipse cx=\"12\" cy=\"6\" rx=\"8\" ry=\"3\"/><path d=\"M4 6v12c0 1.7 3.6 3 8 3s8-1.3 8-3V6M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3\"/>")
    static let gear = icon(
        "<circle cx=\"12\" cy=\"12\" r=\"3\"/><path d=\"M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z\"/>"
    )
    static let users = icon(
        "<circle cx=\"9\" cy=\"8\" r=\"3.5\"/><path d=\"M2.5 20a6.5 6.5 0 0 1 13 0M16 4.5a3.5 3.5 0 0 1 0 7M18 14.5a6.5 6.5 0 0 1 3.5 5.5\"/>")
    static let history = icon("<path d=\"M3 12a9 9 0 1 0 2.6-6.4L3 8\"/><path d=\"M3 3v5h5M12 7v5l3 2\"/>")
    static let info = icon("<circle cx=\"12\" cy=\"12\" r=\"9\"/><path d=\"M12 11v6M12 7.5v.5\"/>")
}
