public import Foundation
public import HTTP
public import TandemCore

/// Redmine (REST, JSON; tested against Redmine 5.0 from Debian).
///
/// - Artifact types are trackers; fields are the standard issue attributes plus custom fields (`cf_<id>`);
///   select values are option names.
/// - Comments are journals with notes; attachments use the upload-token flow.
/// - The feed is `updated_on>=T` (Redmine reads it as "after T − 1 s") with `status_id=*` (closed issues
///   too), sorted by `updated_on,id`, offset-paged (≤ 100).
/// - The marker is kept in a string custom field (`Configuration.markerField`), found with `cf_<id>=`.
/// - Deleted issues answer 404: `artifact(id:)` throws `artifactGone`.
/// - Projects are named by identifier everywhere (`ProjectInfo.id`, the feed, `RepositoryArtifact.project`); an issue
///   names its project by number, so `artifact(id:)` looks the identifier up (once per project and connector).
public struct RedmineConnector: Connector {
    public struct Configuration: Sendable {
        public var baseURL: URL
        public var credentials: Credentials
        public var settings: ConnectionSettings
        /// The id of a string custom field that holds `ArtifactDraft.marker`.
        public var markerField: Int?
        /// Act as this user (`X-Redmine-Switch-User`; admin keys only).
        public var impersonate: String?
        public var overlap: TimeInterval
        /// The server's text formatting when set (the repository option `textFormatting`); nil: read from the server.
        public var textFormatting: TextFormatting?

        public init(
            baseURL: URL, credentials: Credentials, settings: ConnectionSettings, markerField: Int? = nil,
            impersonate: String? = nil, overlap: TimeInterval = 5, textFormatting: TextFormatting? = nil
        ) {
            self.textFormatting = textFormatting
            self.baseURL = baseURL
            self.credentials = credentials
            self.settings = settings
            self.markerField = markerField
            self.impersonate = impersonate
            self.overlap = overlap
        }
    }

    public let tool = "Redmine"
    public let configuration: Configuration
    let session: RESTSession
    /// Project id → identifier: issues name their project by id, everything else (feed, routes) by identifier.
    private let projectIdentifiers = SharedBox<[String: String]>([:])
    /// Tracker name (lower case) → id, from `/trackers.json`: collections may name a tracker instead of its id.
    private let trackerIDs = SharedBox<[String: String]?>(nil)
    /// The server's text formatting, once read.
    private let formatting = SharedBox<TextFormatting?>(nil)

    /// Redmine's text formatting (Administration → Settings → General → Text formatting), which descriptions and notes
    /// are written in. Named as Redmine names them.
    public enum TextFormatting: String, Sendable, CaseIterable {
        case commonMark = "common_mark"
        /// Redcarpet's Markdown (deprecated in Redmine 5, still offered).
        case markdown
        case textile
        /// "None": text is shown as it is.
        case none

        public var markup: TextMarkup {
            switch self {
            case .commonMark, .markdown: .markdown
            case .textile: .textile
            case .none: .plain
            }
        }
    }

    public init(_ configuration: Configuration, client: HTTPClient) {
        self.configuration = configuration
        var session = RESTSession(
            client: client, settings: configuration.settings, base: configuration.baseURL,
            credentials: configuration.credentials, tool: "Redmine")
        if let user = configuration.impersonate { session.headers.append(HTTPHeader("X-Redmine-Switch-User", user)) }
        self.session = session
    }

    public var capabilities: ConnectorCapabilities { Self.capabilities(overlap: self.configuration.overlap) }

    static func capabilities(overlap: TimeInterval) -> ConnectorCapabilities {
        ConnectorCapabilities(
            comments: true, attachments: true, impersonation: true, relationships: false, transitions: true,
            optimisticConcurrency: false, maxPageSize: 100, timestampPrecision: 1, overlapWindow: overlap,
            rateLimitSignals: ["429", "Retry-After"], deletion: .notFoundOnRead)
    }

    // MARK: - Connection and schema

    public func testConnection(project: String?) async -> ConnectionTestResult {
        do {
            let (me, _) = try await self.session.json(self.session.request(.get, "/users/current.json"))
            let user = me["user"].map {
                Person(
                    id: $0["id"]?.idString, username: $0["login"]?.string, email: $0["mail"]?.string,
                    displayName: [$0["firstname"]?.string, $0["lastname"]?.string].compactMap { $0 }.joined(separator: " "))
            }
            guard let project else { return ConnectionTestResult(reachable: true, authenticated: true, projectFound: nil, user: user) }
            do {
                _ = try await self.session.json(self.session.request(.get, "/projects/\(RESTSession.encode(project)).json"))
                return ConnectionTestResult(reachable: true, authenticated: true, projectFound: true, user: user)
            } catch let error as ConnectorError where error.code == .notFound {
                return ConnectionTestResult(
                    reachable: true, authenticated: true, projectFound: false, user: user,
                    error: ConnectorError(.projectNotFound, kind: .needsAttention, message: "Redmine project \(project) not found"))
            }
        } catch let error as ConnectorError {
            return .failed(error)
        } catch {
            return .failed(ConnectorError(.unavailable, kind: .transient, message: "\(error)"))
        }
    }

    public func repositoryTime() async throws -> Date {
        // Puma sends no Date header; the newest update time is the repository's own clock reading.
        let (json, response) = try await self.session.json(
            self.session.request(.get, "/issues.json", query: [("status_id", "*"), ("sort", "updated_on:desc"), ("limit", "1")]))
        if let date = response.date { return date }
        let updated = json["issues"]?[0]?["updated_on"]?.string.flatMap(Self.parseTime)
        return updated ?? Date(timeIntervalSince1970: 0)
    }

    public func projects() async throws -> [ProjectInfo] {
        var result: [ProjectInfo] = []
        var offset = 0
        while true {
            let (json, _) = try await self.session.json(
                self.session.request(.get, "/projects.json", query: [("limit", "100"), ("offset", "\(offset)")]))
            let items = try self.session.decode { () throws(HTTPError) in try json.requireArray("projects", in: "project list") }
            for item in items {
                guard let id = item["identifier"]?.string, let name = item["name"]?.string else { continue }
                result.append(ProjectInfo(id: id, name: name))
            }
            offset += items.count
            if items.isEmpty || offset >= (json["total_count"]?.int ?? 0) { return result }
        }
    }

    /// The project's members (Redmine assigns issues only to them), with their login and e-mail where the API key may
    /// list users (an administrator's): `/projects/:id/memberships.json`, then `/users.json`, each paged.
    public func people(project: String) async throws -> [Person]? {
        var members: [Person] = []
        var paginator = OffsetPaginator(pageSize: 100, totalMember: "total_count")
        members = try await paginator.collect(limit: 10_000) { mark in
            let (json, response) = try await self.session.json(
                self.session.request(.get, "/projects/\(RESTSession.encode(project))/memberships.json", query: mark.queryPairs))
            let items = try self.session.decode { () throws(HTTPError) in try json.requireArray("memberships", in: "membership list") }
            return (PageAnswer(response: response, json: json, itemCount: items.count), items.compactMap { $0["user"].flatMap(Self.person) })
        }
        var accounts: [String: JSONValue] = [:]
        do {
            var users = OffsetPaginator(pageSize: 100, totalMember: "total_count")
            let listed = try await users.collect(limit: 100_000) { mark in
                let (json, response) = try await self.session.json(self.session.request(.get, "/users.json", query: mark.queryPairs))
                let items = try self.session.decode { () throws(HTTPError) in try json.requireArray("users", in: "user list") }
                return (PageAnswer(response: response, json: json, itemCount: items.count), items)
            }
            for user in listed { if let id = user["id"]?.idString { accounts[id] = user } }
        } catch let error as ConnectorError where error.code == .permissionDenied || error.code == .notFound {
            // Not an administrator's key: members by id and name only.
        }
        var seen: Set<String> = []
        return members.compactMap { member in
            guard let id = member.id, seen.insert(id).inserted else { return nil }
            guard let account = accounts[id] else { return member }
            let name = [account["firstname"]?.string, account["lastname"]?.string].compactMap(\.self).joined(separator: " ")
            return Person(
                id: id, username: account["login"]?.string, email: account["mail"]?.string, displayName: name.isEmpty ? member.displayName : name)
        }
    }

    public func artifactTypes(project: String) async throws -> [ArtifactTypeInfo] {
        let (json, _) = try await self.session.json(
            self.session.request(.get, "/projects/\(RESTSession.encode(project)).json", query: [("include", "trackers")]))
        let trackers = json["project"]?["trackers"]?.array ?? []
        return trackers.compactMap { t in t["id"]?.idString.map { ArtifactTypeInfo(id: $0, name: t["name"]?.string ?? $0) } }
    }

    /// A tracker's id, by id or by name (any case). The trackers are read once, and again when a name is not among
    /// them (a tracker added since); an unknown name needs attention and lists the trackers there are.
    public func artifactTypeID(_ configured: String) async throws -> String {
        let name = configured.trimmingCharacters(in: .whitespaces)
        if Int(name) != nil { return name }
        if let id = self.trackerIDs.withLock({ $0?[name.lowercased()] }) { return id }
        let (json, _) = try await self.session.json(self.session.request(.get, "/trackers.json"))
        let items = try self.session.decode { () throws(HTTPError) in try json.requireArray("trackers", in: "/trackers.json") }
        var byName: [String: String] = [:]
        var names: [String] = []
        for item in items {
            guard let id = item["id"]?.idString, let trackerName = item["name"]?.string else { continue }
            byName[trackerName.lowercased()] = id
            names.append(trackerName)
        }
        self.trackerIDs.withLock { $0 = byName }
        guard let id = byName[name.lowercased()] else {
            throw ConnectorError(
                .misconfigured, kind: .needsAttention,
                message: "Redmine has no tracker named \"\(name)\" (its trackers: \(names.joined(separator: ", ")))")
        }
        return id
    }

    public func fields(project: String, artifactType: String) async throws -> [FieldDescriptor] {
        let schema = try await self.schema()
        var fields = [
            FieldDescriptor(id: "subject", name: "Subject", type: .string, required: true),
            FieldDescriptor(id: "description", name: "Description", type: .richText),
            FieldDescriptor(id: "tracker", name: "Tracker", type: .singleSelect, options: schema.trackers, required: true),
            FieldDescriptor(id: "status", name: "Status", type: .singleSelect, options: schema.statuses, required: true),
            FieldDescriptor(id: "priority", name: "Priority", type: .singleSelect, options: schema.priorities, required: true),
            FieldDescriptor(id: "assigned_to", name: "Assignee", type: .person),
            FieldDescriptor(id: "author", name: "Author", type: .person, readOnly: true),
            FieldDescriptor(id: "start_date", name: "Start date", type: .date),
            FieldDescriptor(id: "due_date", name: "Due date", type: .date),
            FieldDescriptor(id: "done_ratio", name: "% Done", type: .long),
            FieldDescriptor(id: "estimated_hours", name: "Estimated time", type: .duration),
        ]
        for field in schema.customFields where field.trackers.isEmpty || field.trackers.contains(artifactType) {
            fields.append(field.descriptor)
        }
        return fields
    }

    struct CustomField: Sendable {
        var descriptor: FieldDescriptor
        var format: String
        var trackers: Set<String>
    }

    struct Schema: Sendable {
        var trackers: [FieldOption]
        var statuses: [FieldOption]
        var priorities: [FieldOption]
        var customFields: [CustomField]
    }

    func schema() async throws -> Schema {
        func options(_ path: String, _ key: String) async throws -> [FieldOption] {
            let (json, _) = try await self.session.json(self.session.request(.get, path))
            let items = try self.session.decode { () throws(HTTPError) in try json.requireArray(key, in: path) }
            return items.compactMap { item in
                guard let id = item["id"]?.idString, let name = item["name"]?.string else { return nil }
                return FieldOption(id: id, name: name, isClosed: item["is_closed"]?.bool ?? false)
            }
        }
        let trackers = try await options("/trackers.json", "trackers")
        let statuses = try await options("/issue_statuses.json", "issue_statuses")
        let priorities = try await options("/enumerations/issue_priorities.json", "issue_priorities")
        var customFields: [CustomField] = []
        do {  // admin only; other users see custom fields only on issues
            let (json, _) = try await self.session.json(self.session.request(.get, "/custom_fields.json"))
            for item in json["custom_fields"]?.array ?? [] where item["customized_type"]?.string == "issue" {
                guard let id = item["id"]?.idString, let name = item["name"]?.string else { continue }
                let format = item["field_format"]?.string ?? "string"
                let multiple = item["multiple"]?.bool ?? false
                let values = (item["possible_values"]?.array ?? []).compactMap { v -> FieldOption? in
                    guard let value = v["value"]?.string else { return nil }
                    return FieldOption(id: value, name: v["label"]?.string ?? value)
                }
                let descriptor = FieldDescriptor(
                    id: "cf_\(id)", name: name, type: Self.fieldType(format: format, multiple: multiple), options: values,
                    required: item["is_required"]?.bool ?? false, multiple: multiple)
                let trackers = Set((item["trackers"]?.array ?? []).compactMap { $0["id"]?.idString })
                customFields.append(CustomField(descriptor: descriptor, format: format, trackers: trackers))
            }
        } catch let error as ConnectorError where error.code == .permissionDenied || error.code == .notFound {
            customFields = []
        }
        return Schema(trackers: trackers, statuses: statuses, priorities: priorities, customFields: customFields)
    }

    static func fieldType(format: String, multiple: Bool) -> FieldType {
        switch format {
        case "text": .richText
        case "list", "enumeration", "version": multiple ? .multiSelect : .singleSelect
        case "bool": .boolean
        case "date": .date
        case "int": .long
        case "float": .double
        case "user": multiple ? .persons : .person
        case "link": .location
        default: .string
        }
    }

    // MARK: - Change feed

    public func cursor(startingAt time: Date) -> FeedCursor { ChangeFeedWindow.cursor(startingAt: time) }

    public func changes(project: String, since cursor: FeedCursor?, pageSize: Int) async throws -> ChangePage {
        try await ChangeFeedWindow.read(
            cursor: cursor, pageSize: pageSize, overlap: self.configuration.overlap,
            resolution: self.capabilities.timestampPrecision, remotePageSize: 100, tool: self.tool
        ) { from, offset, limit in
            var query = [
                ("project_id", project), ("status_id", "*"), ("sort", "updated_on,id"), ("limit", "\(limit)"),
                ("offset", "\(offset)"),
            ]
            if let from { query.append(("updated_on", ">=" + Self.formatTime(from))) }
            let (json, response) = try await self.session.json(self.session.request(.get, "/issues.json", query: query))
            let entries = try self.session.decode { () throws(HTTPError) in
                try json.requireArray("issues", in: "issue list").map { issue throws(HTTPError) in try Self.feedEntry(issue) }
            }
            let total = json["total_count"]?.int ?? 0
            return .init(entries: entries, isLast: offset + entries.count >= total, repositoryTime: response.date)
        }
    }

    static func feedEntry(_ issue: JSONValue) throws(HTTPError) -> ChangedArtifact {
        guard let id = try issue.require("id", in: "issue").int.map(String.init) else {
            throw .invalidResponse(#"issue: "id" is not an id"#)
        }
        let updatedText = try issue.requireString("updated_on", in: "issue \(id)")
        guard let updated = Self.parseTime(updatedText) else { throw .invalidResponse("issue \(id): bad updated_on \(updatedText)") }
        return ChangedArtifact(id: id, updated: updated, version: Self.version(of: issue))
    }

    /// The fields a list row and a single read both show, fingerprinted.
    static func version(of issue: JSONValue) -> String {
        var picked: [String: JSONValue] = [:]
        for key in [
            "id", "subject", "description", "status", "priority", "tracker", "assigned_to", "start_date", "due_date",
            "done_ratio", "estimated_hours", "custom_fields", "updated_on", "closed_on", "is_private",
        ] {
            picked[key] = issue[key] ?? .null
        }
        return (issue["updated_on"]?.string ?? "") + "/" + Fingerprint.of(.object(picked))
    }

    // MARK: - Read

    public func artifact(id: String) async throws -> RepositoryArtifact {
        let issue = try await self.readIssue(id, include: "journals,attachments")
        let markup = try await self.textFormatting(issue: id, projects: []).markup
        var artifact = try self.session.decode { () throws(HTTPError) in try self.artifact(from: issue, markup: markup) }
        artifact.project = try await self.projectIdentifier(artifact.project)
        return artifact
    }

    /// The identifier of a project given by id (read once per connector); the id itself when Redmine does not say.
    func projectIdentifier(_ id: String) async throws -> String {
        guard !id.isEmpty else { return id }
        if let known = self.projectIdentifiers.withLock({ $0[id] }) { return known }
        let identifier: String
        do {
            let (json, _) = try await self.session.json(self.session.request(.get, "/projects/\(RESTSession.encode(id)).json"))
            identifier = json["project"]?["identifier"]?.string ?? id
        } catch let error as ConnectorError where error.code == .notFound || error.code == .permissionDenied {
            return id
        }
        self.projectIdentifiers.withLock { $0[id] = identifier }
        return identifier
    }

    func readIssue(_ id: String, include: String? = nil) async throws -> JSONValue {
        guard Int(id) != nil else { throw ConnectorError.invalidArgument("Redmine issue ids are numbers: \(id)") }
        do {
            let (json, _) = try await self.session.json(
                self.session.request(.get, "/issues/\(id).json", query: include.map { [("include", $0)] } ?? []))
            return try self.session.decode { () throws(HTTPError) in try json.require("issue", in: "issue \(id)") }
        } catch let error as ConnectorError where error.code == .notFound {
            throw ConnectorError.gone(id, tool: self.tool)
        }
    }

    /// An issue as an artifact; descriptions and notes are in `markup` (the server's text formatting). Redmine stores
    /// line ends as CR LF whatever was sent: they read as LF, as they were written.
    func artifact(from issue: JSONValue, markup: TextMarkup) throws(HTTPError) -> RepositoryArtifact {
        let entry = try Self.feedEntry(issue)
        var fields: [String: FieldValue] = [:]
        fields["subject"] = .string(try issue.requireString("subject", in: "issue \(entry.id)"))
        fields["description"] = issue["description"]?.string.map { .richText(Self.lineFeeds($0), markup: markup) } ?? .null
        for key in ["tracker", "status", "priority"] {
            fields[key] = issue[key]?["name"]?.string.map { .select($0) } ?? .null
        }
        for key in ["assigned_to", "author"] {
            fields[key] = issue[key].flatMap(Self.person).map { .person($0) } ?? .null
        }
        for key in ["start_date", "due_date"] {
            fields[key] = issue[key]?.string.flatMap(Self.parseDate).map { .date($0) } ?? .null
        }
        fields["done_ratio"] = issue["done_ratio"]?.int.map { .long(Int64($0)) } ?? .null
        fields["estimated_hours"] = issue["estimated_hours"]?.double.map { .duration(Int64(($0 * 3600).rounded())) } ?? .null
        for cf in issue["custom_fields"]?.array ?? [] {
            guard let cfID = cf["id"]?.idString else { continue }
            switch cf["value"] {
            case .string(let text)?: fields["cf_\(cfID)"] = text.isEmpty ? .null : .string(text)
            case .array(let values)?: fields["cf_\(cfID)"] = .multiSelect(values.compactMap(\.string))
            default: fields["cf_\(cfID)"] = .null
            }
        }
        let comments = (issue["journals"]?.array ?? []).compactMap { journal -> RepositoryComment? in
            guard let id = journal["id"]?.idString, let notes = journal["notes"]?.string, !notes.isEmpty else { return nil }
            return RepositoryComment(
                id: id, author: journal["user"].flatMap(Self.person), created: journal["created_on"]?.string.flatMap(Self.parseTime),
                text: Self.lineFeeds(notes), markup: markup)
        }
        let attachments = (issue["attachments"]?.array ?? []).compactMap { a -> AttachmentInfo? in
            guard let id = a["id"]?.idString, let name = a["filename"]?.string else { return nil }
            return AttachmentInfo(
                id: id, filename: name, contentType: a["content_type"]?.string, size: a["filesize"]?.int,
                created: a["created_on"]?.string.flatMap(Self.parseTime), author: a["author"].flatMap(Self.person),
                url: a["content_url"]?.string)
        }
        return RepositoryArtifact(
            id: entry.id, formattedID: "#\(entry.id)", url: self.configuration.baseURL.appending(path: "issues/\(entry.id)").absoluteString,
            project: issue["project"]?["id"]?.idString ?? "", artifactType: issue["tracker"]?["id"]?.idString ?? "",
            created: issue["created_on"]?.string.flatMap(Self.parseTime), updated: entry.updated, version: entry.version,
            fields: fields, comments: comments, attachments: attachments, marker: self.marker(of: issue))
    }

    static func lineFeeds(_ text: String) -> String {
        text.utf8.contains(13) ? text.replacingOccurrences(of: "\r\n", with: "\n") : text
    }

    // MARK: - Text formatting

    public func textMarkups(projects: [String]) async throws -> TextMarkups? {
        TextMarkups(try await self.textFormatting(issue: nil, projects: projects).markup, fields: ["description"])
    }

    /// The server's text formatting: the configured one, else read once from the server. The REST API does not tell,
    /// but the editing form of an issue (or of a wiki page not written yet) that the API user may edit loads the
    /// toolbar of the formatter in use (`jstoolbar/common_mark.js`, `markdown.js`, `textile.js`), or no toolbar for
    /// "none". Issue pages and wiki pages accept the API key as the JSON API does. Reads `issue` if given, else the
    /// newest issue the user sees, then each project's wiki; needs attention when none of them tells.
    public func textFormatting(issue: String?, projects: [String]) async throws -> TextFormatting {
        if let configured = self.configuration.textFormatting { return configured }
        if let known = self.formatting.withLock({ $0 }) { return known }
        var pages: [String] = []
        if let issue, Int(issue) != nil {
            pages.append("/issues/\(issue)")
        } else {
            let (json, _) = try await self.session.json(
                self.session.request(.get, "/issues.json", query: [("status_id", "*"), ("sort", "id:desc"), ("limit", "1")]))
            if let id = json["issues"]?[0]?["id"]?.idString { pages.append("/issues/\(id)") }
        }
        for project in projects { pages.append("/projects/\(RESTSession.encode(project))/wiki/Tandem_text_formatting") }
        for page in pages {
            let response: HTTPResponse
            do {
                response = try await self.session.send(
                    self.session.request(.get, page, headers: [HTTPHeader("Accept", "text/html")], idempotent: true))
            } catch let error as ConnectorError where error.code == .notFound || error.code == .permissionDenied {
                continue  // an issue since deleted, a project without a wiki or without the right to edit it
            }
            guard response.status == 200, let found = Self.textFormatting(inPage: response.body) else { continue }
            self.formatting.withLock { $0 = found }
            return found
        }
        throw ConnectorError(
            .misconfigured, kind: .needsAttention,
            message:
                "cannot tell Redmine's text formatting (no issue or wiki page that this user may edit): set the repository option "
                + "textFormatting to common_mark, markdown, textile or none, as in Administration → Settings → General")
    }

    /// The formatting an HTML page's editing form shows, or nil when the page has no editing form.
    public static func textFormatting(inPage body: Data) -> TextFormatting? {
        let page = String(decoding: body.prefix(4 << 20), as: UTF8.self)
        for formatting in [TextFormatting.commonMark, .markdown, .textile] where page.contains("jstoolbar/\(formatting.rawValue).js") {
            return formatting
        }
        return page.contains("class=\"wiki-edit") ? TextFormatting.none : nil
    }

    static func person(_ json: JSONValue) -> Person? {
        guard let id = json["id"]?.idString else { return nil }
        return Person(id: id, displayName: json["name"]?.string)
    }

    // MARK: - Write

    public func createArtifact(_ draft: ArtifactDraft) async throws -> WriteResult {
        var issue = try await self.issuePayload(draft.fields)
        issue["project_id"] = .string(draft.project)
        if issue["tracker_id"] == nil, let tracker = Int(draft.artifactType) { issue["tracker_id"] = .number(Double(tracker)) }
        if let marker = draft.marker {
            guard let field = self.configuration.markerField else {
                throw ConnectorError(.misconfigured, kind: .needsAttention, message: "Redmine marker custom field not configured")
            }
            var customFields = issue["custom_fields"]?.array ?? []
            customFields.append(["id": .number(Double(field)), "value": .string(marker)])
            issue["custom_fields"] = .array(customFields)
        }
        let (json, _) = try await self.session.json(self.session.request(.post, "/issues.json", json: ["issue": .object(issue)]))
        return try self.session.decode { () throws(HTTPError) in
            let entry = try Self.feedEntry(try json.require("issue", in: "created issue"))
            return WriteResult(artifactID: entry.id, updated: entry.updated, version: entry.version)
        }
    }

    /// Writes the fields; where Redmine stores something other than what was written (it strips a subject's spaces, say),
    /// the stored value is reported in `changedByRepository`, so the hub compares later reads with it.
    public func updateFields(id: String, _ fields: [String: FieldValue]) async throws -> WriteResult {
        var (result, after) = try await self.put(id, .object(try await self.issuePayload(fields)))
        let markup = try await self.textFormatting(issue: id, projects: []).markup
        if let stored = try? self.artifact(from: after, markup: markup) {
            for (field, value) in fields {
                guard let now = stored.fields[field], now != value else { continue }
                result.changedByRepository[field] = now
            }
        }
        return result
    }

    public func addComment(id: String, text: String) async throws -> WriteResult {
        var (result, after) = try await self.put(id, ["notes": .string(text), "private_notes": false], include: "journals")
        result.itemID = after["journals"]?.array?.last(where: { $0["notes"]?.string == text })?["id"]?.idString
        return result
    }

    public func uploadAttachment(id: String, filename: String, contentType: String, data: Data) async throws -> WriteResult {
        let (upload, _) = try await self.session.json(
            self.session.request(.post, "/uploads.json", query: [("filename", filename)], body: data, contentType: "application/octet-stream"))
        let token = try self.session.decode { () throws(HTTPError) in
            try upload.require("upload", in: "upload").requireString("token", in: "upload")
        }
        let uploads: JSONValue = [["token": .string(token), "filename": .string(filename), "content_type": .string(contentType)]]
        var (result, after) = try await self.put(id, ["uploads": uploads], include: "attachments")
        result.itemID = after["attachments"]?.array?.last(where: { $0["filename"]?.string == filename })?["id"]?.idString
        return result
    }

    /// `GET` the attachment's `content_url` (`/attachments/download/<id>/<name>`) with the API key. Redmine builds
    /// that URL from the host of the request that read the issue, which may not be the configured one (a proxy):
    /// only its path and query are used, on the configured base URL's scheme, host and port, so the key is never
    /// sent elsewhere. Redmine deletes an issue's attachments with it: 404 → `artifactGone`.
    public func attachmentContent(artifactID: String, attachment: AttachmentInfo) async throws -> Data {
        guard Int(artifactID) != nil else { throw ConnectorError.invalidArgument("Redmine issue ids are numbers: \(artifactID)") }
        guard Int(attachment.id) != nil else { throw ConnectorError.invalidArgument("Redmine attachment ids are numbers: \(attachment.id)") }
        let request = self.session.request(
            .get, "", headers: [HTTPHeader("Accept", "application/octet-stream, */*")], absolute: self.downloadURL(attachment))
        let response: HTTPResponse
        do {
            response = try await self.session.send(request)
        } catch let error as ConnectorError where error.code == .notFound {
            throw ConnectorError(
                .artifactGone, kind: .permanent, message: "Redmine attachment \(attachment.id) of issue \(artifactID) no longer exists")
        }
        return try Self.attachmentBytes(response, attachment: attachment, request: request.description)
    }

    /// The bytes of a download answer (2xx or 3xx; failures were classified already).
    static func attachmentBytes(_ response: HTTPResponse, attachment: AttachmentInfo, request: String) throws(ConnectorError) -> Data {
        try AttachmentDownload.bytes(response, attachment: attachment, request: request, tool: "Redmine")
    }

    /// The attachment's download URL on the configured host: `content_url`'s path and query, or
    /// `/attachments/download/<id>` when the issue listed none.
    func downloadURL(_ attachment: AttachmentInfo) -> URL {
        let fallback = self.session.url("/attachments/download/\(RESTSession.encode(attachment.id))")
        guard let text = attachment.url, let given = URLComponents(string: text), given.percentEncodedPath.hasPrefix("/"),
            var components = URLComponents(url: self.configuration.baseURL, resolvingAgainstBaseURL: false)
        else { return fallback }
        components.percentEncodedPath = given.percentEncodedPath
        components.percentEncodedQuery = given.percentEncodedQuery
        components.fragment = nil
        return components.url ?? fallback
    }

    public func applyTransition(id: String, to status: String) async throws -> WriteResult {
        try await self.updateFields(id: id, ["status": .select(status)])
    }

    public func deleteArtifact(id: String) async throws {
        do {
            _ = try await self.session.send(self.session.request(.delete, "/issues/\(id).json"))
        } catch let error as ConnectorError where error.code == .notFound {
            throw ConnectorError.gone(id, tool: self.tool)
        }
    }

    /// The marker custom field's value, when configured and set.
    func marker(of issue: JSONValue) -> String? {
        guard let field = self.configuration.markerField else { return nil }
        let value = issue["custom_fields"]?.array?.first { $0["id"]?.int == field }?["value"]?.string
        return value?.isEmpty == false ? value : nil
    }

    public func findByMarker(project: String, marker: String, createdSince: Date?) async throws -> [String] {
        guard let field = self.configuration.markerField else {
            throw ConnectorError(.misconfigured, kind: .needsAttention, message: "Redmine marker custom field not configured")
        }
        let (json, _) = try await self.session.json(
            self.session.request(
                .get, "/issues.json", query: [("project_id", project), ("status_id", "*"), ("cf_\(field)", marker), ("limit", "100")]))
        let issues = try self.session.decode { () throws(HTTPError) in try json.requireArray("issues", in: "marker search") }
        return issues.filter { issue in
            (issue["custom_fields"]?.array ?? []).contains { $0["id"]?.int == field && $0["value"]?.string == marker }
        }.compactMap { $0["id"]?.idString }
    }

    /// PUT (204, no body), then read back the new state (Redmine returns nothing to learn it from).
    private func put(_ id: String, _ issue: JSONValue, include: String? = nil) async throws -> (result: WriteResult, after: JSONValue) {
        guard Int(id) != nil else { throw ConnectorError.invalidArgument("Redmine issue ids are numbers: \(id)") }
        do {
            // A PUT that adds notes or uploads creates a journal each time: never retried blindly.
            let repeatable = issue["notes"] == nil && issue["uploads"] == nil
            _ = try await self.session.send(
                self.session.request(.put, "/issues/\(id).json", json: ["issue": issue], idempotent: repeatable))
        } catch let error as ConnectorError where error.code == .notFound {
            throw ConnectorError.gone(id, tool: self.tool)
        }
        let after = try await self.readIssue(id, include: include)
        let entry = try self.session.decode { () throws(HTTPError) in try Self.feedEntry(after) }
        return (WriteResult(artifactID: id, updated: entry.updated, version: entry.version), after)
    }

    /// Field values → the `issue` object of a create or update.
    private func issuePayload(_ fields: [String: FieldValue]) async throws -> [String: JSONValue] {
        var issue: [String: JSONValue] = [:]
        var customFields: [JSONValue] = []
        var schema: Schema?
        func option(_ key: String, _ name: String) async throws -> JSONValue {
            if let number = Int(name) { return .number(Double(number)) }
            if schema == nil { schema = try await self.schema() }
            let options: [FieldOption] =
                switch key {
                case "tracker": schema!.trackers
                case "status": schema!.statuses
                default: schema!.priorities
                }
            guard let match = options.first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame }),
                let number = Int(match.id)
            else { throw ConnectorError(.validation, kind: .permanent, message: "Redmine has no \(key) named \"\(name)\"") }
            return .number(Double(number))
        }
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            switch (key, value) {
            case ("subject", .string(let text)), ("subject", .richText(let text, _)): issue["subject"] = .string(text)
            case ("description", .string(let text)), ("description", .richText(let text, _)): issue["description"] = .string(text)
            case ("description", .null): issue["description"] = ""
            case ("tracker", .select(let name)), ("status", .select(let name)), ("priority", .select(let name)):
                issue["\(key)_id"] = try await option(key, name)
            case ("assigned_to", .person(let person)):
                guard let id = person.id.flatMap(Int.init) else {
                    throw ConnectorError.invalidArgument("Redmine assignee needs a numeric user id")
                }
                issue["assigned_to_id"] = .number(Double(id))
            case ("assigned_to", .null): issue["assigned_to_id"] = ""
            case ("start_date", .date(let date)), ("due_date", .date(let date)): issue[key] = .string(date.description)
            case ("start_date", .null), ("due_date", .null): issue[key] = .null
            case ("done_ratio", .long(let n)): issue[key] = .number(Double(n))
            case ("estimated_hours", .duration(let seconds)): issue[key] = .number(Double(seconds) / 3600)
            case ("estimated_hours", .null): issue[key] = .null
            case (let cf, _) where cf.hasPrefix("cf_"):
                guard let cfID = Int(cf.dropFirst(3)) else { throw ConnectorError.invalidArgument("bad custom field \(cf)") }
                customFields.append(["id": .number(Double(cfID)), "value": Self.customFieldValue(value)])
            default:
                throw ConnectorError.invalidArgument("Redmine cannot write \(key) = \(value)")
            }
        }
        if !customFields.isEmpty { issue["custom_fields"] = .array(customFields) }
        return issue
    }

    static func customFieldValue(_ value: FieldValue) -> JSONValue {
        switch value {
        case .null: ""
        case .string(let s), .select(let s), .location(let s), .richText(let s, _): .string(s)
        case .multiSelect(let values): .array(values.map { .string($0) })
        case .boolean(let b): .string(b ? "1" : "0")
        case .date(let d): .string(d.description)
        case .long(let n): .string(String(n))
        case .double(let d): .string(String(d))
        case .person(let p): .string(p.id ?? "")
        default: .string("")
        }
    }

    // MARK: - Time

    /// `2026-11-25T15:07:40Z` (UTC, seconds).
    static func parseTime(_ text: String) -> Date? { try? Date(text, strategy: .iso8601) }

    static func formatTime(_ date: Date) -> String {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)).ISO8601Format()
    }

    static func parseDate(_ text: String) -> LocalDate? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        return parts.count == 3 ? LocalDate(year: parts[0], month: parts[1], day: parts[2]) : nil
    }
}
