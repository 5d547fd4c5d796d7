import Foundation
import HTTP

/// GitHub's bodies, modelled on the recorded api.github.com traffic (`Tests/Fixtures/github/octokit/`): the same
/// members in the same places, API URLs under the site's root (what `https://api.github.com` is) and web URLs on
/// `https://github.com`.
struct GitHubRender: Sendable {
    typealias State = GitHubSite.State

    /// `http://HOST:PORT/github/<site>`.
    let api: String
    static let web = "https://github.com"

    // MARK: - Values

    /// `2026-12-08T01:02:03Z`.
    static func time(_ date: Date) -> JSONValue { .string(Self.timeStyle.format(date)) }
    static func time(_ date: Date?) -> JSONValue { date.map { Self.time($0) } ?? .null }
    static let timeStyle = Date.ISO8601FormatStyle(timeZone: TimeZone(secondsFromGMT: 0)!)

    /// RFC 3339 (`Z` or an offset, fraction optional), as `since` takes it.
    static func parseTime(_ text: String) -> Date? {
        if let date = try? Self.timeStyle.parse(text) { return date }
        return try? Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(secondsFromGMT: 0)!).parse(text)
    }

    /// `2026-12-08 01:02:03 UTC`, as GitHub's support hints write it.
    static func supportTime(_ date: Date) -> String {
        Self.timeStyle.format(date).replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC")
    }

    /// A legacy global node id: base64 of `0<length>:<Type><id>` (`MDQ6VXNlcjE=` is user 1).
    static func nodeID(_ type: String, _ id: Int) -> JSONValue {
        .string(Data("0\(type.count):\(type)\(id)".utf8).base64EncodedString())
    }

    /// The documentation page errors point at, by operation.
    static func documentation(_ operation: String) -> String {
        let pages: [String: String] = [
            "GET /repos/{owner}/{repo}/issues": "issues/issues#list-repository-issues",
            "POST /repos/{owner}/{repo}/issues": "issues/issues#create-an-issue",
            "GET /repos/{owner}/{repo}/issues/{issue_number}": "issues/issues#get-an-issue",
            "PATCH /repos/{owner}/{repo}/issues/{issue_number}": "issues/issues#update-an-issue",
            "GET /repos/{owner}/{repo}/issues/comments": "issues/comments#list-issue-comments-for-a-repository",
            "GET /repos/{owner}/{repo}/issues/{issue_number}/comments": "issues/comments#list-issue-comments",
            "POST /repos/{owner}/{repo}/issues/{issue_number}/comments": "issues/comments#create-an-issue-comment",
            "POST /repos/{owner}/{repo}/issues/{issue_number}/labels": "issues/labels#add-labels-to-an-issue",
            "GET /repos/{owner}/{repo}": "repos/repos#get-a-repository",
        ]
        return "https://docs.github.com/rest/" + (pages[operation] ?? "")
    }

    static func reactions(_ url: String) -> JSONValue {
        [
            "url": .string(url), "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0, "confused": 0, "heart": 0, "rocket": 0,
            "eyes": 0,
        ]
    }

    // MARK: - Users

    /// `SimpleUser`.
    func user(_ user: GitHubSite.User) -> JSONValue {
        let url = "\(self.api)/users/\(user.login)"
        return [
            "login": .string(user.login), "id": .number(Double(user.id)), "node_id": Self.nodeID("User", user.id),
            "avatar_url": .string("https://avatars.githubusercontent.com/u/\(user.id)?v=4"), "gravatar_id": "", "url": .string(url),
            "html_url": .string("\(Self.web)/\(user.login)"), "followers_url": .string("\(url)/followers"),
            "following_url": .string("\(url)/following{/other_user}"), "gists_url": .string("\(url)/gists{/gist_id}"),
            "starred_url": .string("\(url)/starred{/owner}{/repo}"), "subscriptions_url": .string("\(url)/subscriptions"),
            "organizations_url": .string("\(url)/orgs"), "repos_url": .string("\(url)/repos"), "events_url": .string("\(url)/events{/privacy}"),
            "received_events_url": .string("\(url)/received_events"), "type": "User", "user_view_type": "public", "site_admin": false,
        ]
    }

    func user(_ id: Int?, in state: State) -> JSONValue {
        guard let id, let user = state.user(id) else { return .null }
        return self.user(user)
    }

    /// `PublicUser` (`GET /users/{username}`); `PrivateUser` for the token's own user (`GET /user`).
    func fullUser(_ user: GitHubSite.User, in state: State, private isPrivate: Bool) -> JSONValue {
        guard case .object(var body) = self.user(user) else { return .null }
        let repositories = state.repositories.filter { $0.owner == user.login }
        body["user_view_type"] = isPrivate ? "private" : "public"
        body["name"] = user.name.map(JSONValue.string) ?? .null
        body["company"] = .null
        body["blog"] = ""
        body["location"] = .null
        body["email"] = user.email.map(JSONValue.string) ?? .null
        body["hireable"] = .null
        body["bio"] = .null
        body["twitter_username"] = .null
        body["public_repos"] = .number(Double(repositories.count { !$0.isPrivate }))
        body["public_gists"] = 0
        body["followers"] = 0
        body["following"] = 0
        body["created_at"] = Self.time(user.created)
        body["updated_at"] = Self.time(user.created)
        if isPrivate {
            body["private_gists"] = 0
            body["total_private_repos"] = .number(Double(repositories.count(where: \.isPrivate)))
            body["owned_private_repos"] = .number(Double(repositories.count(where: \.isPrivate)))
            body["disk_usage"] = 0
            body["collaborators"] = 0
            body["two_factor_authentication"] = true
            body["plan"] = ["name": "free", "space": 976_562_499, "collaborators": 0, "private_repos": 10000]
        }
        return .object(body)
    }

    // MARK: - Repositories

    func repositoryURL(_ repository: GitHubSite.Repository) -> String { "\(self.api)/repos/\(repository.fullName)" }

    /// `FullRepository`.
    func repository(_ repository: GitHubSite.Repository, in state: State, archived: Bool) -> JSONValue {
        let url = self.repositoryURL(repository)
        let html = "\(Self.web)/\(repository.fullName)"
        let open = repository.issues.values.count { $0.state == "open" }
        var body: [String: JSONValue] = [
            "id": .number(Double(repository.id)), "node_id": Self.nodeID("Repository", repository.id), "name": .string(repository.name),
            "full_name": .string(repository.fullName), "owner": state.user(login: repository.owner).map(self.user) ?? .null,
            "private": .bool(repository.isPrivate), "visibility": .string(repository.isPrivate ? "private" : "public"),
            "html_url": .string(html), "description": .null, "fork": false, "url": .string(url), "homepage": .null, "language": .null,
            "forks_count": 0, "stargazers_count": 0, "watchers_count": 0, "size": 0, "default_branch": "main",
            "open_issues_count": .number(Double(open)), "is_template": false, "topics": [], "has_issues": true, "has_projects": true,
            "has_wiki": true, "has_pages": false, "has_downloads": true, "has_discussions": false, "archived": .bool(archived),
            "disabled": false, "pushed_at": Self.time(repository.created), "created_at": Self.time(repository.created),
            "updated_at": Self.time(repository.created),
            "permissions": ["admin": true, "maintain": true, "push": true, "triage": true, "pull": true],
            "allow_forking": true, "web_commit_signoff_required": false, "subscribers_count": 1, "network_count": 0, "license": .null,
            "forks": 0, "open_issues": .number(Double(open)), "watchers": 0, "mirror_url": .null, "temp_clone_token": "",
            "git_url": .string("git://github.com/\(repository.fullName).git"), "ssh_url": .string("git@github.com:\(repository.fullName).git"),
            "clone_url": .string("\(html).git"), "svn_url": .string(html),
        ]
        for (key, suffix) in [
            ("archive_url", "/{archive_format}{/ref}"), ("assignees_url", "/assignees{/user}"), ("blobs_url", "/git/blobs{/sha}"),
            ("branches_url", "/branches{/branch}"), ("collaborators_url", "/collaborators{/collaborator}"), ("comments_url", "/comments{/number}"),
            ("commits_url", "/commits{/sha}"), ("compare_url", "/compare/{base}...{head}"), ("contents_url", "/contents/{+path}"),
            ("contributors_url", "/contributors"), ("deployments_url", "/deployments"), ("downloads_url", "/downloads"),
            ("events_url", "/events"), ("forks_url", "/forks"), ("git_commits_url", "/git/commits{/sha}"), ("git_refs_url", "/git/refs{/sha}"),
            ("git_tags_url", "/git/tags{/sha}"), ("issue_comment_url", "/issues/comments{/number}"), ("issue_events_url", "/issues/events{/number}"),
            ("issues_url", "/issues{/number}"), ("keys_url", "/keys{/key_id}"), ("labels_url", "/labels{/name}"), ("languages_url", "/languages"),
            ("merges_url", "/merges"), ("milestones_url", "/milestones{/number}"), ("notifications_url", "/notifications{?since,all,participating}"),
            ("pulls_url", "/pulls{/number}"), ("releases_url", "/releases{/id}"), ("stargazers_url", "/stargazers"),
            ("statuses_url", "/statuses/{sha}"), ("subscribers_url", "/subscribers"), ("subscription_url", "/subscription"), ("tags_url", "/tags"),
            ("teams_url", "/teams"), ("trees_url", "/git/trees{/sha}"), ("hooks_url", "/hooks"),
        ] {
            body[key] = .string(url + suffix)
        }
        return .object(body)
    }

    // MARK: - Labels and milestones

    /// `Label`, as recorded (QUIRK GH-2: no `archived_at` / `archived_by`).
    func label(_ label: GitHubSite.Label, _ repository: GitHubSite.Repository) -> JSONValue {
        let name = label.name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? label.name
        return [
            "id": .number(Double(label.id)), "node_id": Self.nodeID("Label", label.id),
            "url": .string("\(self.repositoryURL(repository))/labels/\(name)"),
            "name": .string(label.name), "color": .string(label.color), "default": .bool(label.isDefault),
            "description": label.description.map(JSONValue.string) ?? .null,
        ]
    }

    /// `Milestone`.
    func milestone(_ milestone: GitHubSite.Milestone, _ repository: GitHubSite.Repository, in state: State) -> JSONValue {
        let url = "\(self.repositoryURL(repository))/milestones/\(milestone.number)"
        let issues = repository.issues.values.filter { $0.milestone == milestone.number }
        return [
            "url": .string(url), "html_url": .string("\(Self.web)/\(repository.fullName)/milestone/\(milestone.number)"),
            "labels_url": .string("\(url)/labels"), "id": .number(Double(milestone.id)), "node_id": Self.nodeID("Milestone", milestone.id),
            "number": .number(Double(milestone.number)), "title": .string(milestone.title),
            "description": milestone.description.map(JSONValue.string) ?? .null,
            "creator": state.user(login: repository.owner).map(self.user) ?? .null,
            "open_issues": .number(Double(issues.count { $0.state == "open" })),
            "closed_issues": .number(Double(issues.count { $0.state == "closed" })),
            "state": .string(milestone.state), "created_at": Self.time(milestone.created), "updated_at": Self.time(milestone.updated),
            "due_on": Self.time(milestone.dueOn), "closed_at": .null,
        ]
    }

    // MARK: - Issues and comments

    /// `Issue`; a list's items leave out `closed_by`, as recorded. A pull request has `pull_request` and its web URL
    /// under `/pull/`.
    func issue(_ issue: GitHubSite.Issue, _ repository: GitHubSite.Repository, in state: State, listed: Bool = false) -> JSONValue {
        let repositoryURL = self.repositoryURL(repository)
        let url = "\(repositoryURL)/issues/\(issue.number)"
        let web = "\(Self.web)/\(repository.fullName)/\(issue.isPullRequest ? "pull" : "issues")/\(issue.number)"
        let assignees = issue.assignees.compactMap { state.user($0) }.map(self.user)
        var body: [String: JSONValue] = [
            "url": .string(url), "repository_url": .string(repositoryURL), "labels_url": .string("\(url)/labels{/name}"),
            "comments_url": .string("\(url)/comments"), "events_url": .string("\(url)/events"), "html_url": .string(web),
            "id": .number(Double(issue.id)), "node_id": Self.nodeID(issue.isPullRequest ? "PullRequest" : "Issue", issue.id),
            "number": .number(Double(issue.number)), "title": .string(issue.title), "user": self.user(issue.author, in: state),
            "labels": .array(issue.labels.compactMap { id in repository.labels.first { $0.id == id } }.map { self.label($0, repository) }),
            "state": .string(issue.state), "locked": .bool(issue.locked), "assignee": assignees.first ?? .null, "assignees": .array(assignees),
            "milestone": issue.milestone.flatMap { number in repository.milestones.first { $0.number == number } }
                .map { self.milestone($0, repository, in: state) } ?? .null,
            "comments": .number(Double(issue.comments.count)), "created_at": Self.time(issue.created), "updated_at": Self.time(issue.updated),
            "closed_at": Self.time(issue.closed), "author_association": issue.author == GitHubSite.apiUserID ? "OWNER" : "CONTRIBUTOR",
            "active_lock_reason": issue.lockReason.map(JSONValue.string) ?? .null, "body": issue.body.map(JSONValue.string) ?? .null,
            "reactions": Self.reactions("\(url)/reactions"), "timeline_url": .string("\(url)/timeline"), "performed_via_github_app": .null,
            "state_reason": issue.stateReason.map(JSONValue.string) ?? .null,
        ]
        if issue.isPullRequest {
            let pull = "\(repositoryURL)/pulls/\(issue.number)"
            body["draft"] = false
            body["pull_request"] = [
                "url": .string(pull), "html_url": .string(web), "diff_url": .string("\(web).diff"), "patch_url": .string("\(web).patch"),
                "merged_at": .null,
            ]
        }
        if !listed { body["closed_by"] = self.user(issue.closedBy, in: state) }
        return .object(body)
    }

    /// `IssueComment`.
    func comment(_ comment: GitHubSite.Comment, _ repository: GitHubSite.Repository, in state: State) -> JSONValue {
        let url = "\(self.repositoryURL(repository))/issues/comments/\(comment.id)"
        let web = repository.issues[comment.issue]?.isPullRequest == true ? "pull" : "issues"
        return [
            "url": .string(url), "html_url": .string("\(Self.web)/\(repository.fullName)/\(web)/\(comment.issue)#issuecomment-\(comment.id)"),
            "issue_url": .string("\(self.repositoryURL(repository))/issues/\(comment.issue)"), "id": .number(Double(comment.id)),
            "node_id": Self.nodeID("IssueComment", comment.id), "user": self.user(comment.author, in: state),
            "created_at": Self.time(comment.created), "updated_at": Self.time(comment.updated),
            "author_association": comment.author == GitHubSite.apiUserID ? "OWNER" : "CONTRIBUTOR", "body": .string(comment.body),
            "reactions": Self.reactions("\(url)/reactions"), "performed_via_github_app": .null,
        ]
    }
}
