public import Foundation
import HTTP
public import TandemCore

/// Reading and writing issues and comments.
extension JiraConnector {
    /// Fields an issue lists that are not fields to sync (they have their own calls, or are Jira's bookkeeping).
    static let bookkeeping: Set<String> = [
        "comment", "attachment", "worklog", "watches", "votes", "lastViewed", "timetracking", "progress", "aggregateprogress",
        "aggregatetimespent", "aggregatetimeestimate", "aggregatetimeoriginalestimate", "workratio", "thumbnail", "subtasks",
        "issuelinks", "statuscategorychangedate", "project",
    ]

    func issuePath(_ id: String) -> String { "issue/\(RESTSession.encode(id))" }

    /// `GET /issue/{id}?properties=<marker>`: fields, comments (every page), attachments, the marker.
    public func artifact(id: String) async throws -> RepositoryArtifact {
        let cloud = try await self.flavour() == .cloud
        let issue = try await self.readIssue(id, query: [("properties", self.configuration.markerProperty)])
        var artifact = try Self.artifact(
            from: issue, fields: try await self.fieldList(), cloud: cloud, markerProperty: self.configuration.markerProperty,
            site: self.configuration.baseURL)
        let listed = issue["fields"]?["comment"]
        if let total = listed?["total"]?.int, total > (listed?["comments"]?.array?.count ?? 0) {
            artifact.comments = try await self.allComments(id).compactMap { Self.comment($0, cloud: cloud) }
        }
        return artifact
    }

    /// An issue's JSON (`GET /issue/{id}`) as an artifact: every field `/field` describes but Jira's bookkeeping, the
    /// comments it lists, its attachments and marker.
    static func artifact(
        from issue: JSONValue, fields: [JiraField], cloud: Bool, markerProperty: String, site: URL
    ) throws(ConnectorError)
        -> RepositoryArtifact
    {
        let entry: ChangedArtifact
        do {
            entry = try Self.feedEntry(issue)
        } catch {
            throw ConnectorError.invalidResponse(error, tool: "Jira")
        }
        let key = issue["key"]?.string ?? entry.id
        let raw = issue["fields"]?.object ?? [:]
        var values: [String: FieldValue] = [:]
        for field in fields where !Self.bookkeeping.contains(field.id) {
            guard let json = raw[field.id] else { continue }
            values[field.id] = Self.value(json, field: field, cloud: cloud)
        }
        let comments = (raw["comment"]?["comments"]?.array ?? []).compactMap { Self.comment($0, cloud: cloud) }
        let attachments = (raw["attachment"]?.array ?? []).compactMap(Self.attachment)
        return RepositoryArtifact(
            id: entry.id, formattedID: key, url: Self.browseURL(site, key), project: raw["project"]?["key"]?.string ?? "",
            artifactType: raw["issuetype"]?["id"]?.idString ?? "", created: raw["created"]?.string.flatMap(JiraTime.parse),
            updated: entry.updated, version: entry.version, fields: values, comments: comments, attachments: attachments,
            marker: Self.marker(in: issue["properties"]?[markerProperty]))
    }

    static func browseURL(_ site: URL, _ key: String) -> String {
        var text = site.absoluteString
        if text.hasSuffix("/") { text.removeLast() }
        return text + "/browse/" + key
    }

    /// One issue; 404 → `artifactGone`.
    func readIssue(_ id: String, query: [(String, String)] = []) async throws -> JSONValue {
        do {
            return try await self.json(try await self.request(.get, self.issuePath(id), query: query))
        } catch let error as ConnectorError where error.code == .notFound {
            throw ConnectorError.gone(id, tool: self.tool)
        }
    }

    func allComments(_ id: String) async throws -> [JSONValue] {
        var paginator = OffsetPaginator(pageSize: 100, offsetParameter: "startAt", limitParameter: "maxResults", totalMember: "total")
        return try await paginator.collect { mark in
            let json = try await self.json(try await self.request(.get, self.issuePath(id) + "/comment", query: mark.queryPairs))
            let items = json["comments"]?.array ?? []
            return (PageAnswer(response: HTTPResponse(status: 200), json: json, itemCount: items.count), items)
        }
    }

    static func comment(_ json: JSONValue, cloud: Bool) -> RepositoryComment? {
        guard let id = json["id"]?.idString else { return nil }
        let body = json["body"]
        let (text, markup): (String, TextMarkup) =
            if let string = body?.string { (string, cloud ? .plain : .jiraWiki) } else {
                (body.map { String(decoding: $0.serialized(), as: UTF8.self) } ?? "", .adf)
            }
        return RepositoryComment(
            id: id, author: json["author"].flatMap(Self.person), created: json["created"]?.string.flatMap(JiraTime.parse), text: text,
            markup: markup)
    }

    static func attachment(_ json: JSONValue) -> AttachmentInfo? {
        guard let id = json["id"]?.idString, let name = json["filename"]?.string else { return nil }
        return AttachmentInfo(
            id: id, filename: name, contentType: json["mimeType"]?.string, size: json["size"]?.int,
            created: json["created"]?.string.flatMap(JiraTime.parse), author: json["author"].flatMap(Self.person), url: json["content"]?.string)
    }

    /// The state right after a write: the issue's `updated`.
    func written(_ id: String, itemID: String? = nil) async throws -> WriteResult {
        let issue = try await self.readIssue(id, query: [("fields", "updated")])
        let entry = try self.decode { () throws(HTTPError) in try Self.feedEntry(issue) }
        return WriteResult(artifactID: entry.id, itemID: itemID, updated: entry.updated, version: entry.version)
    }

    /// The `fields` object of a create or edit, by field id (names resolved); `status` is left for the transitions.
    func fieldsPayload(_ fields: [String: FieldValue]) async throws -> [String: JSONValue] {
        let cloud = try await self.flavour() == .cloud
        var payload: [String: JSONValue] = [:]
        for (given, value) in fields.sorted(by: { $0.key < $1.key }) where given != "status" {
            let field = try await self.field(given)
            guard field.id != "status" else { continue }
            payload[field.id] = try Self.payload(value, field: field, cloud: cloud)
        }
        return payload
    }

    /// The status among the fields (by id or name), if any.
    func status(in fields: [String: FieldValue]) -> String? {
        for (key, value) in fields where key.lowercased() == "status" {
            if case .select(let name) = value { return name }
            if case .string(let name) = value { return name }
        }
        return nil
    }

    /// `POST /issue` with the marker as an entity property, then the status through the workflow.
    public func createArtifact(_ draft: ArtifactDraft) async throws -> WriteResult {
        var fields = try await self.fieldsPayload(draft.fields)
        fields["project"] = ["key": .string(draft.project)]
        let type = try await self.issueTypeID(draft.artifactType, project: draft.project)
        fields["issuetype"] = ["id": .string(type)]
        var body: [String: JSONValue] = ["fields": .object(fields)]
        if let marker = draft.marker {
            body["properties"] = [["key": .string(self.configuration.markerProperty), "value": ["marker": .string(marker)]]]
        }
        let created: JSONValue
        do {
            created = try await self.json(try await self.request(.post, "issue", json: .object(body)))
        } catch let error as ConnectorError where error.code == .validation && error.message.lowercased().contains("project") {
            throw ConnectorError(
                .validation, kind: .permanent, message: "Jira refused the issue in project \(draft.project): \(error.message)", status: error.status,
                httpCode: error.httpCode)
        }
        let id = try self.decode { () throws(HTTPError) in try created.requireID("id", in: "created issue") }
        if let status = self.status(in: draft.fields) { return try await self.applyTransition(id: id, to: status) }
        return try await self.written(id)
    }

    /// `PUT /issue/{id}` (204), then the status through the workflow; values Jira stores otherwise are reported.
    public func updateFields(id: String, _ fields: [String: FieldValue]) async throws -> WriteResult {
        let payload = try await self.fieldsPayload(fields)
        if !payload.isEmpty {
            do {
                _ = try await self.session.send(try await self.request(.put, self.issuePath(id), json: ["fields": .object(payload)]))
            } catch let error as ConnectorError where error.code == .notFound {
                throw ConnectorError.gone(id, tool: self.tool)
            }
        }
        if let status = self.status(in: fields) { _ = try await self.applyTransition(id: id, to: status) }
        let after = try await self.artifact(id: id)
        var result = WriteResult(artifactID: after.id, updated: after.updated, version: after.version)
        for (given, value) in fields {
            if case .richText = value { continue }
            let field = try await self.field(given)
            guard let stored = after.fields[field.id], stored != value, field.fieldType != .richText else { continue }
            result.changedByRepository[given] = stored
        }
        return result
    }

    /// A comment's body, written like a rich-text field.
    static let commentBody = JiraField(
        id: "comment", name: "Comment", type: "string", kind: "com.atlassian.jira.plugin.system.customfieldtypes:textarea")

    /// `POST /issue/{id}/comment` with an ADF body (Cloud) or wiki markup (Data Center). Text that is not JSON is plain
    /// text and converted; JSON that is not an ADF document is refused.
    public func addComment(id: String, text: String) async throws -> WriteResult {
        let cloud = try await self.flavour() == .cloud
        let body: JSONValue
        if cloud {
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            let markup: TextMarkup = trimmed.hasPrefix("{") ? .adf : .plain
            body = try Self.payload(.richText(text, markup: markup), field: Self.commentBody, cloud: true)
        } else {
            body = .string(text)
        }
        let created: JSONValue
        do {
            created = try await self.json(try await self.request(.post, self.issuePath(id) + "/comment", json: ["body": body]))
        } catch let error as ConnectorError where error.code == .notFound {
            throw ConnectorError.gone(id, tool: self.tool)
        }
        return try await self.written(id, itemID: created["id"]?.idString)
    }

    public func deleteArtifact(id: String) async throws {
        do {
            _ = try await self.session.send(try await self.request(.delete, self.issuePath(id)))
        } catch let error as ConnectorError where error.code == .notFound {
            throw ConnectorError.gone(id, tool: self.tool)
        }
    }

    /// The twin's key and URL as a remote link (`globalId` `tandem:<url>`: writing it again updates it), and into the
    /// `linkField` where configured.
    public func linkTwin(id: String, twin: TwinLink) async throws {
        guard let url = twin.url else { return }
        let object: JSONValue = ["url": .string(url), "title": .string(twin.key)]
        let link: JSONValue = ["globalId": .string("tandem:\(url)"), "object": object]
        do {
            _ = try await self.session.send(try await self.request(.post, self.issuePath(id) + "/remotelink", json: link, idempotent: true))
        } catch let error as ConnectorError where error.code == .notFound {
            throw ConnectorError.gone(id, tool: self.tool)
        }
        if let linkField = self.configuration.linkField {
            let field = try await self.field(linkField)
            let value: FieldValue = field.isRichText ? .richText(url, markup: .plain) : .string(url)
            _ = try await self.session.send(
                try await self.request(
                    .put, self.issuePath(id),
                    json: ["fields": [field.id: try Self.payload(value, field: field, cloud: try await self.flavour() == .cloud)]]))
        }
    }
}
