import ArgumentParser
import Foundation
import Logging
import Postgres
import Redis
import TandemServer
import TandemStore
import TandemSupport

/// `tandem server`: health and metrics over HTTP (the full API and UI come later).
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Serve the REST API (/api/v1), /health, /health/live and /metrics over HTTP until SIGTERM.",
        discussion: """
            GET /health       200 when PostgreSQL answers, migrations are current, Redis answers PING and a
                              coordinator leads; 503 naming the failing checks otherwise (readiness).
            GET /health/live  200 while the process serves requests (liveness).
            GET /metrics      the cluster's metrics in the Prometheus text format.
            /api/v1/...       the REST API (docs/api.md); its OpenAPI document is GET /api/openapi.json.
            Applies pending migrations at start-up. Under systemd (Type=notify) it sends READY=1 once listening
            and STOPPING=1 when a stop begins.
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Address to listen on (default: $TANDEM_HTTP_HOST or 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (default: $TANDEM_HTTP_PORT or 8080).")
    var port: Int?

    @Option(help: "Redis URL (default: $TANDEM_REDIS_URL or redis://127.0.0.1:6390).")
    var redisURL: String?

    @Option(help: "Key prefix of the installation in Redis.")
    var prefix = "tandem:"

    @Flag(inversion: .prefixedNo, help: "Apply pending migrations at start-up.")
    var migrate = true

    @OptionGroup var key: KeyOptions

    @Flag(name: .customLong("secure-cookies"), help: "Mark the session cookie Secure (when clients reach the server over HTTPS).")
    var secureCookies = false

    @Option(
        name: .customLong("idle-timeout"),
        help: "Seconds a connection may sit with no request in progress before it is closed (default: $TANDEM_HTTP_IDLE_TIMEOUT or 60).")
    var idleTimeout: Int?

    @Option(
        name: .customLong("request-head-timeout"),
        help: "Seconds a request's line and headers may take to arrive from its first byte (default: $TANDEM_HTTP_REQUEST_HEAD_TIMEOUT or 10).")
    var requestHeadTimeout: Int?

    /// A timeout in seconds from its option, else its environment variable, else `fallback`; 1 to 3600.
    static func seconds(_ option: Int?, _ variable: String, flag: String, fallback: Int) throws -> Duration {
        var value = option ?? fallback
        if option == nil, let text = ProcessInfo.processInfo.environment[variable], !text.isEmpty {
            guard let number = Int(text) else { throw ValidationError("\(variable) is not a whole number of seconds: \(text)") }
            value = number
        }
        guard (1...3600).contains(value) else {
            throw ValidationError("\(option == nil ? variable : "--" + flag) must be between 1 and 3600 seconds, not \(value)")
        }
        return .seconds(value)
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let host = self.host ?? environment["TANDEM_HTTP_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        var port = self.port ?? 8080
        if self.port == nil, let text = environment["TANDEM_HTTP_PORT"], !text.isEmpty {
            guard let value = Int(text) else { throw ValidationError("TANDEM_HTTP_PORT is not a number: \(text)") }
            port = value
        }
        guard (0...65535).contains(port) else { throw ValidationError("port \(port) is out of range") }

        let logger = Logger(label: "tandem.server")
        var postgresConfiguration = PostgresConfiguration(connectionString: try self.database.resolvedURL(), maximumConnections: 4)
        postgresConfiguration.connectTimeout = .seconds(3)
        postgresConfiguration.applicationName = "tandem-server"
        // Short Redis timeouts keep /health prompt while Redis is away.
        var redisConfiguration = try RedisConfiguration(
            url: self.redisURL ?? environment["TANDEM_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "redis://127.0.0.1:6390")
        redisConfiguration.connectTimeout = .seconds(2)
        redisConfiguration.reconnectTimeout = .seconds(2)

        // Without the master key the API can show the configuration but not change it.
        var masterKey: MasterKey?
        do {
            masterKey = try self.key.resolved()
        } catch let error as SecretError where error.kind == .missingKey {
            logger.warning("No master key: the API will not change the configuration (set TANDEM_MASTER_KEY or TANDEM_MASTER_KEY_FILE)")
        }
        var configuration = ServerProcess.Configuration(host: host, port: port, prefix: self.prefix, migrate: self.migrate)
        configuration.masterKey = masterKey
        configuration.secureCookies = self.secureCookies
        configuration.idleTimeout = try Self.seconds(self.idleTimeout, "TANDEM_HTTP_IDLE_TIMEOUT", flag: "idle-timeout", fallback: 60)
        configuration.requestHeadTimeout = try Self.seconds(
            self.requestHeadTimeout, "TANDEM_HTTP_REQUEST_HEAD_TIMEOUT", flag: "request-head-timeout", fallback: 10)
        let process = ServerProcess(
            configuration: configuration,
            postgres: PostgresClient(configuration: postgresConfiguration, logger: logger),
            redis: RedisClient(configuration: redisConfiguration, lanes: 2, logger: logger),
            notifier: SystemdNotifier(),
            logger: logger)
        try await process.run()
    }
}

/// `tandem openapi`: the REST API's OpenAPI 3.1 document, as `GET /api/openapi.json` serves it — for client generators
/// and reviews without a running server. `docs/openapi.json` is its output (a test keeps the two equal).
struct OpenAPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openapi",
        abstract: "Prints the REST API's OpenAPI 3.1 document (what GET /api/openapi.json serves), indented with sorted keys.")

    func run() throws {
        print(try OpenAPIDocument.indented(OpenAPIDocument.jsonWithRequests))
    }
}
