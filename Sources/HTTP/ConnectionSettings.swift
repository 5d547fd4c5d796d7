public import Foundation

/// Per repository connection: how to reach it (TLS, proxy, client certificate, timeouts) and how hard to try.
public struct ConnectionSettings: Sendable, CustomStringConvertible {
    /// The repository connection's id: the key of API-call counts and of log metadata.
    public var repository: String
    /// Skip certificate and host-name validation (the connection's "allow insecure connections" switch).
    /// Off by default: TLS is validated.
    public var allowInsecure: Bool
    /// Log this connection's exchanges at notice level instead of debug (the repository's debug logging).
    public var verboseLogging: Bool
    /// Extra CA certificates (PEM file) to trust, besides the system's.
    public var caBundlePath: String?
    /// A proxy for this connection only; nil means direct (environment proxies are ignored).
    public var proxy: Proxy?
    /// An X.509 client certificate presented to the repository.
    public var clientCertificate: ClientCertificate?
    public var connectTimeout: Duration
    /// The whole exchange, connection included.
    public var requestTimeout: Duration
    public var retry: RetryPolicy
    public var userAgent: String
    /// Larger responses fail with `response-too-large` instead of exhausting memory.
    public var maxResponseBytes: Int

    public init(
        repository: String,
        allowInsecure: Bool = false,
        verboseLogging: Bool = false,
        caBundlePath: String? = nil,
        proxy: Proxy? = nil,
        clientCertificate: ClientCertificate? = nil,
        connectTimeout: Duration = .seconds(10),
        requestTimeout: Duration = .seconds(60),
        retry: RetryPolicy = RetryPolicy(),
        userAgent: String = "Tandem/1",
        maxResponseBytes: Int = 64 << 20
    ) {
        self.repository = repository
        self.allowInsecure = allowInsecure
        self.verboseLogging = verboseLogging
        self.caBundlePath = caBundlePath
        self.proxy = proxy
        self.clientCertificate = clientCertificate
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.retry = retry
        self.userAgent = userAgent
        self.maxResponseBytes = maxResponseBytes
    }

    public var description: String {
        "ConnectionSettings(repository: \(self.repository), allowInsecure: \(self.allowInsecure), "
            + "proxy: \(self.proxy.map(\.description) ?? "none"), clientCertificate: \(self.clientCertificate != nil))"
    }

    /// A proxy (`http://host:port`, `https://…`, `socks5://…`) with optional proxy authentication.
    public struct Proxy: Sendable, CustomStringConvertible {
        public var url: String
        public var username: String?
        public var password: Secret?
        public init(url: String, username: String? = nil, password: Secret? = nil) {
            self.url = url
            self.username = username
            self.password = password
        }
        public var description: String {
            guard var components = URLComponents(string: self.url) else { return "<proxy>" }
            components.user = nil
            components.password = nil
            return (components.string ?? "<proxy>") + (self.username != nil ? " (authenticated)" : "")
        }
    }

    /// A client certificate held in memory (the store keeps it encrypted; it is never written to disk).
    public struct ClientCertificate: Sendable, CustomStringConvertible {
        public enum Format: String, Sendable { case pem = "PEM", der = "DER", pkcs12 = "P12" }
        public var certificate: Data
        public var format: Format
        /// The private key (PEM), when not inside `certificate`.
        public var privateKey: Data?
        public var password: Secret?
        public init(certificate: Data, format: Format = .pem, privateKey: Data? = nil, password: Secret? = nil) {
            self.certificate = certificate
            self.format = format
            self.privateKey = privateKey
            self.password = password
        }
        public var description: String { "ClientCertificate(\(self.format.rawValue), <redacted>)" }
    }
}

/// In-process retries of idempotent calls after transient failures: exponential backoff with full jitter.
/// Rate limits are not slept on: they surface at once with `pauseUntil` for the queue to honour.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included (1 = no retry).
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 3, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(5)) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    public static let none = RetryPolicy(maxAttempts: 1)

    /// The wait before attempt `attempt + 1` (attempt counts from 1): uniform in [0, min(max, base·2^(attempt-1))].
    public func delay(after attempt: Int) -> Duration {
        let cap = min(self.maxDelay, self.baseDelay * (1 << min(attempt - 1, 20)))
        let fraction = Double.random(in: 0...1)
        return cap * fraction
    }
}
