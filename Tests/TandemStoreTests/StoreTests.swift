import Foundation
import Postgres
import TandemConfig
import TandemStore
import TandemTestSupport
import Testing

func exampleYAML() throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return try String(contentsOf: root.appendingPathComponent("docs/examples/redmine-roundup.yaml"), encoding: .utf8)
}

let exampleSecrets = ["TANDEM_SECRET_REDMINE_API_KEY": "rm-secret-4f1c9a77e2", "TANDEM_SECRET_ROUNDUP_PASSWORD": "ru-secret-pw-88d0b3"]
let keyA = try! MasterKey(bytes: Array(repeating: 7, count: 32))
let keyB = try! MasterKey(bytes: Array(repeating: 9, count: 32))

func store(_ db: TestDatabase, key: MasterKey = keyA) -> ConfigStore {
    ConfigStore(client: db.client, box: SecretBox(key: key), logger: TestDatabase.logger)
}

/// Everything a configuration change could touch, to compare before and after.
func snapshot(_ db: TestDatabase) async throws -> String {
    var lines: [String] = []
    for table in [
        "settings", "repositories", "models", "model_fields", "collections", "collection_field_mappings", "collection_value_maps",
        "collection_transitions", "integrations", "integration_field_flows", "integration_routes", "integration_filters",
        "integration_conflict_policies", "integration_schedules", "audit_log", "key_fingerprint",
    ] {
        let rows = try await db.client.query("SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \(unescaped: table) t")
        lines.append("\(table)=\(try rows[0].decode(String.self, at: 0))")
    }
    return lines.joined(separator: "\n")
}

@Suite(.serialized) struct MigrationTests {
    @Test func migratesFromEmptyThenReRunsAsNoOp() async throws {
        try await withTestDatabase { db in
            let migrator = try Migrator.bundled()
            let first = try await migrator.migrate(db.client, logger: TestDatabase.logger)
            #expect(first == migrator.migrations.map(\.version))
            #expect(!first.isEmpty)
            let tables = try await db.client.query(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('artifact_pairs','pending_creates','cursors','write_ledger','activity','users','api_tokens','metrics_rollups','integration_routes')"
            )
            #expect(try tables[0].decode(Int.self, at: 0) == 9)
            let second = try await migrator.migrate(db.client, logger: TestDatabase.logger)
            #expect(second.isEmpty)
            let status = try await migrator.status(db.client)
            #expect(status.current)
        }
    }

    @Test func concurrentRunsApplyEachMigrationOnce() async throws {
        try await withTestDatabase { db in
            let migrator = try Migrator.bundled()
            let clients = (0..<4).map { _ in db.newClient() }
            let results = try await withThrowingTaskGroup(of: [Int].self) { group in
                for client in clients { group.addTask { try await migrator.migrate(client, logger: TestDatabase.logger) } }
                return try await group.reduce(into: [[Int]]()) { $0.append($1) }
            }
            for client in clients { await client.shutdown() }
            #expect(results.flatMap { $0 }.sorted() == migrator.migrations.map(\.version))
            let count = try await db.client.query("SELECT count(*) FROM schema_migrations")
            #expect(try count[0].decode(Int.self, at: 0) == migrator.migrations.count)
        }
    }

    @Test func changedMigrationIsRefused() async throws {
        try await withTestDatabase { db in
            let bundled = try Migrator.bundled()
            try await bundled.migrate(db.client, logger: TestDatabase.logger)
            var edited = bundled.migrations
            edited[0] = Migration(version: edited[0].version, name: edited[0].name, sql: edited[0].sql + "\n-- edited")
            await #expect(throws: MigrationError.self) { try await Migrator(migrations: edited).migrate(db.client, logger: TestDatabase.logger) }
        }
    }

    @Test func laterMigrationApplies() async throws {
        try await withTestDatabase { db in
            let bundled = try Migrator.bundled()
            try await bundled.migrate(db.client, logger: TestDatabase.logger)
            let next = Migration(version: bundled.latestVersion + 1, name: "add_note", sql: "ALTER TABLE repositories ADD COLUMN note text;")
            let applied = try await Migrator(migrations: bundled.migrations + [next]).migrate(db.client, logger: TestDatabase.logger)
            #expect(applied == [next.version])
            // A failing migration rolls back completely and is not recorded.
            let broken = Migration(version: next.version + 1, name: "broken", sql: "ALTER TABLE models ADD COLUMN x int; SELECT 1/0;")
            await #expect(throws: PostgresError.self) {
                try await Migrator(migrations: bundled.migrations + [next, broken]).migrate(db.client, logger: TestDatabase.logger)
            }
            let column = try await db.client.query(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'models' AND column_name = 'x'")
            #expect(try column[0].decode(Int.self, at: 0) == 0)
        }
    }
}

@Suite(.serialized) struct ConfigStoreTests {
    @Test func exportApplyExportIsByteIdentical() async throws {
        try await withTestDatabase { db in
            try await Migrator.bundled().migrate(db.client, logger: TestDatabase.logger)
            let plan = try await store(db).apply(yaml: try exampleYAML(), file: "example.yaml", environment: exampleSecrets)
            #expect(plan.changes.filter { $0.action == .create }.count == 6)  // 2 repositories, 1 model, 2 collections, 1 integration
            let exported = try await store(db).exportYAML()
            #expect(exported == ConfigWriter.yaml(try ConfigParser.parse(try exampleYAML())))
            // Promote to a second environment: the same file, applied there, exports the same bytes.
            try await withTestDatabase { other in
                try await Migrator.bundled().migrate(other.client, logger: TestDatabase.logger)
                _ = try await store(other, key: keyB).apply(yaml: exported, environment: exampleSecrets)
                #expect(try await store(other, key: keyB).exportYAML() == exported)
            }
            // Re-applying the export changes nothing, even without the secrets in the environment.
            let again = try await store(db).apply(yaml: exported, environment: [:])
            #expect(!again.hasChanges, "\(again)")
        }
    }

    @Test func dryRunChangesNothing() async throws {
        try await withTestDatabase { db in
            try await Migrator.bundled().migrate(db.client, logger: TestDatabase.logger)
            let before = try await snapshot(db)
            let plan = try await store(db).apply(yaml: try exampleYAML(), environment: exampleSecrets, dryRun: true)
            #expect(plan.hasChanges)
            #expect(plan.description.contains("+ integration bugs"))
            #expect(try await snapshot(db) == before)
        }
    }

    @Test func updatesAreDetectedAndAudited() async throws {
        try await withTestDatabase { db in
            try await Migrator.bundled().migrate(db.client, logger: TestDatabase.logger)
            _ = try await store(db).apply(yaml: try exampleYAML(), environment: exampleSecrets, actor: "alice")
            let edited = try exampleYAML().replacingOccurrences(of: "concurrencyLimit: 4", with: "concurrencyLimit: 6")
            var secrets = exampleSecrets
            secrets["TANDEM_SECRET_ROUNDUP_PASSWORD"] = "changed"
            let plan = try await store(db).apply(yaml: edited, environment: secrets, actor: "bob")
            let updates = plan.changes.filter { $0.action == .update }
            #expect(updates.map(\.name).sorted() == ["redmine", "roundup"])
            #expect(updates.first { $0.name == "redmine" }?.details == ["concurrencyLimit"])
            #expect(updates.first { $0.name == "roundup" }?.details == ["credentials"])
            let audit = try await db.client.query("SELECT actor, action, entity_name FROM audit_log WHERE actor = 'bob' ORDER BY entity_name")
            #expect(audit.count == 2)
            #expect(try await store(db).export().repositories[0].concurrencyLimit == 6)
        }
    }

    @Test func pruneDeletesWhatTheFileNoLongerHas() async throws {
        try await withTestDatabase { db in
            try await Migrator.bundled().migrate(db.client, logger: TestDatabase.logger)
            _ = try await store(db).apply(yaml: try exampleYAML(), environment: exampleSecrets)
            var config = try ConfigParser.parse(try exampleYAML())
            config.integrations = []
            let kept = try await store(db).apply(config, environment: exampleSecrets)
            #expect(!kept.hasChanges)
            #expect(try await store(db).export().integrations.count == 1)
            let pruned = try await store(db).apply(config, environment: exampleSecrets, prune: true)
            #expect(pruned.changes.contains { $0.action == .delete && $0.name == "bugs" })
            #expect(try await store(db).export().integrations.isEmpty)
        }
    }

    @Test(arguments: badInputs + ruleBadInputs) func badInputLeavesTheDatabaseUnchanged(_ bad: BadInput) async throws {
        try await withTestDatabase(poolSize: 2) { db in
            try await Migrator.bundled().migrate(db.client, logger: TestDatabase.logger)
            _ = try await store(db).apply(yaml: try exampleYAML(), environment: exampleSecrets)
            let before = try await snapshot(db)
            let text = try exampleYAML()
            #expect(text.contains(bad.replace))
            let edited = text.replacingOccurrences(of: bad.replace, with: bad.with)
            do {
                _ = try await store(db).apply(yaml: edited, file: "bad.yaml", environment: exampleSecrets.merging(["X": "x"]) { a, _ in a })
                Issue.record("\(bad.name): applied without error")
            } catch let error as ConfigError {
                #expect(error.issues.contains { $0.kind == bad.kind && $0.path == bad.path }, "\(bad.name): \(error)")
            }
            #expect(try await snapshot(db) == before, "\(bad.name) changed the database")
        }
    }

    @Test func missingSecretIsNamedAndNothingIsWritten() async throws {
        try await withTestDatabase { db in
            try await Migrator.bundled().migrate(db.client, logger: TestDatabase.logger)
            let before = try await snapshot(db)
            do {
                _ = try await store(db).apply(yaml: try exampleYAML(), file: "x.yaml", environment: ["TANDEM_SECRET_REDMINE_API_KEY": "k"])
                Issue.record("no error")
            } catch let error as ConfigError {
                #expect(error.issues.count == 1)
                #expect(error.issues[0].kind == .missingSecret)
                #expect(error.issues[0].path == "repositories[1].auth.password")
                #expect(error.issues[0].reason.contains("TANDEM_SECRET_ROUNDUP_PASSWORD"))
            }
            #expect(try await snapshot(db) == before)
        }
    }

    @Test func secretsAreNeitherInPgDumpNorInExport() async throws {
        try await withTestDatabase { db in
            try await Migrator.bundled().migrate(db.client, logger: TestDatabase.logger)
            _ = try await store(db).apply(yaml: try exampleYAML(), environment: exampleSecrets)
            let export = try await store(db).exportYAML()
            let dump = try await pgDump(db.url)
            #expect(dump.contains("CREATE TABLE public.repositories"), "pg_dump produced no schema")
            #expect(dump.contains("X-Redmine-API-Key"))
            for secret in exampleSecrets.values {
                #expect(!dump.contains(secret), "a secret is readable in pg_dump output")
                #expect(!export.contains(secret), "a secret is in the export")
                // Not even as hex of its bytes (bytea dumps as hex).
                let hex = secret.utf8.map { String(format: "%02x", $0) }.joined()
                #expect(!dump.contains(hex))
            }
        }
    }

    @Test func wrongKeyIsAClearErrorAndRotationMovesEverything() async throws {
        try await withTestDatabase { db in
            try await Migrator.bundled().migrate(db.client, logger: TestDatabase.logger)
            _ = try await store(db).apply(yaml: try exampleYAML(), environment: exampleSecrets)
            do {
                _ = try await store(db, key: keyB).apply(yaml: try exampleYAML(), environment: exampleSecrets)
                Issue.record("a wrong key was accepted")
            } catch let error as SecretError {
                #expect(error.kind == .wrongKey)
                #expect(error.description.contains(keyA.id) && error.description.contains(keyB.id))
            }
            let rotated = try await KeyRotation(client: db.client, logger: TestDatabase.logger).rotate(from: keyA, to: keyB)
            #expect(rotated == 2)
            // After rotation the new key reads every secret (re-applying without env keeps them: no changes).
            let plan = try await store(db, key: keyB).apply(yaml: try exampleYAML(), environment: [:])
            #expect(!plan.hasChanges, "\(plan)")
            let stillSame = try await store(db, key: keyB).apply(yaml: try exampleYAML(), environment: exampleSecrets)
            #expect(!stillSame.hasChanges, "secrets changed across rotation: \(stillSame)")
            await #expect(throws: SecretError.self) { try await store(db, key: keyA).apply(yaml: try exampleYAML(), environment: [:]) }
            // Rotating from the wrong old key fails and changes nothing.
            await #expect(throws: SecretError.self) {
                try await KeyRotation(client: db.client, logger: TestDatabase.logger).rotate(from: keyA, to: keyB)
            }
        }
    }
}

func pgDump(_ url: String) async throws -> String {
    let candidates = ["/usr/lib/postgresql/15/bin/pg_dump", "/usr/bin/pg_dump"]
    let executable = URL(fileURLWithPath: candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/pg_dump")
    let outcome = try await runProcess(executable, ["--no-owner", url])
    guard outcome.status == 0 else { throw TestSetupError(message: "pg_dump failed with status \(outcome.status)") }
    return outcome.output
}
