import Foundation

/// Where and how to connect: parsed from `redis://[user][:password]@host[:port][/db]`.
public struct RedisConfiguration: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int
    /// Time allowed for the TCP connect (and the AUTH/SELECT/PING that follow).
    public var connectTimeout: Duration
    /// Socket read/write timeout for every command; it must exceed any blocking command's timeout.
    public var commandTimeout: Duration
    /// How long a command keeps retrying to connect (with backoff) after the server went away.
    public var reconnectTimeout: Duration

    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        connectTimeout: Duration = .seconds(3),
        commandTimeout: Duration = .seconds(10),
        reconnectTimeout: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.reconnectTimeout = reconnectTimeout
    }

    /// Parses a `redis://` URL. Throws `RedisError.configuration` with the reason on a bad URL.
    public init(url: String) throws {
        guard let components = URLComponents(string: url) else {
            throw RedisError(.configuration, "not a URL: \(Self.redacted(url))")
        }
        guard components.scheme == "redis" else {
            throw RedisError(
                .configuration, "unsupported scheme '\(components.scheme ?? "")' in \(Self.redacted(url)) (use redis://)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw RedisError(.configuration, "no host in \(Self.redacted(url))")
        }
        self.init(host: host, port: components.port ?? 6379)
        if let user = components.user?.removingPercentEncoding, !user.isEmpty { self.username = user }
        if let password = components.password?.removingPercentEncoding { self.password = password }
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty {
            guard let db = Int(path), db >= 0 else {
                throw RedisError(.configuration, "database '\(path)' is not a number in \(Self.redacted(url))")
            }
            self.database = db
        }
    }

    /// The URL with any password replaced by `***`.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "(unparsable URL)"
    }

    public var description: String {
        let auth = self.password == nil ? "" : "\(self.username ?? ""):***@"
        return "redis://\(auth)\(self.host):\(self.port)/\(self.database)"
    }
}
