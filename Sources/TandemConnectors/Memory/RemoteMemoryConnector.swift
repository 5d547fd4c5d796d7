public import Foundation
public import HTTP
public import TandemCore

/// An in-memory repository served by the repository simulator (`tandem simulate`, `TandemSimulator`), so that
/// several processes share it: the same behaviour as `InMemoryConnector` (the simulator runs one per repository
/// name), over HTTP. The change-feed window runs here, as in every REST connector; the simulator serves the raw
/// (updated, id)-ordered pages. The API is described at `SimulatorWire`.
///
/// Errors are the in-memory connector's own: the simulator answers 401, 404 and 422 with the error's message,
/// and this connector turns them back into `credentialsRejected`, `artifactGone` (or `projectNotFound` for a
/// create) and `validation`. Transport failures are classified as for any repository.
public struct RemoteMemoryConnector: Connector {
    public struct Configuration: Sendable {
        /// `http://host:port/repos/<name>`.
        public var repositoryURL: URL
        public var credentials: Credentials
        public var settings: ConnectionSettings

        public init(repositoryURL: URL, credentials: Credentials = .none, settings: ConnectionSettings) {
            self.repositoryURL = repositoryURL
            self.credentials = credentials
            self.settings = settings
        }
    }

    public let tool = "memory"
    public let configuration: Configuration
    let session: RESTSession

    public init(_ configuration: Configuration, client: HTTPClient) {
        self.configuration = configuration
        self.session = RESTSession(
            client: client, settings: configuration.settings, base: configuration.repositoryURL, credentials: configuration.credentials,
            tool: "memory")
    }

    /// The repository name when `url` is a simulator repository URL (`http(s)://host[:port]/repos/<name>`), else nil.
    public static func repositoryName(in url: URL) -> String? {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil else { return nil }
        let parts = url.path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0] == "repos", !parts[1].isEmpty else { return nil }
        return String(parts[1])
    }

    public var capabilities: ConnectorCapabilities { InMemoryConnector.staticCapabilities }

    // MARK: - Calls

    /// What a 404 means for the call: the artifact is gone, or the project does not exist.
    private enum Subject {
        case artifact(String)
        case project(String)
        case none
    }

    private func call(_ request: HTTPRequest, about subject: Subject = .none) async throws -> HTTPResponse {
        do {
            return try await self.session.client.send(request, settings: self.session.settings)
        } catch let error as HTTPError {
            throw Self.mapped(error, subject: subject)
        }
    }

    /// The in-memory connector's error for the simulator's answer (its message is the simulator's `error.message`).
    private static func mapped(_ error: HTTPError, subject: Subject) -> ConnectorError {
        switch (error.status, subject) {
        case (401?, _):
            return ConnectorError(.credentialsRejected, kind: .needsAttention, message: "memory rejected the credentials", status: 401)
        case (404?, .artifact(let id)):
            // The simulator's message is the in-memory repository's own ("memory artifact 7 no longer exists",
            // "memory attachment 3 of 7 no longer exists").
            return ConnectorError(
                .artifactGone, kind: .permanent, message: error.message.isEmpty ? "memory artifact \(id) no longer exists" : error.message)
        case (404?, .project(let project)):
            return ConnectorError(.projectNotFound, kind: .needsAttention, message: "memory project \(project) not found")
        case (422?, _):
            return ConnectorError(.validation, kind: .permanent, message: error.message)
        case (400?, _):
            return ConnectorError.invalidArgument(error.message)
        default:
            return ConnectorError(error, tool: "memory")
        }
    }

    private func get<T: Decodable>(
        _ type: T.Type, _ path: String, query: [(String, String)] = [], about subject: Subject = .none
    ) async throws -> T {
        let response = try await self.call(self.session.request(.get, path, query: query), about: subject)
        return try self.decode(type, response, path)
    }

    private func send<T: Decodable>(
        _ type: T.Type, _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: some Encodable,
        about subject: Subject = .none, idempotent: Bool? = nil
    ) async throws -> T {
        let data: Data
        do {
            data = try SimulatorWire.encoder().encode(body)
        } catch {
            throw ConnectorError.invalidArgument("memory cannot encode the request: \(error)")
        }
        let request = self.session.request(method, path, query: query, body: data, contentType: "application/json", idempotent: idempotent)
        return try self.decode(type, try await self.call(request, about: subject), path)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ response: HTTPResponse, _ path: String) throws -> T {
        do {
            return try SimulatorWire.decoder().decode(type, from: response.body)
        } catch {
            let text = String(decoding: response.body.prefix(200), as: UTF8.self)
            throw ConnectorError(
                .invalidResponse, kind: .transient, message: "memory simulator answer to \(path) is not a \(T.self): \(error) (\(text))",
                status: response.status)
        }
    }

    private static func artifactPath(_ id: String) -> String { "/artifacts/\(RESTSession.encode(id))" }
    private static func projectPath(_ project: String) -> String { "/projects/\(RESTSession.encode(project))" }

    // MARK: - Connection and schema

    public func testConnection(project: String?) async -> ConnectionTestResult {
        let projects: [ProjectInfo]
        do {
            projects = try await self.projects()
        } catch let error as ConnectorError {
            return .failed(error)
        } catch {
            return .failed(ConnectorError(.unavailable, kind: .transient, message: "\(error)"))
        }
        guard let project else { return ConnectionTestResult(reachable: true, authenticated: true, projectFound: nil) }
        let found = projects.contains { $0.id == project }
        return ConnectionTestResult(
            reachable: true, authenticated: true, projectFound: found,
            error: found ? nil : ConnectorError(.projectNotFound, kind: .needsAttention, message: "memory project \(project) not found"))
    }

    public func repositoryTime() async throws -> Date {
        try await self.get(SimulatorWire.Time.self, "/time").time
    }

    public func projects() async throws -> [ProjectInfo] {
        try await self.get(SimulatorWire.Projects.self, "/projects").projects.map { ProjectInfo(id: $0, name: $0) }
    }

    public func artifactTypes(project: String) async throws -> [ArtifactTypeInfo] {
        try await self.get(SimulatorWire.Types.self, Self.projectPath(project) + "/types").model
    }

    public func fields(project: String, artifactType: String) async throws -> [FieldDescriptor] {
        try await self.get(SimulatorWire.Fields.self, Self.projectPath(project) + "/fields", query: [("type", artifactType)]).model
    }

    // MARK: - Change feed

    public func cursor(startingAt time: Date) -> FeedCursor { ChangeFeedWindow.cursor(startingAt: time) }

    public func changes(project: String, since cursor: FeedCursor?, pageSize: Int) async throws -> ChangePage {
        try await ChangeFeedWindow.read(
            cursor: cursor, pageSize: pageSize, overlap: self.capabilities.overlapWindow, remotePageSize: self.capabilities.maxPageSize,
            tool: self.tool
        ) { from, offset, limit in
            var query = [("offset", "\(offset)"), ("limit", "\(limit)")]
            if let from { query.append(("from", "\(from.timeIntervalSince1970)")) }
            let page = try await self.get(SimulatorWire.FeedPage.self, Self.projectPath(project) + "/feed", query: query)
            return .init(entries: page.changes, isLast: page.isLast, repositoryTime: page.time)
        }
    }

    // MARK: - Read

    public func artifact(id: String) async throws -> RepositoryArtifact {
        try await self.get(SimulatorWire.Artifact.self, Self.artifactPath(id), about: .artifact(id)).model
    }

    /// The content of an attachment, as uploaded; `artifactGone` when the artifact or the attachment is gone.
    public func attachmentContent(artifactID: String, attachment: AttachmentInfo) async throws -> Data {
        let path = Self.artifactPath(artifactID) + "/attachments/\(RESTSession.encode(attachment.id))"
        let request = self.session.request(.get, path, headers: [HTTPHeader("Accept", "application/octet-stream")])
        return try await self.call(request, about: .artifact(artifactID)).body
    }

    // MARK: - Write

    public func createArtifact(_ draft: ArtifactDraft) async throws -> WriteResult {
        try await self.send(SimulatorWire.Written.self, .post, "/artifacts", body: SimulatorWire.Draft(draft), about: .project(draft.project)).model
    }

    public func updateFields(id: String, _ fields: [String: FieldValue]) async throws -> WriteResult {
        try await self.send(
            SimulatorWire.Written.self, .put, Self.artifactPath(id) + "/fields", body: SimulatorWire.FieldsUpdate(fields: fields),
            about: .artifact(id)
        ).model
    }

    public func addComment(id: String, text: String) async throws -> WriteResult {
        try await self.send(
            SimulatorWire.Written.self, .post, Self.artifactPath(id) + "/comments", body: SimulatorWire.CommentText(text: text),
            about: .artifact(id)
        ).model
    }

    public func uploadAttachment(id: String, filename: String, contentType: String, data: Data) async throws -> WriteResult {
        let request = self.session.request(
            .post, Self.artifactPath(id) + "/attachments", query: [("filename", filename), ("contentType", contentType)], body: data,
            contentType: "application/octet-stream")
        return try self.decode(SimulatorWire.Written.self, try await self.call(request, about: .artifact(id)), "attachments").model
    }

    public func applyTransition(id: String, to status: String) async throws -> WriteResult {
        try await self.send(
            SimulatorWire.Written.self, .post, Self.artifactPath(id) + "/transition", body: SimulatorWire.Transition(status: status),
            about: .artifact(id)
        ).model
    }

    public func findByMarker(project: String, marker: String, createdSince: Date?) async throws -> [String] {
        try await self.get(SimulatorWire.IDs.self, Self.projectPath(project) + "/markers", query: [("marker", marker)]).ids
    }

    public func deleteArtifact(id: String) async throws {
        _ = try await self.call(self.session.request(.delete, Self.artifactPath(id)), about: .artifact(id))
    }
}
