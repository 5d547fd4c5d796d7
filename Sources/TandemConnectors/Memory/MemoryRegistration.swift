import Foundation
public import Synchronization

extension ConnectorKind {
    public static let memory = ConnectorKind(registered: "memory")
}

extension InMemoryConnector {
    /// In-memory repositories by name, for tests and benchmarks inside one process (memory repositories whose URL is
    /// not a simulator's `…/repos/<name>`).
    public static let repositories = Mutex<[String: InMemoryRepository]>([:])

    static let registration = ConnectorRegistration(
        kind: .memory, displayName: "Memory", fullName: "Tandem in-memory repository (simulator)", apiConnectorNumber: 7,
        capabilities: InMemoryConnector.staticCapabilities,
        summary: "A repository of `tandem simulate` (`http://host:port/repos/<name>`), or one inside the process, for tests and demos"
    ) { context in
        // `http(s)://host:port/repos/<name>`: a repository of `tandem simulate`, shared by every process.
        if RemoteMemoryConnector.repositoryName(in: context.url) != nil {
            return RemoteMemoryConnector(
                .init(repositoryURL: context.url, credentials: context.credentials, settings: context.settings), client: context.http)
        }
        let repository = Self.repositories.withLock { registry in
            if let existing = registry[context.repository] { return existing }
            let created = InMemoryRepository(projects: ["demo", "left", "right"])
            registry[context.repository] = created
            return created
        }
        return InMemoryConnector(repository: repository, credentials: context.credentials)
    }
}
