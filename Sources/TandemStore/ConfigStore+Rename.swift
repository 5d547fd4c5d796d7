import Foundation
import Postgres
public import TandemConfig
public import TandemCore

extension ConfigStore {
    /// Renames a repository and then, when `body` is given, replaces it from that API body (as `put` does), in one
    /// transaction: a refusal of either leaves everything as it was. Its collections follow (they refer to it by id);
    /// its secrets are sealed again under the new name (the name is part of their authenticated context) and keep their
    /// references. Audited as `rename` (name before and after), then as `update` for the body's changes. For the v2
    /// connections API, whose `alias` can change.
    @discardableResult
    public func renameRepository(_ old: String, to new: String, body: JSONNode?, actor: String) async throws -> JSONNode {
        try await self.client.withTransaction { connection in
            try await Self.lock(connection)
            try await self.checkKey(connection)
            let before = try await self.load(connection)
            guard let index = before.configuration.repositories.firstIndex(where: { $0.name == old }) else {
                throw AdminError(.notFound, "no repository named '\(old)'")
            }
            if new.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw AdminError(.invalid, field: "name", "must not be blank") }
            if before.configuration.repositories.contains(where: { $0.name == new }) {
                throw AdminError(.conflict, field: "name", "a repository named '\(new)' already exists")
            }
            var renamed = before.configuration
            renamed.repositories[index].name = new
            for i in renamed.collections.indices where renamed.collections[i].repository == old { renamed.collections[i].repository = new }
            try Self.validate(renamed, against: before.configuration, section: .repositories, index: index)
            guard let row = try await connection.query("SELECT credentials, proxy_credentials FROM repositories WHERE name = \(old) FOR UPDATE").first
            else { throw AdminError(.notFound, "no repository named '\(old)'") }
            func reseal(_ sealed: [UInt8]?, _ suffix: String) throws -> [UInt8]? {
                guard let sealed else { return nil }
                return try self.box.seal(try self.box.open(sealed, context: "repository:\(old)\(suffix)"), context: "repository:\(new)\(suffix)")
            }
            let credentials = try reseal(try row.decode([UInt8]?.self, at: 0), "")
            let proxy = try reseal(try row.decode([UInt8]?.self, at: 1), ":proxy")
            try await connection.query(
                """
                UPDATE repositories SET name = \(new), credentials = \(credentials), proxy_credentials = \(proxy), updated_at = now()
                WHERE name = \(old)
                """)
            try await AuditLog.record(
                connection, actor: actor, action: "rename", entity: "repository", name: new,
                changes: .object([
                    "properties": .array([.string("name")]), "before": .object(["name": .string(old)]), "after": .object(["name": .string(new)]),
                ]))
            let current = try await self.load(connection)
            guard let body else {
                return current.configuration.repositories.first { $0.name == new }.map(ConfigJSON.json) ?? .null
            }
            // The body, as `put` takes it, under the new name.
            guard case .object(var members) = body else {
                throw AdminError(.invalid, field: "", "expected a JSON object, found \(body.typeDescription)")
            }
            members.removeAll { $0.key == "name" }
            members.insert(.init("name", .string(new)), at: 0)
            var c = current.configuration
            let repository: RepositoryConfig
            let secrets: [String: String]
            do {
                (repository, secrets) = try ConfigJSON.repository(.object(members), stored: c.repositories.first { $0.name == new })
            } catch let error as ConfigError {
                throw Self.adminError(error.issues, prefix: "")
            }
            guard let position = c.repositories.firstIndex(where: { $0.name == new }) else {
                throw AdminError(.notFound, "no repository named '\(new)'")
            }
            c.repositories[position] = repository
            try Self.validate(c, against: current.configuration, section: .repositories, index: position)
            do {
                _ = try await self.write(
                    c, current: current, file: nil, environment: secrets, dryRun: false, prune: false, actor: actor, scope: ("repository", new),
                    secretSource: .request, connection: connection)
            } catch let error as ConfigError {
                throw Self.adminError(error.issues, prefix: "repositories[\(position)]")
            }
            return ConfigJSON.json(repository)
        }
    }
}
