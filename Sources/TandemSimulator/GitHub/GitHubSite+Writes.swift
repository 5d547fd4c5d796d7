import Foundation
import HTTP
import Synchronization

extension GitHubSite {
    // MARK: - Issues

    func createIssue(_ call: GitHubCall) throws(GitHubFailure) -> GitHubReply {
        let body = call.body ?? [:]
        let documentation = GitHubRender.documentation("POST /repos/{owner}/{repo}/issues")
        let title = Self.text(body["title"]) ?? ""
        guard !title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw GitHubFailure.invalid("Issue", "title", code: "missing_field", documentation: documentation)
        }
        return try self.write(call) { state, index throws(GitHubFailure) in
            let now = Self.second(call.now)
            var issue = Issue(
                id: state.newID(), number: state.repositories[index].nextNumber, title: title, body: body["body"]?.string, author: Self.apiUserID,
                created: now, updated: now)
            try Self.apply(body, to: &issue, repository: index, in: &state, documentation: documentation)
            state.repositories[index].nextNumber += 1
            state.repositories[index].issues[issue.number] = issue
            let repository = state.repositories[index]
            Self.logWrite(repository, issue, operation: "create", in: &state, now: call.now)
            return .created(
                call.render.issue(issue, repository, in: state), location: "\(call.render.repositoryURL(repository))/issues/\(issue.number)")
        }
    }

    func updateIssue(_ call: GitHubCall) throws(GitHubFailure) -> GitHubReply {
        let body = call.body ?? [:]
        let documentation = GitHubRender.documentation("PATCH /repos/{owner}/{repo}/issues/{issue_number}")
        return try self.write(call) { state, index throws(GitHubFailure) in
            var issue = try Self.issue(call, state.repositories[index])
            let before = String(describing: issue)
            if let title = body["title"], title != .null {
                guard let text = Self.text(title), !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw GitHubFailure.invalid("Issue", "title", code: "missing_field", documentation: documentation)
                }
                issue.title = text
            }
            if let text = body["body"] { issue.body = text.string }
            try Self.apply(body, to: &issue, repository: index, in: &state, documentation: documentation)
            let reason = body["state_reason"]?.string
            switch body["state"]?.string {
            case "closed" where issue.state != "closed":
                issue.state = "closed"
                issue.closed = Self.second(call.now)
                issue.closedBy = Self.apiUserID
                issue.stateReason = reason ?? "completed"
            case "open" where issue.state != "open":
                issue.state = "open"
                issue.closed = nil
                issue.closedBy = nil
                issue.stateReason = "reopened"
            default:
                if let reason, issue.state == "closed" || reason == "reopened" { issue.stateReason = reason }
            }
            if String(describing: issue) != before {
                issue.updated = max(issue.updated, Self.second(call.now))
                state.repositories[index].issues[issue.number] = issue
                Self.logWrite(state.repositories[index], issue, operation: "update", in: &state, now: call.now)
            }
            return .ok(call.render.issue(issue, state.repositories[index], in: state))
        }
    }

    /// `labels`, `assignees` / `assignee` and `milestone` of a create or update body: labels by name (an unknown
    /// name creates the label, as GitHub does), assignees by login (an unknown one → 422), a milestone by number.
    static func apply(
        _ body: JSONValue, to issue: inout Issue, repository index: Int, in state: inout State, documentation: String
    ) throws(GitHubFailure) {
        if let labels = body["labels"], labels != .null {
            issue.labels = Self.labelIDs(labels.array ?? [], repository: index, in: &state)
        }
        var logins: [String]?
        if let assignees = body["assignees"]?.array { logins = assignees.compactMap { $0.string ?? $0["login"]?.string } }
        if let assignee = body["assignee"] { logins = assignee.string.map { [$0] } ?? [] }
        if let logins {
            var ids: [Int] = []
            for login in logins {
                guard let user = state.user(login: login) else {
                    throw GitHubFailure.invalid("Issue", "assignees", value: .string(login), documentation: documentation)
                }
                if !ids.contains(user.id) { ids.append(user.id) }
            }
            issue.assignees = ids
        }
        if let milestone = body["milestone"] {
            if milestone == .null {
                issue.milestone = nil
            } else {
                let number = milestone.int ?? milestone.string.flatMap { Int($0) }
                guard let number, state.repositories[index].milestones.contains(where: { $0.number == number }) else {
                    throw GitHubFailure.invalid("Issue", "milestone", value: milestone, documentation: documentation)
                }
                issue.milestone = number
            }
        }
    }

    /// Label ids for names (strings or `{"name"}` objects), creating the unknown ones (`ededed`, as recorded).
    static func labelIDs(_ values: [JSONValue], repository index: Int, in state: inout State) -> [Int] {
        var ids: [Int] = []
        for value in values {
            guard let name = value.string ?? value["name"]?.string, !name.isEmpty else { continue }
            let label: Label
            if let existing = state.repositories[index].label(named: name) {
                label = existing
            } else {
                label = Label(id: state.newID(), name: name, color: "ededed", description: nil, isDefault: false)
                state.repositories[index].labels.append(label)
            }
            if !ids.contains(label.id) { ids.append(label.id) }
        }
        return ids
    }

    /// A title may be a string or a number.
    static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text): text
        case .number(let number): number.rounded() == number ? String(Int(number)) : String(number)
        default: nil
        }
    }

    func addLabels(_ call: GitHubCall) throws(GitHubFailure) -> GitHubReply {
        let body = call.body ?? [:]
        let values = body.array ?? body["labels"]?.array ?? []
        return try self.write(call) { state, index throws(GitHubFailure) in
            var issue = try Self.issue(call, state.repositories[index])
            let added = Self.labelIDs(values, repository: index, in: &state).filter { !issue.labels.contains($0) }
            if !added.isEmpty {
                issue.labels += added
                issue.updated = max(issue.updated, Self.second(call.now))
                state.repositories[index].issues[issue.number] = issue
                Self.logWrite(state.repositories[index], issue, operation: "labels", in: &state, now: call.now)
            }
            let repository = state.repositories[index]
            return .ok(.array(issue.labels.compactMap { id in repository.labels.first { $0.id == id } }.map { call.render.label($0, repository) }))
        }
    }

    /// `POST …/assignees` adds (unknown logins are left out, as GitHub does there), `DELETE` removes.
    func changeAssignees(_ call: GitHubCall, add: Bool) throws(GitHubFailure) -> GitHubReply {
        let logins = (call.body?["assignees"]?.array ?? []).compactMap { $0.string ?? $0["login"]?.string }
        return try self.write(call) { state, index throws(GitHubFailure) in
            var issue = try Self.issue(call, state.repositories[index])
            let ids = logins.compactMap { state.user(login: $0)?.id }
            let before = issue.assignees
            issue.assignees = add ? before + ids.filter { !before.contains($0) } : before.filter { !ids.contains($0) }
            if issue.assignees != before {
                issue.updated = max(issue.updated, Self.second(call.now))
                state.repositories[index].issues[issue.number] = issue
                Self.logWrite(state.repositories[index], issue, operation: "assignees", in: &state, now: call.now)
            }
            return .ok(call.render.issue(issue, state.repositories[index], in: state), status: add ? 201 : 200)
        }
    }

    func lock(_ call: GitHubCall, locked: Bool) throws(GitHubFailure) -> GitHubReply {
        try self.write(call) { state, index throws(GitHubFailure) in
            var issue = try Self.issue(call, state.repositories[index])
            issue.locked = locked
            issue.lockReason = locked ? call.body?["lock_reason"]?.string : nil
            issue.updated = max(issue.updated, Self.second(call.now))
            state.repositories[index].issues[issue.number] = issue
            Self.logWrite(state.repositories[index], issue, operation: locked ? "lock" : "unlock", in: &state, now: call.now)
            return .noContent
        }
    }

    // MARK: - Comments

    func addComment(_ call: GitHubCall) throws(GitHubFailure) -> GitHubReply {
        let text = call.body?["body"]?.string ?? ""
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw GitHubFailure(
                422, "Validation Failed", documentation: GitHubRender.documentation("POST /repos/{owner}/{repo}/issues/{issue_number}/comments"),
                errors: [["resource": "IssueComment", "code": "unprocessable", "field": "data", "message": "Body cannot be blank"]])
        }
        return try self.write(call) { state, index throws(GitHubFailure) in
            var issue = try Self.issue(call, state.repositories[index])
            let now = Self.second(call.now)
            let comment = Comment(
                id: state.newID(), repository: state.repositories[index].id, issue: issue.number, body: text, author: Self.apiUserID, created: now,
                updated: now)
            state.comments[comment.id] = comment
            issue.comments.append(comment.id)
            // A new comment makes the issue updated.
            issue.updated = max(issue.updated, now)
            state.repositories[index].issues[issue.number] = issue
            let repository = state.repositories[index]
            Self.logWrite(repository, issue, operation: "comment", in: &state, now: call.now)
            return .created(
                call.render.comment(comment, repository, in: state),
                location: "\(call.render.repositoryURL(repository))/issues/comments/\(comment.id)")
        }
    }

    func changeComment(_ call: GitHubCall, delete: Bool) throws(GitHubFailure) -> GitHubReply {
        try self.write(call) { state, index throws(GitHubFailure) in
            var comment = try Self.comment(call, state.repositories[index], state)
            guard var issue = state.repositories[index].issues[comment.issue] else { throw GitHubFailure.notFound() }
            if delete {
                state.comments[comment.id] = nil
                issue.comments.removeAll { $0 == comment.id }
                state.repositories[index].issues[issue.number] = issue
                Self.logWrite(state.repositories[index], issue, operation: "comment-delete", in: &state, now: call.now)
                return .noContent
            }
            comment.body = call.body?["body"]?.string ?? comment.body
            comment.updated = max(comment.updated, Self.second(call.now))
            state.comments[comment.id] = comment
            Self.logWrite(state.repositories[index], issue, operation: "comment-edit", in: &state, now: call.now)
            return .ok(call.render.comment(comment, state.repositories[index], in: state))
        }
    }
}
