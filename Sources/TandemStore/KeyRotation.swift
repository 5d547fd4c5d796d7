public import Logging
public import Postgres

/// Re-encrypts every stored secret under a new master key, in one transaction: either all secrets move to the new
/// key or none do.
public struct KeyRotation: Sendable {
    public let client: PostgresClient
    public let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Returns the number of secrets re-encrypted.
    @discardableResult
    public func rotate(from old: MasterKey, to new: MasterKey) async throws -> Int {
        let oldBox = SecretBox(key: old)
        let newBox = SecretBox(key: new)
        return try await self.client.withTransaction { connection in
            try await ConfigStore(client: self.client, box: oldBox, logger: self.logger).checkKey(connection)
            var count = 0
            let rows = try await connection.query(
                "SELECT id, name, credentials, proxy_credentials FROM repositories WHERE credentials IS NOT NULL OR proxy_credentials IS NOT NULL FOR UPDATE"
            )
            for row in rows {
                let (id, name) = try row.decode((Int64, String).self)
                let context = "repository:\(name)"
                var credentials = try row.decode([UInt8]?.self, at: 2)
                var proxy = try row.decode([UInt8]?.self, at: 3)
                if let sealed = credentials {
                    credentials = try newBox.seal(try oldBox.open(sealed, context: context), context: context)
                    count += 1
                }
                if let sealed = proxy {
                    proxy = try newBox.seal(try oldBox.open(sealed, context: context + ":proxy"), context: context + ":proxy")
                    count += 1
                }
                try await connection.query(
                    "UPDATE repositories SET credentials = \(credentials), proxy_credentials = \(proxy), updated_at = now() WHERE id = \(id)")
            }
            try await connection.query(
                """
                INSERT INTO key_fingerprint (key_id) VALUES (\(new.id))
                ON CONFLICT (singleton) DO UPDATE SET key_id = EXCLUDED.key_id, rotated_at = now()
                """)
            try await connection.query(
                "INSERT INTO audit_log (actor, action, entity, entity_name, changes) VALUES ('cli', 'rotate', 'master-key', \(new.id), '{}')")
            self.logger.info("Master key rotated", metadata: ["crypto.secrets": "\(count)", "crypto.key_id": "\(new.id)"])
            return count
        }
    }
}
