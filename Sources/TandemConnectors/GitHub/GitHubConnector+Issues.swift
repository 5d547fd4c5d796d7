public import Foundation
import HTTP
public import TandemCore

/// The change feed, reads and writes of GitHub issues.
///
/// The feed is `GET /repos/{o}/{r}/issues?state=all&sort=updated&direction=asc&since=…`, paged by page number (the
/// numbers `Link` gives), pull requests skipped. Timestamps are whole seconds and several edits can share one: the
/// window re-reads `lookback` seconds and holds back the current second (`resolution` 1) until it has passed.
extension GitHubConnector {
    public func cursor(startingAt time: Date) -> FeedCursor { ChangeFeedWindow.cursor(startingAt: time) }

    public func changes(project: String, since cursor: FeedCursor?, pageSize: Int) async throws -> ChangePage {
        let path = try self.repositoryPath(project) + "/issues"
        // The page that follows each offset: pages may hold pull requests, which are not entries.
        var pages: [Int: Int] = [:]
        return try await ChangeFeedWindow.read(
            cursor: cursor, pageSize: pageSize, overlap: self.configuration.lookback, resolution: 1, remotePageSize: 100, tool: self.tool
        ) { from, offset, _ in
            var page = pages[offset] ?? 1
            while true {
                var query = [("state", "all"), ("sort", "updated"), ("direction", "asc"), ("per_page", "100"), ("page", String(page))]
                if let from { query.append(("since", GitHubTime.format(from.addingTimeInterval(-1)))) }
                let (json, response) = try await self.json(self.session.request(.get, path, query: query))
                let items = json.array ?? []
                let hasNext = LinkHeaderPaginator.links(in: response.header("Link") ?? "")["next"] != nil
                let entries = try items.filter { $0["pull_request"] == nil }.map { item throws(ConnectorError) in
                    try self.session.decode { () throws(HTTPError) in try Self.feedEntry(item, repository: project) }
                }
                page += 1
                // A page of pull requests only: read on, so the window does not take it for the end.
                if entries.isEmpty, hasNext, !items.isEmpty { continue }
                pages[offset + entries.count] = page
                return ChangeFeedWindow.RemotePage(entries: entries, isLast: !hasNext, repositoryTime: response.date)
            }
        }
    }

    static func feedEntry(_ issue: JSONValue, repository: String) throws(HTTPError) -> ChangedArtifact {
        let number = try issue.requireID("number", in: "issue")
        let text = try issue.requireString("updated_at", in: "issue \(number)")
        guard let updated = GitHubTime.parse(text) else { throw .invalidResponse("issue \(number): updated_at '\(text.prefix(40))' is not a time") }
        return ChangedArtifact(id: "\(repository)#\(number)", updated: updated, version: Self.version(issue, updated: text))
    }

    /// `updated_at` and a fingerprint of what the issue shows: two edits within one second are two versions.
    static func version(_ issue: JSONValue, updated: String) -> String {
        var shown: [String: JSONValue] = [:]
        for key in ["title", "body", "state", "state_reason", "comments", "locked"] { shown[key] = issue[key] ?? .null }
        shown["labels"] = .array((issue["labels"]?.array ?? []).map { $0["name"] ?? $0 })
        shown["assignees"] = .array((issue["assignees"]?.array ?? []).map { $0["login"] ?? .null })
        shown["milestone"] = issue["milestone"]?["title"] ?? .null
        return updated + "/" + Fingerprint.of(.object(shown))
    }

    // MARK: - Read

    public func artifact(id: String) async throws -> RepositoryArtifact {
        let (repository, _) = try Self.split(id)
        let issue: JSONValue
        do {
            (issue, _) = try await self.json(self.session.request(.get, try self.issuePath(id)))
        } catch let error as ConnectorError where error.code == .notFound {
            throw ConnectorError.gone(id, tool: self.tool)
        }
        var comments: [RepositoryComment] = []
        if (issue["comments"]?.int ?? 1) > 0 {
            comments = try await self.list(try self.issuePath(id) + "/comments").compactMap { comment in
                guard let commentID = comment["id"]?.idString else { return nil }
                return RepositoryComment(
                    id: commentID, author: comment["user"].flatMap(Self.person),
                    created: comment["created_at"]?.string.flatMap(GitHubTime.parse), text: comment["body"]?.string ?? "", markup: .markdown)
            }
        }
        return try self.decode(issue, repository: repository, comments: comments)
    }

    func decode(_ issue: JSONValue, repository: String, comments: [RepositoryComment]) throws(ConnectorError) -> RepositoryArtifact {
        try self.session.decode { () throws(HTTPError) in
            let number = try issue.requireID("number", in: "issue")
            let updatedText = try issue.requireString("updated_at", in: "issue \(number)")
            guard let updated = GitHubTime.parse(updatedText) else { throw .invalidResponse("issue \(number): updated_at is not a time") }
            let (body, marker) = Self.unmarked(issue["body"]?.string ?? "")
            var fields: [String: FieldValue] = [
                "title": .string(issue["title"]?.string ?? ""),
                "body": .richText(body, markup: .markdown),
                "status": .select(Self.status(state: issue["state"]?.string, reason: issue["state_reason"]?.string)),
                "milestone": issue["milestone"]?["title"]?.string.map { FieldValue.select($0) } ?? .null,
            ]
            let people = (issue["assignees"]?.array ?? []).compactMap(Self.person)
            fields["assignees"] = .persons(people)
            fields["assignee"] = people.first.map { FieldValue.person($0) } ?? .null
            var plain: [String] = []
            for prefix in self.configuration.labelPrefixes { fields[Self.fieldName(prefix)] = .null }
            for label in (issue["labels"]?.array ?? []).compactMap({ $0["name"]?.string ?? $0.string }) {
                if let (field, value) = self.prefixedLabel(label) { fields[field] = .select(value) } else { plain.append(label) }
            }
            fields["labels"] = .multiSelect(plain)
            let id = "\(repository)#\(number)"
            return RepositoryArtifact(
                id: id, formattedID: id, url: issue["html_url"]?.string, project: repository,
                artifactType: issue["pull_request"] == nil ? "issue" : "pull_request",
                created: issue["created_at"]?.string.flatMap(GitHubTime.parse), updated: updated,
                version: Self.version(issue, updated: updatedText), fields: fields, comments: comments, attachments: [], marker: marker)
        }
    }

    static func status(state: String?, reason: String?) -> String {
        guard state == "closed" else { return "open" }
        return reason == "not_planned" ? "not planned" : "completed"
    }

    // MARK: - The marker

    static let markerStart = "\n\n<!-- tandem-marker: "
    static let markerEnd = " -->"

    /// A body with the marker at its end (GitHub shows no HTML comment).
    static func marked(_ body: String, _ marker: String?) -> String {
        guard let marker else { return body }
        return body + Self.markerStart + marker + Self.markerEnd
    }

    /// The body without a marker at its end, and the marker.
    static func unmarked(_ body: String) -> (String, String?) {
        guard body.hasSuffix(Self.markerEnd), let start = body.range(of: Self.markerStart, options: .backwards) else { return (body, nil) }
        let marker = String(body[start.upperBound..<body.index(body.endIndex, offsetBy: -Self.markerEnd.count)])
        guard !marker.isEmpty, !marker.contains("\n") else { return (body, nil) }
        return (String(body[..<start.lowerBound]), marker)
    }

    /// The repository's issues created since the first attempt (newest first, from 10 minutes before it for the two
    /// clocks) whose body ends with the marker; without that time, the newest 200.
    public func findByMarker(project: String, marker: String, createdSince: Date?) async throws -> [String] {
        let path = try self.repositoryPath(project) + "/issues"
        var paginator = LinkHeaderPaginator(origin: self.configuration.baseURL)
        let floor = createdSince?.addingTimeInterval(-600)
        var found: [String] = []
        var reachedFloor = false
        _ = try await paginator.collect(limit: createdSince == nil ? 200 : 100_000) { mark in
            let request =
                mark.url.map { self.session.request(.get, "", absolute: $0) }
                ?? self.session.request(.get, path, query: [("state", "all"), ("sort", "created"), ("direction", "desc"), ("per_page", "100")])
            let (json, response) = try await self.json(request)
            let items = json.array ?? []
            for item in items {
                if let floor, let created = item["created_at"]?.string.flatMap(GitHubTime.parse), created < floor { reachedFloor = true }
                guard item["pull_request"] == nil, Self.unmarked(item["body"]?.string ?? "").1 == marker,
                    let number = item["number"]?.idString
                else { continue }
                found.append("\(project)#\(number)")
            }
            // Past the first attempt's time: no page further holds the twin.
            let answer = PageAnswer(response: reachedFloor ? HTTPResponse(status: 200) : response, json: json, itemCount: items.count)
            return (answer, Array(repeating: 0, count: items.count))
        }
        return found
    }

    // MARK: - Write

    public func createArtifact(_ draft: ArtifactDraft) async throws -> WriteResult {
        var payload = try await self.payload(draft.fields, repository: draft.project, current: nil)
        payload["title"] = payload["title"] ?? .string("")
        let body = payload["body"]?.string ?? ""
        payload["body"] = .string(Self.marked(body, draft.marker))
        // A new issue is open: a closed status is a second write.
        let state = payload.removeValue(forKey: "state")
        let reason = payload.removeValue(forKey: "state_reason")
        var (issue, _) = try await self.json(
            self.session.request(.post, try self.repositoryPath(draft.project) + "/issues", json: .object(payload)))
        if let state, state != .string("open") {
            let number = try self.session.decode { () throws(HTTPError) in try issue.requireID("number", in: "created issue") }
            var change: [String: JSONValue] = ["state": state]
            if let reason { change["state_reason"] = reason }
            (issue, _) = try await self.json(
                self.session.request(.patch, try self.issuePath("\(draft.project)#\(number)"), json: .object(change), idempotent: true))
        }
        return try self.written(issue, repository: draft.project)
    }

    public func updateFields(id: String, _ fields: [String: FieldValue]) async throws -> WriteResult {
        let (repository, _) = try Self.split(id)
        // Labels are one list on GitHub: writing the plain ones or a prefixed one keeps the others as they are.
        let touchesLabels = fields.keys.contains("labels") || self.configuration.labelPrefixes.contains { fields[Self.fieldName($0)] != nil }
        var current: JSONValue?
        if touchesLabels {
            do {
                (current, _) = try await self.json(self.session.request(.get, try self.issuePath(id)))
            } catch let error as ConnectorError where error.code == .notFound {
                throw ConnectorError.gone(id, tool: self.tool)
            }
        }
        let payload = try await self.payload(fields, repository: repository, current: current)
        guard !payload.isEmpty else { return try await self.written(id) }
        do {
            let (issue, _) = try await self.json(self.session.request(.patch, try self.issuePath(id), json: .object(payload), idempotent: true))
            return try self.written(issue, repository: repository)
        } catch let error as ConnectorError where error.code == .notFound {
            throw ConnectorError.gone(id, tool: self.tool)
        }
    }

    public func applyTransition(id: String, to status: String) async throws -> WriteResult {
        try await self.updateFields(id: id, ["status": .select(status)])
    }

    public func addComment(id: String, text: String) async throws -> WriteResult {
        let created: JSONValue
        do {
            (created, _) = try await self.json(
                self.session.request(.post, try self.issuePath(id) + "/comments", json: ["body": .string(text)]))
        } catch let error as ConnectorError where error.code == .notFound {
            throw ConnectorError.gone(id, tool: self.tool)
        }
        return try await self.written(id, itemID: created["id"]?.idString)
    }

    /// GitHub keeps no files on issues: the file is named in a comment instead, so it is not dropped silently.
    public func uploadAttachment(id: String, filename: String, contentType: String, data: Data) async throws -> WriteResult {
        let size = ByteCountFormatter.string(fromByteCount: Int64(data.count), countStyle: .file)
        let note =
            "📎 `\(filename.replacingOccurrences(of: "`", with: "'"))` (\(contentType), \(size)) is attached to the twin; "
            + "GitHub keeps no files on issues, so it was not copied."
        return try await self.addComment(id: id, text: note)
    }

    public func attachmentContent(artifactID: String, attachment: AttachmentInfo) async throws -> Data {
        throw ConnectorError.unsupported("GitHub keeps no files on issues")
    }

    public func deleteArtifact(id: String) async throws {
        throw ConnectorError.unsupported("GitHub's REST API deletes no issues (close it instead)")
    }

    public func linkTwin(id: String, twin: TwinLink) async throws {
        guard self.configuration.twinLink == .comment else { return }
        let line = "Synchronized with " + (twin.url.map { "[\(twin.key)](\($0))" } ?? twin.key) + " by Tandem."
        let comments = try await self.list(try self.issuePath(id) + "/comments")
        guard !comments.contains(where: { $0["body"]?.string == line }) else { return }
        _ = try await self.addComment(id: id, text: line)
    }

    /// The issue's state after a write, read again when the write's answer was not the issue.
    func written(_ id: String, itemID: String? = nil) async throws -> WriteResult {
        let (repository, _) = try Self.split(id)
        let (issue, _) = try await self.json(self.session.request(.get, try self.issuePath(id)))
        var result = try self.written(issue, repository: repository)
        result.itemID = itemID
        return result
    }

    func written(_ issue: JSONValue, repository: String) throws(ConnectorError) -> WriteResult {
        try self.session.decode { () throws(HTTPError) in
            let number = try issue.requireID("number", in: "issue")
            let text = try issue.requireString("updated_at", in: "issue \(number)")
            guard let updated = GitHubTime.parse(text) else { throw .invalidResponse("issue \(number): updated_at is not a time") }
            return WriteResult(artifactID: "\(repository)#\(number)", updated: updated, version: Self.version(issue, updated: text))
        }
    }

    /// The members of an issue write for `fields`; `current` is the issue when labels are written (to keep the others).
    func payload(_ fields: [String: FieldValue], repository: String, current: JSONValue?) async throws -> [String: JSONValue] {
        var payload: [String: JSONValue] = [:]
        var labels = (current?["labels"]?.array ?? []).compactMap { $0["name"]?.string ?? $0.string }
        var labelsWritten = false
        for (field, value) in fields.sorted(by: { $0.key < $1.key }) {
            switch (field, value) {
            case ("title", .string(let text)), ("title", .richText(let text, _)): payload["title"] = .string(text)
            case ("body", .richText(let text, _)), ("body", .string(let text)): payload["body"] = .string(text)
            case ("body", .null): payload["body"] = .string("")
            case ("status", .select(let status)):
                switch status {
                case "open": payload["state"] = "open"
                case "completed", "closed":
                    payload["state"] = "closed"
                    payload["state_reason"] = "completed"
                case "not planned", "not_planned":
                    payload["state"] = "closed"
                    payload["state_reason"] = "not_planned"
                default:
                    throw ConnectorError(
                        .validation, kind: .permanent, message: "GitHub status '\(status)' is not one of \(Self.statuses.joined(separator: ", "))")
                }
            case ("milestone", .select(let title)):
                payload["milestone"] = .number(Double(try await self.milestoneNumber(title, repository: repository)))
            case ("milestone", .null): payload["milestone"] = .null
            case ("assignees", .persons(let people)): payload["assignees"] = .array(try people.map { .string(try Self.login($0)) })
            case ("assignees", .null), ("assignee", .null): payload["assignees"] = []
            case ("assignee", .person(let person)): payload["assignees"] = [.string(try Self.login(person))]
            case ("labels", .multiSelect(let names)):
                labels = labels.filter { self.prefixedLabel($0) != nil } + names
                labelsWritten = true
            case ("labels", .null):
                labels = labels.filter { self.prefixedLabel($0) != nil }
                labelsWritten = true
            default:
                guard let prefix = self.configuration.labelPrefixes.first(where: { Self.fieldName($0) == field }) else {
                    throw ConnectorError(.validation, kind: .permanent, message: "GitHub issues have no field '\(field)' for this value")
                }
                labels = labels.filter { self.prefixedLabel($0)?.field != field }
                switch value {
                case .select(let choice): labels.append(prefix + choice)
                case .null: break
                default:
                    throw ConnectorError(.validation, kind: .permanent, message: "GitHub label field '\(field)' takes one value")
                }
                labelsWritten = true
            }
        }
        if labelsWritten {
            var unique: [String] = []
            for label in labels where !unique.contains(label) { unique.append(label) }
            payload["labels"] = .array(unique.map { .string($0) })
        }
        return payload
    }

    static func login(_ person: Person) throws(ConnectorError) -> String {
        guard let login = person.username ?? person.id else {
            throw ConnectorError(.validation, kind: .permanent, message: "a GitHub assignee needs a login")
        }
        return login
    }
}

/// GitHub's timestamps: ISO 8601 in UTC, whole seconds (`2026-12-08T01:02:03Z`).
enum GitHubTime {
    static func parse(_ text: String) -> Date? { try? Date(text, strategy: .iso8601) }

    static func format(_ date: Date) -> String {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)).formatted(.iso8601)
    }
}
