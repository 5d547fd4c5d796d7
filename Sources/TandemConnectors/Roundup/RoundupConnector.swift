public import Foundation
public import HTTP
public import TandemCore

/// Roundup (REST at `<tracker>/rest/`; tested against a stock Roundup 2.6 classic tracker, with no extra
/// schema property and no extra endpoint).
///
/// - One project (the tracker, named after the last path component of its URL) and one artifact type, `issue`.
/// - Every write carries `Origin` (the tracker's origin) and `X-Requested-With`, Roundup's CSRF defence;
///   every write to an existing item sends `If-Match` with the ETag just read (412 → re-read, retry once).
/// - Messages are comments; the first message is the description. Files are attachments.
/// - The feed filters `activity=<from>;` (Roundup's own date syntax; ISO dates are silently ignored) sorted by
///   `activity,id`, paged with `@page_size`/`@page_index`.
/// - Adding a message to an `unread` issue makes Roundup set it to `chatting`; `addComment` reports that in
///   `WriteResult.changedByRepository`, so the hub does not echo it back as a user's change.
/// - The marker goes into the first message's `messageid` (a stock property), found with `messageid:=`.
/// - Deletion retires the issue: it stays readable by id but leaves every list; `artifact(id:)` checks the
///   list and reports a retired issue as gone.
public struct RoundupConnector: Connector {
    public struct Configuration: Sendable {
        /// The tracker's web URL, e.g. `http://127.0.0.1:8930/lab`.
        public var trackerURL: URL
        public var credentials: Credentials
        public var settings: ConnectionSettings
        public var overlap: TimeInterval

        public init(trackerURL: URL, credentials: Credentials, settings: ConnectionSettings, overlap: TimeInterval = 5) {
            self.trackerURL = trackerURL
            self.credentials = credentials
            self.settings = settings
            self.overlap = overlap
        }
    }

    public let tool = "Roundup"
    public let configuration: Configuration
    let session: RESTSession
    /// The tracker's name, used as the only project id.
    public let project: String
    private let userTimezone = SharedBox<String?>(nil)

    static let feedFields = ["activity", "title", "status", "priority", "assignedto", "nosy", "keyword", "superseder", "messages", "files"]

    public init(_ configuration: Configuration, client: HTTPClient) {
        self.configuration = configuration
        let url = configuration.trackerURL
        self.project = url.lastPathComponent.isEmpty || url.lastPathComponent == "/" ? "tracker" : url.lastPathComponent
        var origin = "\(url.scheme ?? "http")://\(url.host ?? "localhost")"
        if let port = url.port { origin += ":\(port)" }
        self.session = RESTSession(
            client: client, settings: configuration.settings, base: url.appending(path: "rest"), credentials: configuration.credentials,
            tool: "Roundup", headers: [HTTPHeader("Origin", origin), HTTPHeader("X-Requested-With", "tandem")])
    }

    public var capabilities: ConnectorCapabilities { Self.capabilities(overlap: self.configuration.overlap) }

    static func capabilities(overlap: TimeInterval) -> ConnectorCapabilities {
        ConnectorCapabilities(
            comments: true, attachments: true, impersonation: false, relationships: true, transitions: false,
            optimisticConcurrency: true, maxPageSize: 100, timestampPrecision: 1, overlapWindow: overlap,
            rateLimitSignals: ["429", "Retry-After", "X-RateLimit-Reset"], deletion: .retired)
    }

    /// Roundup answers 409 and 400 for values it refuses (UsageError, ValueError): not conflicts to retry.
    private func send(_ request: HTTPRequest) async throws -> (JSONValue, HTTPResponse) {
        do {
            return try await self.session.json(request)
        } catch var error as ConnectorError where error.httpCode == .conflict || error.httpCode == .badRequest {
            error.code = .validation
            error.kind = .permanent
            throw error
        }
    }

    private func get(_ path: String, _ query: [(String, String)] = []) async throws -> (JSONValue, HTTPResponse) {
        try await self.send(self.session.request(.get, path, query: query))
    }

    // MARK: - Connection and schema

    public func testConnection(project: String?) async -> ConnectionTestResult {
        do {
            _ = try await self.get("/data/issue", [("@page_size", "1")])
            let user = self.configuration.credentials.username.map { Person(username: $0) }
            guard let project else { return ConnectionTestResult(reachable: true, authenticated: true, projectFound: nil, user: user) }
            let found = project == self.project
            return ConnectionTestResult(
                reachable: true, authenticated: true, projectFound: found, user: user,
                error: found
                    ? nil
                    : ConnectorError(
                        .projectNotFound, kind: .needsAttention,
                        message: "Roundup tracker \(self.project) has no project \(project) (its only project is \(self.project))"))
        } catch let error as ConnectorError {
            return .failed(error)
        } catch {
            return .failed(ConnectorError(.unavailable, kind: .transient, message: "\(error)"))
        }
    }

    public func repositoryTime() async throws -> Date {
        let (json, response) = try await self.get("/data/issue", [("@fields", "activity"), ("@sort", "-activity"), ("@page_size", "1")])
        if let date = response.date { return date }
        // No Date header (a proxy may strip it): the newest activity is still the tracker's own clock.
        let newest = json["data"]?["collection"]?[0]?["activity"]?.string.flatMap(Self.parseTime)
        return newest ?? Date(timeIntervalSince1970: 0)
    }

    public func projects() async throws -> [ProjectInfo] {
        _ = try await self.get("/data/issue", [("@page_size", "1")])
        return [ProjectInfo(id: self.project, name: self.project)]
    }

    public func artifactTypes(project: String) async throws -> [ArtifactTypeInfo] {
        try self.checkProject(project)
        return [ArtifactTypeInfo(id: "issue", name: "Issue")]
    }

    private func checkProject(_ project: String) throws {
        guard project == self.project else {
            throw ConnectorError(.projectNotFound, kind: .needsAttention, message: "Roundup tracker has no project \(project)")
        }
    }

    public func fields(project: String, artifactType: String) async throws -> [FieldDescriptor] {
        try self.checkProject(project)
        func options(_ className: String, orderBy: String?) async throws -> [FieldOption] {
            var query = [("@fields", "name")]
            if let orderBy { query.append(("@sort", orderBy)) }
            let (json, _) = try await self.get("/data/\(className)", query)
            let items = try self.session.decode { () throws(HTTPError) in
                try json.require("data", in: className).requireArray("collection", in: className)
            }
            return items.compactMap { item in
                guard let id = item["id"]?.idString, let name = item["name"]?.string else { return nil }
                return FieldOption(id: id, name: name, isClosed: className == "status" && name == "resolved")
            }
        }
        return [
            FieldDescriptor(id: "title", name: "Title", type: .string, required: true),
            FieldDescriptor(id: "description", name: "Description (first message)", type: .richText),
            FieldDescriptor(id: "status", name: "Status", type: .singleSelect, options: try await options("status", orderBy: "order")),
            FieldDescriptor(id: "priority", name: "Priority", type: .singleSelect, options: try await options("priority", orderBy: "order")),
            FieldDescriptor(id: "assignedto", name: "Assigned to", type: .person),
            FieldDescriptor(id: "nosy", name: "Nosy list", type: .persons, multiple: true),
            FieldDescriptor(id: "keyword", name: "Keywords", type: .multiSelect, options: try await options("keyword", orderBy: nil), multiple: true),
            FieldDescriptor(id: "superseder", name: "Superseded by", type: .relationships, multiple: true),
            FieldDescriptor(id: "creator", name: "Creator", type: .person, readOnly: true),
        ]
    }

    // MARK: - Change feed

    public func cursor(startingAt time: Date) -> FeedCursor { ChangeFeedWindow.cursor(startingAt: time) }

    public func changes(project: String, since cursor: FeedCursor?, pageSize: Int) async throws -> ChangePage {
        try self.checkProject(project)
        return try await ChangeFeedWindow.read(
            cursor: cursor, pageSize: pageSize, overlap: self.configuration.overlap,
            resolution: self.capabilities.timestampPrecision, remotePageSize: 100, tool: self.tool
        ) { from, offset, limit in
            var query = [
                ("@fields", Self.feedFields.joined(separator: ",")), ("@sort", "activity,id"), ("@page_size", "\(limit)"),
                ("@page_index", "\(offset / limit + 1)"),
            ]
            // Roundup's own date syntax with ";" (from, open-ended); anything else is silently ignored. The
            // filter is read in the API user's timezone (output is UTC), so shift the bound into it.
            var bound = "1970-01-01.00:00:00"
            if let from { bound = Self.formatTime(from.addingTimeInterval(try await self.userOffset(at: from))) }
            query.append(("activity", bound + ";"))
            let (json, response) = try await self.get("/data/issue", query)
            let entries = try self.session.decode { () throws(HTTPError) in
                let data = try json.require("data", in: "issue list")
                return try data.requireArray("collection", in: "issue list").map { item throws(HTTPError) in
                    try Self.feedEntry(id: try item.requireID("id", in: "issue"), attributes: item)
                }
            }
            let total = json["data"]?["@total_size"]?.int ?? -1
            return .init(
                entries: entries, isLast: entries.count < limit || (total >= 0 && offset + entries.count >= total),
                repositoryTime: response.date)
        }
    }

    /// The API user's timezone offset in seconds (Roundup's `user.timezone`: hours like `5` or `-3.5`, or a
    /// zone name); 0 when unset. Read once per connector.
    func userOffset(at date: Date) async throws -> TimeInterval {
        let zone: String
        if let cached = self.userTimezone.withLock({ $0 }) {
            zone = cached
        } else {
            var query = [("@fields", "timezone")]
            if let user = self.configuration.credentials.username { query.append(("username:", user)) }
            let (json, _) = try await self.get("/data/user", query)
            let users = json["data"]?["collection"]?.array ?? []
            let mine = users.count == 1 ? users[0] : users.first { $0["username"]?.string == self.configuration.credentials.username }
            zone = mine?["timezone"]?.string ?? ""
            self.userTimezone.withLock { $0 = zone }
        }
        if let hours = Double(zone) { return hours * 3600 }
        return TimeInterval(TimeZone(identifier: zone)?.secondsFromGMT(for: date) ?? 0)
    }

    static func feedEntry(id: String, attributes: JSONValue) throws(HTTPError) -> ChangedArtifact {
        let text = try attributes.requireString("activity", in: "issue\(id)")
        guard let updated = Self.parseTime(text) else { throw .invalidResponse("issue\(id): bad activity \(text)") }
        var picked: [String: JSONValue] = ["id": .string(id)]
        for key in Self.feedFields { picked[key] = Self.ids(attributes[key] ?? .null) }
        return ChangedArtifact(id: id, updated: updated, version: text + "/" + Fingerprint.of(.object(picked)))
    }

    /// Links reduced to their ids, so list rows and verbose reads fingerprint alike.
    static func ids(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object): object["id"].map { .string($0.idString ?? "") } ?? value
        case .array(let items): .array(items.map(Self.ids))
        default: value
        }
    }

    // MARK: - Read

    struct IssueState {
        var attributes: JSONValue
        var etag: String
        var entry: ChangedArtifact
    }

    func readIssue(_ id: String) async throws -> IssueState {
        guard Int(id) != nil else { throw ConnectorError.invalidArgument("Roundup issue ids are numbers: \(id)") }
        let fields = (Self.feedFields + ["creation", "creator", "actor"]).joined(separator: ",")
        let json: JSONValue
        let response: HTTPResponse
        do {
            (json, response) = try await self.get("/data/issue/\(id)", [("@fields", fields), ("@verbose", "2")])
        } catch let error as ConnectorError where error.code == .notFound {
            throw ConnectorError.gone(id, tool: self.tool)
        }
        return try self.session.decode { () throws(HTTPError) in
            let data = try json.require("data", in: "issue\(id)")
            let attributes = try data.require("attributes", in: "issue\(id)")
            guard let etag = response.header("ETag") ?? data["@etag"]?.string else { throw .invalidResponse("issue\(id): no ETag") }
            return IssueState(attributes: attributes, etag: etag, entry: try Self.feedEntry(id: id, attributes: attributes))
        }
    }

    /// Retired issues stay readable by id but leave every list.
    private func isRetired(_ id: String) async throws -> Bool {
        let (json, _) = try await self.get("/data/issue", [("id", id), ("@fields", "id")])
        let items = json["data"]?["collection"]?.array ?? []
        return !items.contains { $0["id"]?.idString == id }
    }

    public func artifact(id: String) async throws -> RepositoryArtifact {
        let state = try await self.readIssue(id)
        if try await self.isRetired(id) { throw ConnectorError.gone(id, tool: self.tool) }
        let a = state.attributes
        var fields = Self.fields(from: a)
        var messages: [RepositoryComment] = []
        var messageIDs: [String: String] = [:]
        for message in a["messages"]?.array ?? [] {
            guard let messageID = message["id"]?.idString else { continue }
            let (json, _) = try await self.get(
                "/data/msg/\(messageID)", [("@fields", "content,author,date,creation,messageid"), ("@verbose", "3")])
            let attributes = json["data"]?["attributes"]
            if let header = attributes?["messageid"]?.string { messageIDs[messageID] = header }
            messages.append(
                RepositoryComment(
                    id: messageID, author: attributes?["author"].flatMap(Self.person),
                    created: (attributes?["date"]?.string ?? attributes?["creation"]?.string).flatMap(Self.parseTime),
                    text: attributes?["content"]?.string ?? ""))
        }
        messages.sort { (Int($0.id) ?? 0) < (Int($1.id) ?? 0) }
        fields["description"] = messages.first.map { .richText($0.text, markup: .plain) } ?? .null

        var attachments: [AttachmentInfo] = []
        for file in a["files"]?.array ?? [] {
            guard let fileID = file["id"]?.idString else { continue }
            let (json, _) = try await self.get("/data/file/\(fileID)", [("@fields", "name,type,creation,creator"), ("@verbose", "2")])
            let attributes = json["data"]?["attributes"]
            attachments.append(
                AttachmentInfo(
                    id: fileID, filename: attributes?["name"]?.string ?? "file\(fileID)", contentType: attributes?["type"]?.string, size: nil,
                    created: attributes?["creation"]?.string.flatMap(Self.parseTime), author: attributes?["creator"].flatMap(Self.person),
                    url: self.session.url("/data/file/\(fileID)/binary_content").absoluteString))
        }
        return RepositoryArtifact(
            id: id, formattedID: "issue\(id)", url: self.configuration.trackerURL.appending(path: "issue\(id)").absoluteString,
            project: self.project, artifactType: "issue", created: a["creation"]?.string.flatMap(Self.parseTime),
            updated: state.entry.updated, version: state.entry.version, fields: fields, comments: Array(messages.dropFirst()),
            attachments: attachments, marker: messages.first.flatMap { messageIDs[$0.id] }.flatMap(Self.marker(fromMessageID:)))
    }

    /// The issue's properties (verbose read) as field values; the description is added by `artifact(id:)`.
    static func fields(from a: JSONValue) -> [String: FieldValue] {
        var fields: [String: FieldValue] = [:]
        fields["title"] = a["title"]?.string.map { .string($0) } ?? .null
        fields["status"] = a["status"]?["name"]?.string.map { .select($0) } ?? .null
        fields["priority"] = a["priority"]?["name"]?.string.map { .select($0) } ?? .null
        fields["assignedto"] = a["assignedto"].flatMap(Self.person).map { .person($0) } ?? .null
        fields["creator"] = a["creator"].flatMap(Self.person).map { .person($0) } ?? .null
        fields["nosy"] = .persons((a["nosy"]?.array ?? []).compactMap(Self.person))
        fields["keyword"] = .multiSelect((a["keyword"]?.array ?? []).compactMap { $0["name"]?.string })
        fields["superseder"] = .relationships(
            (a["superseder"]?.array ?? []).compactMap { $0["id"]?.idString.map { ArtifactReference(id: $0) } })
        return fields
    }

    /// Fields that differ between two reads and that the write did not set: Roundup's own doing (detectors
    /// and reactors: unread -> chatting on a new message, the author joining the nosy list, ...).
    static func changedByRepository(before: JSONValue?, after: JSONValue, written: Set<String>) -> [String: FieldValue] {
        let old = before.map(Self.fields(from:)) ?? [:]
        var changed: [String: FieldValue] = [:]
        for (key, value) in Self.fields(from: after) where key != "creator" && !written.contains(key) && old[key] != value {
            if before == nil, value == .null || value == .persons([]) || value == .multiSelect([]) || value == .relationships([]) {
                continue  // on create: only what the repository filled in
            }
            changed[key] = value
        }
        return changed
    }

    static func person(_ json: JSONValue) -> Person? {
        guard let id = json["id"]?.idString else { return nil }
        return Person(id: id, username: json["username"]?.string)
    }

    // MARK: - Write

    public func createArtifact(_ draft: ArtifactDraft) async throws -> WriteResult {
        try self.checkProject(draft.project)
        var fields = draft.fields
        let description = fields.removeValue(forKey: "description")
        var issue = try Self.payload(fields)
        guard case .string(let title)? = issue["title"], !title.isEmpty else {
            throw ConnectorError(.validation, kind: .permanent, message: "Roundup issues need a title")
        }
        // The first message is the description (and carries the marker); Roundup refuses empty messages.
        var content = title
        if case .richText(let text, _)? = description, !text.isEmpty { content = text }
        if case .string(let text)? = description, !text.isEmpty { content = text }
        let messageID = try await self.createMessage(content, messageID: draft.marker.map(Self.messageID))
        issue["messages"] = [.string(messageID)]
        let (json, _) = try await self.send(self.session.request(.post, "/data/issue", json: .object(issue)))
        let id = try self.session.decode { () throws(HTTPError) in try json.require("data", in: "created issue").requireID("id", in: "created issue")
        }
        let state = try await self.readIssue(id)
        return WriteResult(
            artifactID: id, updated: state.entry.updated, version: state.entry.version,
            changedByRepository: Self.changedByRepository(before: nil, after: state.attributes, written: Set(issue.keys)))
    }

    private func createMessage(_ content: String, messageID: String? = nil) async throws -> String {
        var message: [String: JSONValue] = ["content": .string(content), "date": "."]
        if let user = self.configuration.credentials.username { message["author"] = .string(user) }
        if let messageID { message["messageid"] = .string(messageID) }
        let (json, _) = try await self.send(self.session.request(.post, "/data/msg", json: .object(message)))
        return try self.session.decode { () throws(HTTPError) in try json.require("data", in: "created msg").requireID("id", in: "created msg") }
    }

    static func messageID(_ marker: String) -> String { "<\(marker)@tandem>" }
    /// The marker inside a message id made by `messageID(_:)`; nil for any other message id.
    static func marker(fromMessageID header: String) -> String? {
        guard header.hasPrefix("<"), header.hasSuffix("@tandem>"), header.count > 9 else { return nil }
        return String(header.dropFirst().dropLast("@tandem>".count))
    }

    public func updateFields(id: String, _ fields: [String: FieldValue]) async throws -> WriteResult {
        if fields.keys.contains("description") {
            throw ConnectorError.unsupported("Roundup's description is the first message, which cannot be changed")
        }
        let body = JSONValue.object(try Self.payload(fields))
        return try await self.write(id, .put, body).result
    }

    public func addComment(id: String, text: String) async throws -> WriteResult {
        guard !text.isEmpty else { throw ConnectorError(.validation, kind: .permanent, message: "Roundup refuses empty messages") }
        let messageID = try await self.createMessage(text)
        var (result, _) = try await self.write(id, .patch, ["@op": "add", "messages": [.string(messageID)]])
        result.itemID = messageID
        return result
    }

    public func uploadAttachment(id: String, filename: String, contentType: String, data: Data) async throws -> WriteResult {
        var form = MultipartForm()
        form.addField("name", filename)
        form.addField("type", contentType)
        form.addFile("content", filename: filename, contentType: contentType, data: data)
        let (json, _) = try await self.send(
            self.session.request(.post, "/data/file", body: form.encoded(), contentType: form.contentType))
        let fileID = try self.session.decode { () throws(HTTPError) in
            try json.require("data", in: "created file").requireID("id", in: "created file")
        }
        var (result, _) = try await self.write(id, .patch, ["@op": "add", "files": [.string(fileID)]])
        result.itemID = fileID
        return result
    }

    /// `GET /rest/data/file/<id>/binary_content` with `Accept: application/octet-stream` (with `application/json`
    /// Roundup wraps the bytes in a JSON string). Files outlive their issue, so the issue is read first: a retired
    /// issue, or a file no longer in its `files`, is `artifactGone`.
    public func attachmentContent(artifactID: String, attachment: AttachmentInfo) async throws -> Data {
        guard Int(attachment.id) != nil else { throw ConnectorError.invalidArgument("Roundup file ids are numbers: \(attachment.id)") }
        let state = try await self.readIssue(artifactID)
        if try await self.isRetired(artifactID) { throw ConnectorError.gone(artifactID, tool: self.tool) }
        let files = (state.attributes["files"]?.array ?? []).compactMap { $0["id"]?.idString ?? $0.idString }
        guard files.contains(attachment.id) else {
            throw ConnectorError(.artifactGone, kind: .permanent, message: "Roundup file\(attachment.id) is no longer on issue\(artifactID)")
        }
        let request = self.session.request(
            .get, "/data/file/\(attachment.id)/binary_content", headers: [HTTPHeader("Accept", "application/octet-stream")])
        let response: HTTPResponse
        do {
            response = try await self.session.send(request)
        } catch let error as ConnectorError where error.code == .notFound {
            throw ConnectorError(.artifactGone, kind: .permanent, message: "Roundup file\(attachment.id) no longer exists")
        }
        return try Self.attachmentBytes(response, attachment: attachment, request: request.description)
    }

    /// The bytes of a `binary_content` answer (2xx or 3xx; failures were classified already).
    static func attachmentBytes(_ response: HTTPResponse, attachment: AttachmentInfo, request: String) throws(ConnectorError) -> Data {
        guard response.isSuccess else {
            throw ConnectorError(
                .invalidResponse, kind: .permanent, message: "Roundup answered HTTP \(response.status) to \(request)", status: response.status)
        }
        if response.mediaType == "application/json", attachment.contentType?.lowercased() != "application/json" {
            throw ConnectorError(
                .invalidResponse, kind: .permanent, message: "Roundup answered JSON instead of the bytes of file\(attachment.id) (\(request))")
        }
        return response.body
    }

    public func applyTransition(id: String, to status: String) async throws -> WriteResult {
        try await self.updateFields(id: id, ["status": .select(status)])
    }

    /// Roundup's messages (the description is the first) are plain text, shown and mailed as they are.
    public func textMarkups(projects: [String]) async throws -> TextMarkups? { TextMarkups(.plain, fields: ["description"]) }

    public func deleteArtifact(id: String) async throws {
        _ = try await self.write(id, .delete, nil, readBack: false)
    }

    public func findByMarker(project: String, marker: String, createdSince: Date?) async throws -> [String] {
        try self.checkProject(project)
        let (messages, _) = try await self.get("/data/msg", [("messageid:", Self.messageID(marker)), ("@fields", "messageid")])
        var ids: [String] = []
        for message in messages["data"]?["collection"]?.array ?? [] where message["messageid"]?.string == Self.messageID(marker) {
            guard let messageID = message["id"]?.idString else { continue }
            let (issues, _) = try await self.get("/data/issue", [("messages", messageID), ("@fields", "id")])
            ids += (issues["data"]?["collection"]?.array ?? []).compactMap { $0["id"]?.idString }
        }
        return Array(Set(ids)).sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }
    }

    /// A write to an existing issue: read its ETag, send with `If-Match`; on 412 (changed meanwhile) read
    /// again and retry once. Returns the result (state read back) and the state before the write.
    private func write(
        _ id: String, _ method: HTTPMethod, _ body: JSONValue?, readBack: Bool = true
    ) async throws
        -> (result: WriteResult, before: IssueState)
    {
        var attempt = 0
        while true {
            attempt += 1
            let before = try await self.readIssue(id)
            if try await self.isRetired(id) { throw ConnectorError.gone(id, tool: self.tool) }
            do {
                _ = try await self.send(
                    self.session.request(
                        method, "/data/issue/\(id)", json: body, headers: [HTTPHeader("If-Match", before.etag)]))
            } catch let error as ConnectorError where error.httpCode == .preconditionFailed && attempt < 2 {
                continue
            }
            guard readBack else { return (WriteResult(artifactID: id, updated: before.entry.updated, version: before.entry.version), before) }
            let after = try await self.readIssue(id)
            let written = Set(body?.object?.keys.map { $0 } ?? [])
            let changed = Self.changedByRepository(before: before.attributes, after: after.attributes, written: written)
            return (WriteResult(artifactID: id, updated: after.entry.updated, version: after.entry.version, changedByRepository: changed), before)
        }
    }

    /// Field values → Roundup properties (links by key name or id).
    static func payload(_ fields: [String: FieldValue]) throws -> [String: JSONValue] {
        var body: [String: JSONValue] = [:]
        func person(_ p: Person) throws -> JSONValue {
            guard let key = p.username ?? p.id else { throw ConnectorError.invalidArgument("Roundup users need a username or id") }
            return .string(key)
        }
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            switch (key, value) {
            case ("title", .string(let text)): body["title"] = .string(text)
            case ("status", .select(let name)), ("priority", .select(let name)): body[key] = .string(name)
            case ("priority", .null), ("assignedto", .null): body[key] = .null
            case ("assignedto", .person(let p)): body[key] = try person(p)
            case ("nosy", .persons(let people)): body[key] = .array(try people.map(person))
            case ("keyword", .multiSelect(let names)): body[key] = .array(names.map { .string($0) })
            case ("superseder", .relationships(let refs)): body[key] = .array(refs.map { .string($0.id) })
            default: throw ConnectorError.invalidArgument("Roundup cannot write \(key) = \(value)")
            }
        }
        return body
    }

    // MARK: - Time

    private static func formatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd.HH:mm:ss"
        return formatter
    }

    /// `2026-11-25.15:10:07` (UTC; fractions ignored).
    static func parseTime(_ text: String) -> Date? {
        Self.formatter().date(from: String(text.prefix(19)))
    }

    static func formatTime(_ date: Date) -> String {
        Self.formatter().string(from: Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)))
    }
}
