public import Foundation
public import HTTP
public import Logging
public import Postgres
public import Synchronization
public import TandemConfig
public import TandemConnectors
public import TandemCore
public import TandemStore

/// What every cluster process shares: the database, the configuration as last read from it (refreshed every few
/// seconds, so running processes pick changes up without a restart), a synchronizer per integration and a connector
/// per repository.
public final class ClusterRuntime: Sendable {
    public struct Snapshot: Sendable {
        public var configuration: TandemConfiguration
        public var integrationIDs: [String: Int64]
        public var synchronizers: [String: Synchronizer]
        /// Integrations whose rules could not be built, with the reason (they are not run).
        public var broken: [String: String]
        public var loadedAt: ContinuousClock.Instant
        /// The database's time when the configuration was read: it holds every change committed before then.
        public var readAt: Date
        /// What each repository's connector is built from (its configuration and secrets, hashed), by name.
        var fingerprints: [String: String] = [:]

        public func integration(_ name: String) -> IntegrationConfig? { self.configuration.integrations.first { $0.name == name } }
        public func collection(_ name: String) -> CollectionConfig? { self.configuration.collections.first { $0.name == name } }
        public func repository(_ name: String) -> RepositoryConfig? { self.configuration.repositories.first { $0.name == name } }

        /// The collection on `side` of `integration`.
        public func collection(of integration: IntegrationConfig, _ side: Side) -> CollectionConfig? {
            self.collection(side == .left ? integration.left : integration.right)
        }
    }

    public let client: PostgresClient
    public let store: ConfigStore
    public let http: HTTPClient
    public let logger: Logger
    /// This process's presence lock, named in the create claims it takes (nil: claims name no holder and only go stale).
    public let presence: ClusterPresence?
    /// The people of the repositories' projects, for matching persons.
    public let people: PeopleCache
    let refreshInterval: Duration
    private struct State {
        var snapshot: Snapshot?
        var secrets: [String: [String: String]] = [:]
        var connectors: [String: (fingerprint: String, connector: any Connector)] = [:]
    }
    private let state = Mutex(State())

    public init(
        client: PostgresClient, box: SecretBox, logger: Logger, refreshInterval: Duration = .seconds(5), presence: ClusterPresence? = nil
    ) {
        self.client = client
        self.presence = presence
        self.store = ConfigStore(client: client, box: box, logger: logger)
        self.http = HTTPClient(logger: logger)
        self.logger = logger
        self.people = PeopleCache(logger: logger)
        self.refreshInterval = refreshInterval
    }

    public func shutdown() async { await self.http.shutdown() }

    /// The configuration, re-read when older than the refresh interval (or when `force`).
    /// With `asOf` (the database's time of an operator's action), a configuration read before then is read again, so
    /// a mapping fixed just before a retry applies to that retry.
    public func snapshot(force: Bool = false, asOf: Date? = nil) async throws -> Snapshot {
        if !force, let cached = self.state.withLock({ $0.snapshot }), cached.loadedAt.duration(to: .now) < self.refreshInterval,
            asOf.map({ cached.readAt >= $0 }) ?? true
        {
            return cached
        }
        let (configuration, secrets, readAt) = try await self.store.loadForRuntimeAsOf()
        let ids = try await self.store.integrationIDs()
        var synchronizers: [String: Synchronizer] = [:]
        var broken: [String: String] = [:]
        for integration in configuration.integrations {
            do {
                synchronizers[integration.name] = try Synchronizer(try RulesBuilder.rules(for: integration, in: configuration))
            } catch {
                broken[integration.name] = "\(error)"
            }
        }
        var snapshot = Snapshot(
            configuration: configuration, integrationIDs: ids, synchronizers: synchronizers, broken: broken, loadedAt: .now, readAt: readAt)
        for repository in configuration.repositories {
            snapshot.fingerprints[repository.name] = Self.fingerprint(repository, secrets[repository.name] ?? [:])
        }
        self.state.withLock {
            $0.snapshot = snapshot
            $0.secrets = secrets
        }
        return snapshot
    }

    /// Whether a repository's configuration or credentials differ from those its current connector was built with: the
    /// configuration is read again now. A failed connection is then tried again with the new ones rather than reported.
    ///
    /// `since`, the configuration a job ran with: a change since then counts too, even when another job has rebuilt the
    /// connector with the new credentials meanwhile (the failed job used the old ones; without this it blamed the new).
    public func changedSinceSnapshot(repository name: String, since used: Snapshot? = nil) async -> Bool {
        guard let snapshot = try? await self.snapshot(force: true), let repository = snapshot.repository(name) else { return false }
        if let used, used.fingerprints[name] != snapshot.fingerprints[name] { return true }
        return self.state.withLock { state in
            state.connectors[name].map { $0.fingerprint != Self.fingerprint(repository, state.secrets[name] ?? [:]) } ?? false
        }
    }

    /// What a connector is built from: the repository's configuration and its secrets (hashed, never kept in clear).
    static func fingerprint(_ repository: RepositoryConfig, _ secrets: [String: String]) -> String {
        "\(repository)|\(secrets.keys.sorted())|\(secrets.values.map { $0.hashValue }.sorted())"
    }

    /// The connector of a repository, rebuilt when its configuration or credentials change.
    public func connector(for repository: RepositoryConfig) throws -> any Connector {
        let secrets = self.state.withLock { $0.secrets[repository.name] ?? [:] }
        let fingerprint = Self.fingerprint(repository, secrets)
        if let cached = self.state.withLock({ $0.connectors[repository.name] }), cached.fingerprint == fingerprint {
            return cached.connector
        }
        let connector = try ConnectorFactory.make(repository, secrets: secrets, http: self.http)
        self.state.withLock { $0.connectors[repository.name] = (fingerprint, connector) }
        return connector
    }
}

/// Builds connectors from repository configuration and decrypted secrets, through the tool's registration.
public enum ConnectorFactory {
    public static func make(_ repository: RepositoryConfig, secrets: [String: String], http: HTTPClient) throws -> any Connector {
        let credentials = Self.credentials(repository.auth, secret: secrets["auth"])
        var proxy: ConnectionSettings.Proxy?
        if let p = repository.proxy { proxy = .init(url: p.url, username: p.username, password: secrets["proxy"].map { Secret($0) }) }
        let settings = ConnectionSettings(
            repository: repository.name, allowInsecure: repository.allowInsecure, verboseLogging: repository.debugLogging, proxy: proxy)
        guard let url = URL(string: repository.url) else {
            throw ConnectorError(.misconfigured, kind: .needsAttention, message: "repository \(repository.name): invalid URL")
        }
        let context = ConnectorContext(
            repository: repository.name, url: url, credentials: credentials, settings: settings,
            options: ConnectorOptionValues(repository.options), http: http)
        return try repository.kind.registration.make(context)
    }

    static func credentials(_ auth: AuthConfig, secret: String?) -> Credentials {
        let value = Secret(secret ?? "")
        switch auth {
        case .none: return .none
        case .basic(let username, _): return .basic(username: username, password: value)
        case .apiKey(_, let header, let parameter):
            if let parameter { return .apiKeyParameter(name: parameter, key: value) }
            return .apiKeyHeader(name: header ?? "X-API-Key", key: value)
        case .token: return .token(value)
        case .bearer: return .bearer(value)
        }
    }
}
