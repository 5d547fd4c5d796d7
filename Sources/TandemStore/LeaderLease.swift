public import Postgres

/// Leadership through a lease row in PostgreSQL with a fencing token. One holder at a time: the holder renews before
/// the lease expires; a standby takes over once it has expired, and the fencing token goes up on every change of
/// holder, so work stamped with an older token can be recognised and refused.
public struct LeaderLease: Sendable {
    public let client: PostgresClient
    public let name: String
    public let holder: String
    public let ttlSeconds: Int

    public init(client: PostgresClient, name: String = "coordinator", holder: String, ttlSeconds: Int = 15) {
        self.client = client
        self.name = name
        self.holder = holder
        self.ttlSeconds = ttlSeconds
    }

    /// Acquires or renews the lease; returns the fencing token while this holder leads, nil while another does.
    public func acquireOrRenew() async throws -> Int64? {
        let rows = try await self.client.query(
            """
            INSERT INTO leader_lease (name, holder, fencing_token, expires_at)
            VALUES (\(self.name), \(self.holder), 1, now() + make_interval(secs => \(self.ttlSeconds)))
            ON CONFLICT (name) DO UPDATE SET
                fencing_token = CASE WHEN leader_lease.holder = EXCLUDED.holder AND leader_lease.expires_at > now()
                                     THEN leader_lease.fencing_token ELSE leader_lease.fencing_token + 1 END,
                holder = EXCLUDED.holder,
                expires_at = EXCLUDED.expires_at
            WHERE leader_lease.holder = EXCLUDED.holder OR leader_lease.expires_at <= now()
            RETURNING fencing_token
            """)
        return try rows.first?.decode(Int64.self, at: 0)
    }

    /// Whether `token` is still the current one for this holder and unexpired (check before acting as leader).
    public func isValid(token: Int64) async throws -> Bool {
        let rows = try await self.client.query(
            """
            SELECT 1 FROM leader_lease
            WHERE name = \(self.name) AND holder = \(self.holder) AND fencing_token = \(token) AND expires_at > now()
            """)
        return !rows.isEmpty
    }

    /// Gives the lease up at once (on graceful shutdown), so a standby need not wait for it to expire.
    public func release() async throws {
        try await self.client.query(
            "UPDATE leader_lease SET expires_at = now() WHERE name = \(self.name) AND holder = \(self.holder)")
    }

    /// The current holder and token, whoever it is.
    public func current() async throws -> (holder: String, token: Int64, secondsLeft: Double)? {
        let rows = try await self.client.query(
            """
            SELECT holder, fencing_token, extract(epoch FROM expires_at - now())::float8 FROM leader_lease
            WHERE name = \(self.name) AND expires_at > now()
            """)
        guard let row = rows.first else { return nil }
        return (try row.decode(String.self, at: 0), try row.decode(Int64.self, at: 1), try row.decode(Double.self, at: 2))
    }
}
