import Foundation
import HTTP
import Synchronization

extension GitHubSite {
    /// Serves one operation (`METHOD /path` as the description names it).
    func handle(_ key: String, _ call: GitHubCall) throws(GitHubFailure) -> GitHubReply {
        let r = call.render
        switch key {
        case "GET /user":
            return .ok(self.state.withLock { state in r.fullUser(state.user(Self.apiUserID)!, in: state, private: true) })
        case "GET /users/{username}":
            return .ok(
                try self.read { state throws(GitHubFailure) in
                    guard let user = state.user(login: call.parameter("username")) else {
                        throw GitHubFailure.notFound("https://docs.github.com/rest/users/users#get-a-user")
                    }
                    return r.fullUser(user, in: state, private: false)
                })
        case "GET /rate_limit":
            let core = self.quota(token: call.token, now: call.now)
            let search = Limit(limit: 30, used: 0, reset: Self.second(call.now).addingTimeInterval(60))
            func body(_ limit: Limit) -> JSONValue {
                [
                    "limit": .number(Double(limit.limit)), "used": .number(Double(limit.used)), "remaining": .number(Double(limit.remaining)),
                    "reset": .number(Double(Int(limit.reset.timeIntervalSince1970))),
                ]
            }
            return .ok(["resources": ["core": body(core), "search": body(search)], "rate": body(core)])
        case "GET /repos/{owner}/{repo}":
            return .ok(
                try self.read(call) { state, repository in
                    r.repository(
                        repository, in: state, archived: state.settings.archived.contains { $0.lowercased() == repository.fullName.lowercased() })
                })
        case "GET /repos/{owner}/{repo}/assignees":
            return try self.read(call) { state, repository in Self.page(state.users.map(r.user), call, repository: repository) }
        case "GET /repos/{owner}/{repo}/assignees/{assignee}":
            return try self.read { state throws(GitHubFailure) in
                guard state.user(login: call.parameter("assignee")) != nil else { throw GitHubFailure.notFound() }
                return .noContent
            }
        case "GET /repos/{owner}/{repo}/labels":
            return try self.read(call) { _, repository in Self.page(repository.labels.map { r.label($0, repository) }, call, repository: repository) }
        case "GET /repos/{owner}/{repo}/milestones":
            return try self.read(call) { state, repository in
                let wanted = call.query("state") ?? "open"
                var milestones = repository.milestones.filter { wanted == "all" || $0.state == wanted }
                milestones.sort { ($0.dueOn ?? .distantFuture, $0.number) < ($1.dueOn ?? .distantFuture, $1.number) }
                if call.query("direction") == "desc" { milestones.reverse() }
                return Self.page(milestones.map { r.milestone($0, repository, in: state) }, call, repository: repository)
            }
        case "GET /repos/{owner}/{repo}/issues": return try self.listIssues(call)
        case "POST /repos/{owner}/{repo}/issues": return try self.createIssue(call)
        case "GET /repos/{owner}/{repo}/issues/{issue_number}":
            return .ok(
                try self.read(call) { state, repository throws(GitHubFailure) in r.issue(try Self.issue(call, repository), repository, in: state) })
        case "PATCH /repos/{owner}/{repo}/issues/{issue_number}": return try self.updateIssue(call)
        case "POST /repos/{owner}/{repo}/issues/{issue_number}/labels": return try self.addLabels(call)
        case "POST /repos/{owner}/{repo}/issues/{issue_number}/assignees", "DELETE /repos/{owner}/{repo}/issues/{issue_number}/assignees":
            return try self.changeAssignees(call, add: key.hasPrefix("POST"))
        case "PUT /repos/{owner}/{repo}/issues/{issue_number}/lock", "DELETE /repos/{owner}/{repo}/issues/{issue_number}/lock":
            return try self.lock(call, locked: key.hasPrefix("PUT"))
        case "GET /repos/{owner}/{repo}/issues/{issue_number}/comments":
            return try self.read(call) { state, repository throws(GitHubFailure) in
                let issue = try Self.issue(call, repository)
                let since = try Self.since(call)
                let comments = issue.comments.compactMap { state.comments[$0] }.filter { since == nil || $0.updated >= since! }
                return Self.page(comments.map { r.comment($0, repository, in: state) }, call, repository: repository)
            }
        case "POST /repos/{owner}/{repo}/issues/{issue_number}/comments": return try self.addComment(call)
        case "GET /repos/{owner}/{repo}/issues/comments":
            return try self.read(call) { state, repository throws(GitHubFailure) in
                let since = try Self.since(call)
                var comments = state.comments.values.filter { $0.repository == repository.id && (since == nil || $0.updated >= since!) }
                let sort = call.query("sort")
                comments.sort { sort == "updated" ? ($0.updated, $0.id) < ($1.updated, $1.id) : ($0.created, $0.id) < ($1.created, $1.id) }
                // `direction` is ignored without `sort`; with it, newest first unless asked otherwise.
                if sort != nil, call.query("direction") != "asc" { comments.reverse() }
                return Self.page(comments.map { r.comment($0, repository, in: state) }, call, repository: repository)
            }
        case "GET /repos/{owner}/{repo}/issues/comments/{comment_id}":
            return .ok(
                try self.read(call) { state, repository throws(GitHubFailure) in
                    r.comment(try Self.comment(call, repository, state), repository, in: state)
                })
        case "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", "DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}":
            return try self.changeComment(call, delete: key.hasPrefix("DELETE"))
        default:
            throw GitHubFailure(501, "The simulator does not implement \(key) yet.")
        }
    }

    // MARK: - Reading

    func read<T>(_ body: (State) throws(GitHubFailure) -> T) throws(GitHubFailure) -> T {
        let state = self.state.withLock { $0 }
        return try body(state)
    }

    /// Runs `body` on a snapshot of the state and the call's repository.
    func read<T>(_ call: GitHubCall, _ body: (State, Repository) throws(GitHubFailure) -> T) throws(GitHubFailure) -> T {
        let state = self.state.withLock { $0 }
        guard let index = state.repositoryIndex(call.parameter("owner"), call.parameter("repo")) else { throw GitHubFailure.notFound() }
        return try body(state, state.repositories[index])
    }

    /// Runs `body` on the state and the call's repository under the lock.
    func write<T>(_ call: GitHubCall, _ body: (inout State, Int) throws(GitHubFailure) -> T) throws(GitHubFailure) -> T {
        try self.state.withLock { (state: inout State) throws(GitHubFailure) -> T in
            guard let index = state.repositoryIndex(call.parameter("owner"), call.parameter("repo")) else { throw GitHubFailure.notFound() }
            return try body(&state, index)
        }
    }

    static func issue(_ call: GitHubCall, _ repository: Repository) throws(GitHubFailure) -> Issue {
        guard let number = Int(call.parameter("issue_number")), let issue = repository.issues[number] else {
            throw GitHubFailure.notFound(GitHubRender.documentation("GET /repos/{owner}/{repo}/issues/{issue_number}"))
        }
        return issue
    }

    static func comment(_ call: GitHubCall, _ repository: Repository, _ state: State) throws(GitHubFailure) -> Comment {
        guard let id = Int(call.parameter("comment_id")), let comment = state.comments[id], comment.repository == repository.id else {
            throw GitHubFailure.notFound("https://docs.github.com/rest/issues/comments#get-an-issue-comment")
        }
        return comment
    }

    /// `since`, floored to its second (GitHub compares whole seconds).
    static func since(_ call: GitHubCall) throws(GitHubFailure) -> Date? {
        guard let text = call.query("since") else { return nil }
        guard let date = GitHubRender.parseTime(text) else { throw GitHubFailure(422, "Invalid value for `since`: \(text)") }
        return Self.second(date)
    }

    func listIssues(_ call: GitHubCall) throws(GitHubFailure) -> GitHubReply {
        try self.read(call) { state, repository throws(GitHubFailure) in
            let since = try Self.since(call)
            let wanted = call.query("state") ?? "open"
            let labels = (call.query("labels") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                .filter { !$0.isEmpty }
            var issues = repository.issues.values.filter { issue in
                guard wanted == "all" || issue.state == wanted else { return false }
                if let since, issue.updated < since { return false }
                let names = Set(issue.labels.compactMap { id in repository.labels.first { $0.id == id }?.name.lowercased() })
                guard labels.allSatisfy(names.contains) else { return false }
                if let assignee = call.query("assignee") {
                    switch assignee {
                    case "none": if !issue.assignees.isEmpty { return false }
                    case "*": if issue.assignees.isEmpty { return false }
                    default: if !issue.assignees.contains(where: { state.user($0)?.login.lowercased() == assignee.lowercased() }) { return false }
                    }
                }
                if let creator = call.query("creator"), state.user(issue.author)?.login.lowercased() != creator.lowercased() { return false }
                if let mentioned = call.query("mentioned"), !(issue.body ?? "").lowercased().contains("@" + mentioned.lowercased()) { return false }
                if let milestone = call.query("milestone") {
                    switch milestone {
                    case "none": if issue.milestone != nil { return false }
                    case "*": if issue.milestone == nil { return false }
                    default: if issue.milestone != Int(milestone) { return false }
                    }
                }
                // No issue has an issue type here: `type=none` keeps all, any other value none.
                if let type = call.query("type"), type != "none" { return false }
                return true
            }
            let sort = call.query("sort") ?? "created"
            issues.sort { a, b in
                switch sort {
                case "updated": (a.updated, a.number) < (b.updated, b.number)
                case "comments": (a.comments.count, a.number) < (b.comments.count, b.number)
                default: (a.created, a.number) < (b.created, b.number)
                }
            }
            if call.query("direction") != "asc" { issues.reverse() }
            return Self.page(issues.map { call.render.issue($0, repository, in: state, listed: true) }, call, repository: repository)
        }
    }

    // MARK: - Paging

    /// One page (`per_page` 1...100, default 30; `page` from 1) with GitHub's `Link` header: `prev`, `next`, `last`,
    /// `first`, each the request's own query with `page` set. QUIRK GH-3: the links name the repository by id
    /// (`/repositories/<id>/issues?…`), as recorded.
    static func page(_ items: [JSONValue], _ call: GitHubCall, repository: Repository) -> GitHubReply {
        var perPage = call.int("per_page", 30)
        if perPage < 1 { perPage = 30 }
        perPage = min(perPage, 100)
        let page = max(call.int("page", 1), 1)
        let last = max(1, (items.count + perPage - 1) / perPage)
        let slice = Array(items.dropFirst((page - 1) * perPage).prefix(perPage))
        let suffix = call.route.split(separator: "/").dropFirst(3).joined(separator: "/")
        let base = "\(call.render.api)/repositories/\(repository.id)/\(suffix)"
        func link(_ number: Int, _ rel: String) -> String {
            var query = call.query.filter { $0.name != "page" }
            query.append(("page", String(number)))
            let text = query.map { "\(Self.escape($0.name))=\(Self.escape($0.value))" }.joined(separator: "&")
            return "<\(base)?\(text)>; rel=\"\(rel)\""
        }
        var links: [String] = []
        if page > 1 { links.append(link(min(page - 1, last), "prev")) }
        if page < last {
            links.append(link(page + 1, "next"))
            links.append(link(last, "last"))
        }
        if page > 1 { links.append(link(1, "first")) }
        return GitHubReply(status: 200, json: .array(slice), headers: links.isEmpty ? [] : [("Link", links.joined(separator: ", "))])
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+#"))) ?? text
    }

    // MARK: - Paths and repositories

    /// The path as the description names it: `/repositories/<id>/…` (the `Link` form) read as `/repos/<owner>/<repo>/…`.
    func canonicalPath(_ path: String, seesPrivate: Bool) throws(GitHubFailure) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[1] == "repositories" else { return path }
        let repository = self.state.withLock { state in state.repositories.first { String($0.id) == parts[2] } }
        guard let repository, seesPrivate || !repository.isPrivate else { throw GitHubFailure.notFound() }
        return (["", "repos", Substring(repository.owner), Substring(repository.name)] + parts.dropFirst(3)).joined(separator: "/")
    }

    /// 404 for a repository that does not exist or that the token may not see (GitHub hides private ones).
    func visibleRepository(_ owner: String, _ name: String, seesPrivate: Bool) throws(GitHubFailure) {
        let visible = self.state.withLock { state in
            state.repositoryIndex(owner, name).map { seesPrivate || !state.repositories[$0].isPrivate } ?? false
        }
        guard visible else { throw GitHubFailure.notFound(GitHubRender.documentation("GET /repos/{owner}/{repo}")) }
    }

    func isArchived(_ owner: String, _ name: String) -> Bool {
        let fullName = "\(owner)/\(name)".lowercased()
        return self.settings.archived.contains { $0.lowercased() == fullName }
    }
}
