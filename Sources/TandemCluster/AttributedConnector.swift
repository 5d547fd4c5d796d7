public import Foundation
public import TandemConnectors
public import TandemCore

/// A connector whose failures name the repository they came from (`ConnectorError.repository`): a sync talks to two
/// repositories, and a rejected credential, a pause and a blocker belong to the one that failed, not to the job's.
public struct AttributedConnector: Connector {
    public let base: any Connector
    public let repository: String

    public init(_ base: any Connector, repository: String) {
        self.base = base
        self.repository = repository
    }

    func attributed<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch var error as ConnectorError {
            if error.repository == nil { error.repository = self.repository }
            throw error
        }
    }

    public var tool: String { self.base.tool }
    public var capabilities: ConnectorCapabilities { self.base.capabilities }

    public func testConnection(project: String?) async -> ConnectionTestResult {
        var result = await self.base.testConnection(project: project)
        if result.error?.repository == nil { result.error?.repository = self.repository }
        return result
    }
    public func repositoryTime() async throws -> Date { try await self.attributed { try await self.base.repositoryTime() } }
    public func projects() async throws -> [ProjectInfo] { try await self.attributed { try await self.base.projects() } }
    public func artifactTypes(project: String) async throws -> [ArtifactTypeInfo] {
        try await self.attributed { try await self.base.artifactTypes(project: project) }
    }
    public func fields(project: String, artifactType: String) async throws -> [FieldDescriptor] {
        try await self.attributed { try await self.base.fields(project: project, artifactType: artifactType) }
    }
    public func artifactTypeID(_ configured: String) async throws -> String {
        try await self.attributed { try await self.base.artifactTypeID(configured) }
    }
    public func changes(project: String, since cursor: FeedCursor?, pageSize: Int) async throws -> ChangePage {
        try await self.attributed { try await self.base.changes(project: project, since: cursor, pageSize: pageSize) }
    }
    public func cursor(startingAt time: Date) -> FeedCursor { self.base.cursor(startingAt: time) }
    public func artifact(id: String) async throws -> RepositoryArtifact { try await self.attributed { try await self.base.artifact(id: id) } }
    public func createArtifact(_ draft: ArtifactDraft) async throws -> WriteResult {
        try await self.attributed { try await self.base.createArtifact(draft) }
    }
    public func updateFields(id: String, _ fields: [String: FieldValue]) async throws -> WriteResult {
        try await self.attributed { try await self.base.updateFields(id: id, fields) }
    }
    public func addComment(id: String, text: String) async throws -> WriteResult {
        try await self.attributed { try await self.base.addComment(id: id, text: text) }
    }
    public func uploadAttachment(id: String, filename: String, contentType: String, data: Data) async throws -> WriteResult {
        try await self.attributed { try await self.base.uploadAttachment(id: id, filename: filename, contentType: contentType, data: data) }
    }
    public func attachmentContent(artifactID: String, attachment: AttachmentInfo) async throws -> Data {
        try await self.attributed { try await self.base.attachmentContent(artifactID: artifactID, attachment: attachment) }
    }
    public func applyTransition(id: String, to status: String) async throws -> WriteResult {
        try await self.attributed { try await self.base.applyTransition(id: id, to: status) }
    }
    public func findByMarker(project: String, marker: String, createdSince: Date?) async throws -> [String] {
        try await self.attributed { try await self.base.findByMarker(project: project, marker: marker, createdSince: createdSince) }
    }
    public func deleteArtifact(id: String) async throws { try await self.attributed { try await self.base.deleteArtifact(id: id) } }
    public func textMarkups(projects: [String]) async throws -> TextMarkups? {
        try await self.attributed { try await self.base.textMarkups(projects: projects) }
    }
    // Every requirement with a default in `Connector` must be forwarded here too, or the wrapped tool's own
    // implementation is silently replaced by the default (linkTwin was: no Jira remote link was ever written).
    public func linkTwin(id: String, twin: TwinLink) async throws {
        try await self.attributed { try await self.base.linkTwin(id: id, twin: twin) }
    }
    public func people(project: String) async throws -> [Person]? {
        try await self.attributed { try await self.base.people(project: project) }
    }
}
