public import Foundation
import HTTP
public import TandemCore

/// A repository held in memory, with the same behaviour contract as the real connectors: coarse timestamps
/// (whole seconds by default), a feed ordered by (updated, id) with overlap and de-duplication, comments,
/// attachments, markers, deletion reported as gone, and credentials that can be rejected. For fast tests and
/// sync benchmarks.
public actor InMemoryRepository {
    public static let statuses = ["open", "in-progress", "done"]
    public static let priorities = ["low", "normal", "high"]

    struct Item {
        var project: String
        var type: String
        var marker: String?
        var fields: [String: FieldValue]
        var comments: [RepositoryComment] = []
        var attachments: [AttachmentInfo] = []
        /// The uploaded bytes, by attachment id.
        var contents: [String: Data] = [:]
        var created: Date
        var updated: Date
        var revision = 1
    }

    let projects: [String]
    let acceptedCredentials: Credentials
    private let now: @Sendable () -> Date
    private let precision: TimeInterval
    /// Whether `artifact(id:)` lists attachment sizes (Roundup's does not).
    let listsAttachmentSizes: Bool
    let keepsTwinLinks: Bool
    /// The links to twins per artifact id, when the repository keeps them: like a remote link, not a field (the
    /// artifact's revision and update time stay), and writing the same link again changes nothing.
    public private(set) var twinLinks: [String: [TwinLink]] = [:]
    private var items: [Int: Item] = [:]
    private var nextID = 1
    private var nextItemID = 1
    /// Writes served so far (creates, field updates, comments, attachments, deletes): what a test counts to see
    /// that a quiet system makes none.
    public private(set) var writes = 0

    /// A kind of write whose answer can be lost (`loseAnswers`).
    public enum Write: Sendable, Hashable { case comment, attachment }
    /// Answers still to lose, per kind of write.
    private var answersToLose: [Write: Int] = [:]

    /// The next `count` writes of `kind` are applied and then fail as a timeout would: the repository committed, the
    /// caller never heard (what a retry must not write twice).
    public func loseAnswers(to kind: Write, count: Int = 1) { self.answersToLose[kind, default: 0] += count }

    private func answer(_ kind: Write) throws {
        guard let left = self.answersToLose[kind], left > 0 else { return }
        self.answersToLose[kind] = left - 1
        throw ConnectorError(.unavailable, kind: .transient, message: "memory: no answer after the \(kind) was written (injected)")
    }

    /// Creates still to refuse (`refuseCreates`), how many make a burst, and those of the burst waiting for the rest.
    private var createsToRefuse = 0
    private var refusalBurst = 1
    private var refusalsWaiting: [CheckedContinuation<Void, Never>] = []

    /// The next `count` creates are refused (nothing is written) as an unavailable tracker would refuse them, each only
    /// once `together` of them are waiting: every sync of the burst is between its create and its error handling at
    /// the same moment.
    public func refuseCreates(_ count: Int, together: Int) {
        self.createsToRefuse += count
        self.refusalBurst = max(1, together)
    }

    func refuseCreateIfAsked() async throws {
        guard self.createsToRefuse > 0 else { return }
        self.createsToRefuse -= 1
        await withCheckedContinuation { continuation in
            self.refusalsWaiting.append(continuation)
            if self.refusalsWaiting.count >= self.refusalBurst {
                for waiting in self.refusalsWaiting { waiting.resume() }
                self.refusalsWaiting = []
            }
        }
        throw ConnectorError(.unavailable, kind: .transient, message: "memory: create refused (injected)")
    }

    /// The ids of every artifact held, in creation order.
    public var ids: [String] { self.items.keys.sorted().map(String.init) }

    /// - Parameters:
    ///   - now: the repository's clock (inject one for tests); timestamps are truncated to `precision`.
    ///   - listsAttachmentSizes: false to list attachments without their size, as Roundup does.
    ///   - keepsTwinLinks: true to keep the links to twins Tandem writes (as Jira's remote links do), in `twinLinks`.
    public init(
        projects: [String] = ["demo"], acceptedCredentials: Credentials = .none, precision: TimeInterval = 1,
        listsAttachmentSizes: Bool = true, keepsTwinLinks: Bool = false, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.projects = projects
        self.acceptedCredentials = acceptedCredentials
        self.precision = precision
        self.listsAttachmentSizes = listsAttachmentSizes
        self.keepsTwinLinks = keepsTwinLinks
        self.now = now
    }

    /// The repository's clock now, truncated to its precision.
    public var clock: Date {
        let t = self.now().timeIntervalSince1970
        return Date(timeIntervalSince1970: self.precision > 0 ? (t / self.precision).rounded(.down) * self.precision : t)
    }

    func item(_ id: String) throws -> Item {
        guard let key = Int(id), let item = self.items[key] else { throw ConnectorError.gone(id, tool: "memory") }
        return item
    }

    func create(_ draft: ArtifactDraft) throws -> (String, Item) {
        guard self.projects.contains(draft.project) else {
            throw ConnectorError(.projectNotFound, kind: .needsAttention, message: "memory project \(draft.project) not found")
        }
        guard case .string(let title)? = draft.fields["title"], !title.isEmpty else {
            throw ConnectorError(.validation, kind: .permanent, message: "Title cannot be blank")
        }
        var fields = draft.fields
        fields["status"] = fields["status"] ?? .select("open")
        fields["priority"] = fields["priority"] ?? .select("normal")
        try Self.validate(fields)
        let now = self.clock
        let id = self.nextID
        self.nextID += 1
        let item = Item(project: draft.project, type: draft.artifactType, marker: draft.marker, fields: fields, created: now, updated: now)
        self.items[id] = item
        self.writes += 1
        return (String(id), item)
    }

    static func validate(_ fields: [String: FieldValue]) throws {
        for (key, value) in fields {
            switch (key, value) {
            case ("title", .string), ("description", .richText), ("description", .string), ("description", .null),
                ("assignee", .person), ("assignee", .null):
                continue
            case ("status", .select(let name)) where Self.statuses.contains(name): continue
            case ("priority", .select(let name)) where Self.priorities.contains(name): continue
            default: throw ConnectorError(.validation, kind: .permanent, message: "invalid value for \(key): \(value)")
            }
        }
    }

    func mutate(_ id: String, _ change: (inout Item) throws -> Void) throws -> Item {
        var item = try self.item(id)
        try change(&item)
        item.updated = self.clock
        item.revision += 1
        self.items[Int(id)!] = item
        self.writes += 1
        return item
    }

    func addComment(_ id: String, text: String) throws -> (Item, String) {
        let commentID = String(self.nextItemID)
        self.nextItemID += 1
        let now = self.clock
        let item = try self.mutate(id) { $0.comments.append(RepositoryComment(id: commentID, author: nil, created: now, text: text)) }
        try self.answer(.comment)
        return (item, commentID)
    }

    func addAttachment(_ id: String, filename: String, contentType: String, data: Data) throws -> (Item, String) {
        let attachmentID = String(self.nextItemID)
        self.nextItemID += 1
        let now = self.clock
        let item = try self.mutate(id) {
            $0.attachments.append(
                AttachmentInfo(
                    id: attachmentID, filename: filename, contentType: contentType, size: data.count, created: now, author: nil, url: nil))
            $0.contents[attachmentID] = data
        }
        try self.answer(.attachment)
        return (item, attachmentID)
    }

    /// The bytes of an attachment; a deleted artifact or an attachment it does not hold is gone.
    func attachmentContent(_ id: String, attachmentID: String) throws -> Data {
        let item = try self.item(id)
        guard let data = item.contents[attachmentID] else {
            throw ConnectorError(.artifactGone, kind: .permanent, message: "memory attachment \(attachmentID) of \(id) no longer exists")
        }
        return data
    }

    func delete(_ id: String) throws {
        _ = try self.item(id)
        self.items[Int(id)!] = nil
        self.writes += 1
    }

    func link(_ id: String, to twin: TwinLink) throws {
        _ = try self.item(id)
        guard self.keepsTwinLinks, self.twinLinks[id]?.contains(twin) != true else { return }
        self.twinLinks[id, default: []].removeAll { $0.key == twin.key }
        self.twinLinks[id, default: []].append(twin)
        self.writes += 1
    }

    func find(project: String, marker: String) -> [String] {
        self.items.filter { $0.value.project == project && $0.value.marker == marker }.keys.sorted().map(String.init)
    }

    /// Artifacts held, per project.
    public var artifactsPerProject: [String: Int] {
        self.items.values.reduce(into: [:]) { counts, item in counts[item.project, default: 0] += 1 }
    }

    /// The feed as a repository would serve it: updated ≥ from, ordered by (updated, id), offset-paged.
    public func feed(project: String, from: Date?, offset: Int, limit: Int) -> (entries: [ChangedArtifact], isLast: Bool) {
        let all = self.items.filter { $0.value.project == project && (from == nil || $0.value.updated >= from!) }
            .sorted { ($0.value.updated, $0.key) < ($1.value.updated, $1.key) }
            .map { ChangedArtifact(id: String($0.key), updated: $0.value.updated, version: Self.version($0.value)) }
        let page = Array(all.dropFirst(offset).prefix(limit))
        return (page, offset + page.count >= all.count)
    }

    static func version(_ item: Item) -> String { "r\(item.revision)" }
}

/// A connector over an `InMemoryRepository`; several connectors (with different credentials) may share one.
public struct InMemoryConnector: Connector {
    public let tool = "memory"
    public let repository: InMemoryRepository
    public let credentials: Credentials

    public init(repository: InMemoryRepository, credentials: Credentials = .none) {
        self.repository = repository
        self.credentials = credentials
    }

    public var capabilities: ConnectorCapabilities { Self.staticCapabilities }

    static let staticCapabilities = ConnectorCapabilities(
        comments: true, attachments: true, impersonation: false, relationships: false, transitions: true,
        optimisticConcurrency: false, maxPageSize: 50, timestampPrecision: 1, overlapWindow: 2,
        rateLimitSignals: [], deletion: .notFoundOnRead)

    private func authenticate() async throws {
        guard self.repository.acceptedCredentials == self.credentials else {
            throw ConnectorError(.credentialsRejected, kind: .needsAttention, message: "memory rejected the credentials", status: 401)
        }
    }

    public func testConnection(project: String?) async -> ConnectionTestResult {
        do {
            try await self.authenticate()
        } catch let error as ConnectorError {
            return .failed(error)
        } catch {
            return .failed(ConnectorError(.unavailable, kind: .transient, message: "\(error)"))
        }
        guard let project else { return ConnectionTestResult(reachable: true, authenticated: true, projectFound: nil) }
        let found = self.repository.projects.contains(project)
        return ConnectionTestResult(
            reachable: true, authenticated: true, projectFound: found,
            error: found ? nil : ConnectorError(.projectNotFound, kind: .needsAttention, message: "memory project \(project) not found"))
    }

    public func repositoryTime() async throws -> Date {
        try await self.authenticate()
        return await self.repository.clock
    }

    public func projects() async throws -> [ProjectInfo] {
        try await self.authenticate()
        return self.repository.projects.map { ProjectInfo(id: $0, name: $0) }
    }

    public func artifactTypes(project: String) async throws -> [ArtifactTypeInfo] {
        try await self.authenticate()
        return [ArtifactTypeInfo(id: "task", name: "Task")]
    }

    public func fields(project: String, artifactType: String) async throws -> [FieldDescriptor] {
        try await self.authenticate()
        return [
            FieldDescriptor(id: "title", name: "Title", type: .string, required: true),
            FieldDescriptor(id: "description", name: "Description", type: .richText),
            FieldDescriptor(
                id: "status", name: "Status", type: .singleSelect,
                options: InMemoryRepository.statuses.map { FieldOption(id: $0, name: $0, isClosed: $0 == "done") }),
            FieldDescriptor(
                id: "priority", name: "Priority", type: .singleSelect, options: InMemoryRepository.priorities.map { FieldOption(id: $0, name: $0) }),
            FieldDescriptor(id: "assignee", name: "Assignee", type: .person),
        ]
    }

    public func cursor(startingAt time: Date) -> FeedCursor { ChangeFeedWindow.cursor(startingAt: time) }

    public func changes(project: String, since cursor: FeedCursor?, pageSize: Int) async throws -> ChangePage {
        try await self.authenticate()
        let repository = self.repository
        return try await ChangeFeedWindow.read(
            cursor: cursor, pageSize: pageSize, overlap: self.capabilities.overlapWindow, remotePageSize: self.capabilities.maxPageSize,
            tool: self.tool
        ) { from, offset, limit in
            let page = await repository.feed(project: project, from: from, offset: offset, limit: limit)
            return .init(entries: page.entries, isLast: page.isLast, repositoryTime: await repository.clock)
        }
    }

    public func artifact(id: String) async throws -> RepositoryArtifact {
        try await self.authenticate()
        let item = try await self.repository.item(id)
        return RepositoryArtifact(
            id: id, formattedID: "MEM-\(id)", url: nil, project: item.project, artifactType: item.type, created: item.created,
            updated: item.updated, version: InMemoryRepository.version(item), fields: item.fields, comments: item.comments,
            attachments: item.attachments.map { self.repository.listsAttachmentSizes ? $0 : $0.withoutSize }, marker: item.marker)
    }

    private func result(_ id: String, _ item: InMemoryRepository.Item, itemID: String? = nil) -> WriteResult {
        WriteResult(artifactID: id, itemID: itemID, updated: item.updated, version: InMemoryRepository.version(item))
    }

    public func createArtifact(_ draft: ArtifactDraft) async throws -> WriteResult {
        try await self.authenticate()
        try await self.repository.refuseCreateIfAsked()
        let (id, item) = try await self.repository.create(draft)
        return self.result(id, item)
    }

    public func updateFields(id: String, _ fields: [String: FieldValue]) async throws -> WriteResult {
        try await self.authenticate()
        try InMemoryRepository.validate(fields)
        let item = try await self.repository.mutate(id) { $0.fields.merge(fields) { _, new in new } }
        return self.result(id, item)
    }

    public func addComment(id: String, text: String) async throws -> WriteResult {
        try await self.authenticate()
        let (item, commentID) = try await self.repository.addComment(id, text: text)
        return self.result(id, item, itemID: commentID)
    }

    public func uploadAttachment(id: String, filename: String, contentType: String, data: Data) async throws -> WriteResult {
        try await self.authenticate()
        let (item, attachmentID) = try await self.repository.addAttachment(id, filename: filename, contentType: contentType, data: data)
        return self.result(id, item, itemID: attachmentID)
    }

    public func attachmentContent(artifactID: String, attachment: AttachmentInfo) async throws -> Data {
        try await self.authenticate()
        return try await self.repository.attachmentContent(artifactID, attachmentID: attachment.id)
    }

    public func applyTransition(id: String, to status: String) async throws -> WriteResult {
        try await self.updateFields(id: id, ["status": .select(status)])
    }

    public func findByMarker(project: String, marker: String, createdSince: Date?) async throws -> [String] {
        try await self.authenticate()
        return await self.repository.find(project: project, marker: marker)
    }

    public func deleteArtifact(id: String) async throws {
        try await self.authenticate()
        try await self.repository.delete(id)
    }

    public func linkTwin(id: String, twin: TwinLink) async throws {
        try await self.authenticate()
        try await self.repository.link(id, to: twin)
    }
}

extension AttachmentInfo {
    fileprivate var withoutSize: AttachmentInfo {
        var copy = self
        copy.size = nil
        return copy
    }
}
