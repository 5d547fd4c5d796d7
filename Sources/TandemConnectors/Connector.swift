public import Foundation
public import TandemCore

/// One repository (a tracker instance), as the hub sees it. Every call either succeeds or throws a
/// `ConnectorError`; implementations never crash on bad answers and never skip silently.
///
/// Field values use `FieldValue`; select values are option names (see `FieldDescriptor.options`).
public protocol Connector: Sendable {
    /// The tool's name, used in messages ("Redmine").
    var tool: String { get }
    var capabilities: ConnectorCapabilities { get }

    /// Reachable, credentials accepted, and (when given) the project exists. Never throws.
    func testConnection(project: String?) async -> ConnectionTestResult
    /// The repository's clock now (from its `Date` header); feeds never use the local clock.
    func repositoryTime() async throws -> Date

    func projects() async throws -> [ProjectInfo]
    func artifactTypes(project: String) async throws -> [ArtifactTypeInfo]
    /// The fields of a type with their types and options (schema discovery).
    func fields(project: String, artifactType: String) async throws -> [FieldDescriptor]
    /// The id of the artifact type a collection names: the id itself, or, where the tool names its types (Redmine's
    /// trackers), the name. An unknown name is a configuration error that needs attention. The default: the id as given.
    func artifactTypeID(_ configured: String) async throws -> String

    /// The artifacts changed after `cursor` (nil: from the beginning), at most `pageSize`, ordered by
    /// (updated, id). The connector re-reads an overlap window behind the cursor and drops what the cursor
    /// already delivered, so an entry is delivered once per version, even when many share a second.
    func changes(project: String, since cursor: FeedCursor?, pageSize: Int) async throws -> ChangePage
    /// A cursor whose feed starts at `time` (a repository time, e.g. from `repositoryTime()`).
    func cursor(startingAt time: Date) -> FeedCursor

    /// Fields, comments and attachment metadata, and the marker it was created with (required of every connector that
    /// creates: a twin whose pair is not recorded yet must be recognisable). Throws `artifactGone` for a deleted artifact.
    func artifact(id: String) async throws -> RepositoryArtifact
    func createArtifact(_ draft: ArtifactDraft) async throws -> WriteResult
    func updateFields(id: String, _ fields: [String: FieldValue]) async throws -> WriteResult
    func addComment(id: String, text: String) async throws -> WriteResult
    func uploadAttachment(id: String, filename: String, contentType: String, data: Data) async throws -> WriteResult
    /// The bytes of an attachment that `artifact(id:)` listed. Throws `artifactGone` when it is gone.
    func attachmentContent(artifactID: String, attachment: AttachmentInfo) async throws -> Data
    /// Moves the artifact to a status (by option name), through the tool's workflow where it has one.
    func applyTransition(id: String, to status: String) async throws -> WriteResult
    /// Artifacts of a project created with this marker (`ArtifactDraft.marker`).
    /// `createdSince`: when the first attempt to create it began, if known (the twin cannot be older): a tool that has
    /// to search by time for the marker searches from there (minus its clock's slack) rather than a fixed window.
    func findByMarker(project: String, marker: String, createdSince: Date?) async throws -> [String]
    /// Deletes (or retires) an artifact.
    func deleteArtifact(id: String) async throws
    /// The markups its text is written in — of its rich-text fields and its comments (DESIGN §6.10). Text written to
    /// it is converted into them, and only when it comes in another markup. nil (the default): values keep their own
    /// markup (a store that keeps any, like the in-memory repositories).
    func textMarkups(projects: [String]) async throws -> TextMarkups?
    /// Records on an artifact where its twin is (the other side's key and URL), where the tool keeps such links (Jira's
    /// remote links). Writing the same link again changes nothing. The default: the tool keeps none.
    func linkTwin(id: String, twin: TwinLink) async throws
    /// The people who may hold a person field of the project's artifacts (assignable users, members), with every
    /// identifier the tool shows (id, user name, e-mail, display name): persons written there are matched among them.
    /// nil (the default): the tool cannot list them, and persons are written as they come.
    func people(project: String) async throws -> [Person]?
}

/// The other side of a pair, as a link written on an artifact.
public struct TwinLink: Sendable, Hashable {
    /// As people write it (`PROJ-12`, `#12`).
    public var key: String
    public var url: String?
    public init(key: String, url: String?) {
        self.key = key
        self.url = url
    }
}

/// Defaults for what a tool may lack. A tool without comments, attachments, a workflow or deletion keeps these and
/// says so in its capabilities; the defaults refuse with a permanent `unsupported` error naming the tool, never a
/// silent success.
extension Connector {
    public func textMarkups(projects: [String]) async throws -> TextMarkups? { nil }
    public func artifactTypeID(_ configured: String) async throws -> String { configured }
    /// The twin's search without a creation time.
    public func findByMarker(project: String, marker: String) async throws -> [String] {
        try await self.findByMarker(project: project, marker: marker, createdSince: nil)
    }
    public func linkTwin(id: String, twin: TwinLink) async throws {}
    public func people(project: String) async throws -> [Person]? { nil }

    public func addComment(id: String, text: String) async throws -> WriteResult {
        throw ConnectorError.unsupported("\(self.tool) has no comments")
    }

    public func uploadAttachment(id: String, filename: String, contentType: String, data: Data) async throws -> WriteResult {
        throw ConnectorError.unsupported("\(self.tool) has no attachments: \(filename) cannot be added to \(id)")
    }

    public func attachmentContent(artifactID: String, attachment: AttachmentInfo) async throws -> Data {
        throw ConnectorError.unsupported("\(self.tool) has no attachments")
    }

    /// Without a workflow, a status is a field like any other.
    public func applyTransition(id: String, to status: String) async throws -> WriteResult {
        try await self.updateFields(id: id, ["status": .select(status)])
    }

    public func deleteArtifact(id: String) async throws {
        throw ConnectorError.unsupported("\(self.tool) cannot delete \(id)")
    }
}
