public import Hummingbird
public import Logging
public import Postgres
public import Redis
public import ServiceLifecycle
import TandemQueue
public import TandemStore
public import TandemSupport
public import UnixSignals

/// The `tandem server` process: the HTTP application (health, metrics) in one `ServiceGroup` that drains on
/// SIGTERM/SIGINT, with migrations applied at start-up and systemd told READY/STOPPING.
public struct ServerProcess: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// The installation's Redis key prefix.
        public var prefix: String
        /// The coordinator's leader lease, which `/health` requires to be held.
        public var leaseName: String
        /// Apply pending migrations at start-up (under PostgreSQL's advisory lock, safe with several processes).
        public var migrate: Bool
        /// Serve the REST API under `/api/v1` and its OpenAPI document.
        public var api = true
        /// The master key: without it the API shows the configuration but cannot change it.
        public var masterKey: MasterKey?
        /// Mark the session cookie `Secure` (when the server is reached over HTTPS).
        public var secureCookies = false
        /// A connection with no request in progress for this long is closed (keep-alive between requests, a client
        /// that connects and sends nothing, a request body that stalls).
        public var idleTimeout: Duration = .seconds(60)
        /// A request head (request line and headers) must arrive whole within this time of its first byte.
        public var requestHeadTimeout: Duration = .seconds(10)

        public init(
            host: String = "127.0.0.1", port: Int = 8080, prefix: String = "tandem:", leaseName: String = "coordinator",
            migrate: Bool = true
        ) {
            self.host = host
            self.port = port
            self.prefix = prefix
            self.leaseName = leaseName
            self.migrate = migrate
        }
    }

    public let configuration: Configuration
    public let postgres: PostgresClient
    public let redis: RedisClient
    public let notifier: SystemdNotifier
    public let logger: Logger

    public init(
        configuration: Configuration, postgres: PostgresClient, redis: RedisClient, notifier: SystemdNotifier = SystemdNotifier(), logger: Logger
    ) {
        self.configuration = configuration
        self.postgres = postgres
        self.redis = redis
        self.notifier = notifier
        self.logger = logger
    }

    /// The routes over this process's clients.
    public var routes: ServerRoutes {
        let queue = JobQueue(client: self.redis, configuration: .init(prefix: self.configuration.prefix))
        return ServerRoutes(
            health: HealthChecker(postgres: self.postgres, redis: self.redis, leaseName: self.configuration.leaseName),
            queue: queue,
            api: self.configuration.api
                ? AdminAPI(
                    postgres: self.postgres, masterKey: self.configuration.masterKey, secureCookies: self.configuration.secureCookies,
                    queue: queue, logger: self.logger)
                : nil)
    }

    /// The Hummingbird application: the migration service runs beside it, and READY=1 goes out once it listens.
    public func application() -> some ApplicationProtocol {
        let notifier = self.notifier
        let logger = self.logger
        let (host, port) = (self.configuration.host, self.configuration.port)
        var services: [any Service] = []
        if self.configuration.migrate { services.append(MigrationService(postgres: self.postgres, logger: self.logger)) }
        if self.configuration.api { services.append(LoggingSettingsWatcher(postgres: self.postgres, logger: self.logger)) }
        return Application(
            router: self.routes.router(),
            server: .tandemHTTP1(idleTimeout: self.configuration.idleTimeout, requestHeadTimeout: self.configuration.requestHeadTimeout),
            configuration: .init(address: .hostname(host, port: port), serverName: "tandem"),
            services: services,
            onServerRunning: { _ in
                logger.info("Server listening", metadata: ["tandem.http.host": "\(host)", "tandem.http.port": "\(port)"])
                notifier.ready(status: "listening on \(host):\(port)")
            },
            logger: self.logger)
    }

    /// Runs until SIGTERM or SIGINT, then drains and closes the clients.
    public func run() async throws {
        do {
            try await self.serviceGroup(gracefulShutdownSignals: [.sigterm, .sigint]).run()
        } catch {
            await self.close()
            throw error
        }
        await self.close()
    }

    /// The process's services: the application (with migrations), then the systemd notifier, which hears of a
    /// graceful shutdown first (the group stops services in reverse order) and says STOPPING=1 at once.
    public func serviceGroup(gracefulShutdownSignals: [UnixSignal]) -> ServiceGroup {
        ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: self.application()),
                    .init(service: SystemdService(notifier: self.notifier, logger: self.logger)),
                ],
                gracefulShutdownSignals: gracefulShutdownSignals,
                logger: self.logger))
    }

    private func close() async {
        await self.postgres.shutdown()
        await self.redis.close()
    }
}

/// Applies pending migrations at start-up, retrying with backoff while PostgreSQL is unreachable (the server
/// answers meanwhile, and `/health` names the pending migrations), then waits for shutdown.
struct MigrationService: Service, CustomStringConvertible {
    let postgres: PostgresClient
    let logger: Logger
    var description: String { "MigrationService" }

    func run() async throws {
        let migrator: Migrator
        do {
            migrator = try Migrator.bundled()
        } catch {
            self.logger.error("Migrations cannot be read", metadata: ["tandem.error": "\(error)"])
            try? await gracefulShutdown()
            return
        }
        var delay = Duration.seconds(1)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let applied = try await migrator.migrate(self.postgres, logger: self.logger)
                self.logger.info(
                    "Database is current",
                    metadata: ["tandem.migrations.applied": "\(applied)", "tandem.migrations.latest": "\(migrator.latestVersion)"])
                break
            } catch let error as MigrationError {
                // A schema newer than this build, or an edited migration: retrying will not help.
                self.logger.error("Migrations failed", metadata: ["tandem.error": "\(error)"])
                break
            } catch {
                self.logger.warning("Migrations failed; retrying", metadata: ["tandem.error": "\(error)", "tandem.retry.in": "\(delay)"])
                let wait = delay
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
                delay = min(delay * 2, .seconds(30))
            }
        }
        try? await gracefulShutdown()
    }
}

/// Tells systemd STOPPING=1 as soon as a graceful shutdown begins (it is the group's last service, so it hears
/// first), and pings the watchdog meanwhile when `WATCHDOG_USEC` asks for it.
struct SystemdService: Service, CustomStringConvertible {
    let notifier: SystemdNotifier
    let logger: Logger
    var description: String { "SystemdService" }

    func run() async throws {
        if let interval = self.notifier.watchdogInterval {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                self.notifier.watchdog()
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            }
        } else {
            try? await gracefulShutdown()
        }
        self.logger.info("Shutting down")
        self.notifier.stopping(status: "draining")
    }
}
