import Foundation
import HTTP
import Synchronization
import TandemConnectors
import TandemCore
import TandemSimulator
import Testing

/// A repository simulator started in this test process on a free port (once, on first use), accepting
/// `Bearer good-token`.
enum TestSimulator {
    static let token = "good-token"

    static let baseURL: Task<URL, any Error> = Task {
        let simulator = RepositorySimulator(
            configuration: .init(host: "127.0.0.1", port: 0, acceptedCredentials: .bearer(Secret(Self.token))))
        let port = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
            let once = Mutex<CheckedContinuation<Int, any Error>?>(continuation)
            @Sendable func finish(_ result: Result<Int, any Error>) { once.withLock { $0.take() }?.resume(with: result) }
            Task {
                do {
                    try await simulator.run(gracefulShutdownSignals: []) { port in finish(.success(port)) }
                    finish(.failure(ConnectorError(.unavailable, kind: .transient, message: "the test simulator stopped")))
                } catch {
                    finish(.failure(error))
                }
            }
        }
        return URL(string: "http://127.0.0.1:\(port)")!
    }

    /// The URL of a repository of the test simulator.
    static func repositoryURL(_ name: String) async throws -> URL {
        try await Self.baseURL.value.appending(path: "repos/\(name)")
    }

    /// A connector to one of its repositories; API calls are counted under `counter` (default: the repository's name).
    static func connector(
        _ repository: String, credentials: Credentials = .bearer(Secret(Self.token)), client: HTTPClient? = nil, counter: String? = nil
    ) async throws -> RemoteMemoryConnector {
        RemoteMemoryConnector(
            .init(
                repositoryURL: try await Self.repositoryURL(repository), credentials: credentials,
                settings: ConnectorUnderTest.settings(counter ?? repository)),
            client: client ?? ConnectorUnderTest.client)
    }
}

/// A connector to the test simulator, built on first use (the contract suite's arguments are built before any test runs,
/// synchronously, and the simulator's port is known only once it runs): every call goes to `make()`'s connector; what
/// needs no call (capabilities, cursors) to `offline`, the same connector type over a placeholder URL.
struct DeferredConnector: Connector {
    let offline: any Connector
    let make: @Sendable () async throws -> any Connector

    var tool: String { self.offline.tool }
    var capabilities: ConnectorCapabilities { self.offline.capabilities }
    func remote() async throws -> any Connector { try await self.make() }

    func testConnection(project: String?) async -> ConnectionTestResult {
        do {
            return try await self.remote().testConnection(project: project)
        } catch {
            return ConnectionTestResult(
                reachable: false, authenticated: false, projectFound: nil,
                error: ConnectorError(.unavailable, kind: .transient, message: "test simulator: \(error)"))
        }
    }

    func repositoryTime() async throws -> Date { try await self.remote().repositoryTime() }
    func projects() async throws -> [ProjectInfo] { try await self.remote().projects() }
    func artifactTypes(project: String) async throws -> [ArtifactTypeInfo] { try await self.remote().artifactTypes(project: project) }
    func artifactTypeID(_ configured: String) async throws -> String { try await self.remote().artifactTypeID(configured) }
    func fields(project: String, artifactType: String) async throws -> [FieldDescriptor] {
        try await self.remote().fields(project: project, artifactType: artifactType)
    }
    func changes(project: String, since cursor: FeedCursor?, pageSize: Int) async throws -> ChangePage {
        try await self.remote().changes(project: project, since: cursor, pageSize: pageSize)
    }
    func cursor(startingAt time: Date) -> FeedCursor { self.offline.cursor(startingAt: time) }
    func artifact(id: String) async throws -> RepositoryArtifact { try await self.remote().artifact(id: id) }
    func createArtifact(_ draft: ArtifactDraft) async throws -> WriteResult { try await self.remote().createArtifact(draft) }
    func updateFields(id: String, _ fields: [String: FieldValue]) async throws -> WriteResult {
        try await self.remote().updateFields(id: id, fields)
    }
    func addComment(id: String, text: String) async throws -> WriteResult { try await self.remote().addComment(id: id, text: text) }
    func uploadAttachment(id: String, filename: String, contentType: String, data: Data) async throws -> WriteResult {
        try await self.remote().uploadAttachment(id: id, filename: filename, contentType: contentType, data: data)
    }
    func attachmentContent(artifactID: String, attachment: AttachmentInfo) async throws -> Data {
        try await self.remote().attachmentContent(artifactID: artifactID, attachment: attachment)
    }
    func applyTransition(id: String, to status: String) async throws -> WriteResult { try await self.remote().applyTransition(id: id, to: status) }
    func findByMarker(project: String, marker: String, createdSince: Date?) async throws -> [String] {
        try await self.remote().findByMarker(project: project, marker: marker)
    }
    func deleteArtifact(id: String) async throws { try await self.remote().deleteArtifact(id: id) }
    func textMarkups(projects: [String]) async throws -> TextMarkups? { try await self.remote().textMarkups(projects: projects) }
    func linkTwin(id: String, twin: TwinLink) async throws { try await self.remote().linkTwin(id: id, twin: twin) }
}

extension DeferredConnector {
    /// A `RemoteMemoryConnector` to a repository of the test simulator; API calls are counted under `counter`.
    static func memory(repository: String, credentials: Credentials, counter: String) -> DeferredConnector {
        DeferredConnector(
            offline: RemoteMemoryConnector(
                .init(repositoryURL: URL(string: "http://127.0.0.1:1/repos/\(repository)")!, settings: ConnectorUnderTest.settings(repository)),
                client: ConnectorUnderTest.client)
        ) { try await TestSimulator.connector(repository, credentials: credentials, counter: counter) }
    }
}

extension ConnectorUnderTest {
    /// The in-memory repository behind the simulator, through `RemoteMemoryConnector`.
    static let remoteMemory = ConnectorUnderTest(
        name: "memory-remote",
        connector: DeferredConnector.memory(repository: "contract", credentials: .bearer(Secret(TestSimulator.token)), counter: "memory-remote"),
        badCredentials: DeferredConnector.memory(repository: "contract", credentials: .bearer("wrong-token"), counter: "memory-remote-bad"),
        project: "demo", artifactType: "task", titleField: "title", transitionTo: "done", commentSideEffect: nil,
        blankTitleMessage: "Title cannot be blank")
}
