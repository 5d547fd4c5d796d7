import Foundation
import Postgres
import TandemConfig
import TandemConnectors
import TandemStore
import Testing

/// A repository and a model on top of the example, each value of which the database used to refuse after `--dry-run`
/// had accepted it (issue 14 §4).
let unstorable: [(name: String, replace: String, with: String, path: String, reason: String)] = [
    (
        "an interval beyond PostgreSQL's integer", "        changeDetection:\n          interval: 20s",
        "        changeDetection:\n          interval: 2147483648s", "integrations[0].schedule.right.changeDetection.interval",
        "at most 2147483647s"
    ),
    ("a NUL character in a name", "  - name: Defect\n", "  - name: \"Def\\0ect\"\n", "models[0].name", "NUL"),
    (
        // Not compressible, so PostgreSQL cannot squeeze it into an index entry.
        "a 10 KB name", "  - name: Defect\n",
        "  - name: \(incompressible(10_000))\n", "models[0].name", "at most 255"
    ),
    (
        "a NUL character in a select value", "values: [Low, Normal, High, Urgent]", "values: [Low, Normal, High, \"Urg\\0ent\"]",
        "models[0].fields[3].values[3]", "NUL"
    ),
]

/// `count` letters that no compression shortens.
func incompressible(_ count: Int) -> String {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    return String(
        (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Character(Unicode.Scalar(UInt8(97 + (state >> 33) % 26)))
        })
}

/// Text that would mean internals had reached the user.
func soundsInternal(_ text: String) -> Bool {
    ["INSERT", "SELECT", "PostgresError", "sqlState", "SQLSTATE", "constraint", "query:", "btree", "out of range for type"].contains {
        text.contains($0)
    }
}

@Suite(.serialized) struct ConfigSafetyTests {
    /// What the database cannot hold is refused by validation, with the file, line and field, by `--dry-run` as by
    /// `apply`; nothing is written.
    @Test func valuesTheDatabaseCannotHoldAreRefusedFirst() async throws {
        try await withTestDatabase(poolSize: 2) { db in
            try await Migrator.bundled().migrate(db.client, logger: TestDatabase.logger)
            let before = try await snapshot(db)
            for bad in unstorable {
                let text = try exampleYAML()
                #expect(text.contains(bad.replace), "\(bad.name): the edit no longer applies")
                let edited = text.replacingOccurrences(of: bad.replace, with: bad.with)
                for dryRun in [true, false] {
                    do {
                        _ = try await store(db).apply(yaml: edited, file: "bad.yaml", environment: exampleSecrets, dryRun: dryRun)
                        Issue.record("\(bad.name): accepted (dry run: \(dryRun))")
                    } catch let error as ConfigError {
                        let issue = error.issues.first
                        #expect(issue?.path == bad.path, "\(bad.name): \(error)")
                        #expect(issue?.reason.contains(bad.reason) == true, "\(bad.name): \(error)")
                        #expect(issue?.file == "bad.yaml" && issue?.line != nil, "\(bad.name): \(error)")
                    } catch {
                        Issue.record("\(bad.name): \(String(reflecting: error))")
                    }
                }
            }
            #expect(try await snapshot(db) == before)
        }
    }

    /// A refusal validation does not foresee (here a constraint the test adds) is a clean error: the entity, its line
    /// and what kind of value, no SQL or server text; the transaction is rolled back.
    @Test func aDatabaseRefusalBecomesACleanErrorAndChangesNothing() async throws {
        try await withTestDatabase(poolSize: 2) { db in
            try await Migrator.bundled().migrate(db.client, logger: TestDatabase.logger)
            _ = try await store(db).apply(yaml: try exampleYAML(), environment: exampleSecrets)
            try await db.client.query("ALTER TABLE collections ADD CONSTRAINT test_refusal CHECK (artifact_type <> 'Refused')")
            let before = try await snapshot(db)
            let edited = try exampleYAML().replacingOccurrences(of: "artifactType: issue", with: "artifactType: Refused")
            do {
                _ = try await store(db).apply(yaml: edited, file: "bad.yaml", environment: exampleSecrets)
                Issue.record("accepted")
            } catch let error as ConfigError {
                #expect(error.issues.count == 1)
                let issue = try #require(error.issues.first)
                #expect(issue.kind == .notStored)
                #expect(issue.path == "collections[1]")
                #expect(issue.file == "bad.yaml" && issue.line != nil, "\(issue)")
                #expect(issue.reason.contains("collection 'roundup-issues'"), "\(issue)")
                #expect(!soundsInternal(error.description), "\(error)")
            } catch {
                Issue.record("not a clean error: \(String(reflecting: error))")
            }
            #expect(try await snapshot(db) == before)
        }
    }

    /// Every hostile file, applied the way `tandem apply` does it, is refused and leaves the database as it was.
    @Test func hostileFilesLeaveTheDatabaseUnchanged() async throws {
        try await withTestDatabase(poolSize: 2) { db in
            try await Migrator.bundled().migrate(db.client, logger: TestDatabase.logger)
            _ = try await store(db).apply(yaml: try exampleYAML(), environment: exampleSecrets)
            let before = try await snapshot(db)
            for input in hostileInputs {
                do {
                    let (configuration, locations) = try ConfigParser.parseLocated(bytes: input.bytes(), file: "hostile.yaml")
                    _ = try await store(db).apply(
                        configuration, file: "hostile.yaml", locations: locations, environment: exampleSecrets, prune: true)
                    Issue.record("\(input.name): applied")
                } catch let error as ConfigError {
                    #expect(error.issues.first?.line != nil, "\(input.name): \(error)")
                }
            }
            #expect(try await snapshot(db) == before)
        }
    }

    /// A stored repository of a tool this build does not connect to (a connector removed, or a newer build's data) is
    /// kept with its collections, not silently dropped: its connector then fails naming the repository, a blocker an
    /// admin sees (issue 15). Before, the load skipped it and its collections pointed at nothing.
    @Test func aStoredRepositoryOfAnUnregisteredToolIsKeptAndNamed() async throws {
        try await withTestDatabase(poolSize: 2) { db in
            try await Migrator.bundled().migrate(db.client, logger: TestDatabase.logger)
            _ = try await store(db).apply(yaml: try exampleYAML(), environment: exampleSecrets)
            try await db.client.query("UPDATE repositories SET kind = 'retired-tool' WHERE name = 'roundup'")
            let (configuration, _) = try await store(db).loadForRuntime()
            let roundup = try #require(configuration.repositories.first { $0.name == "roundup" }, "the repository was dropped")
            #expect(roundup.kind.rawValue == "retired-tool")
            #expect(configuration.collections.contains { $0.repository == "roundup" })
            #expect(ConnectorRegistry.registration("retired-tool") == nil)
            #expect(roundup.kind.registration.summary == "not a registered tool")
        }
    }

    /// A file without `settings` leaves the stored settings alone; only --prune resets them (issue 14 §8).
    @Test func aFileWithoutSettingsKeepsTheStoredOnes() async throws {
        try await withTestDatabase(poolSize: 2) { db in
            try await Migrator.bundled().migrate(db.client, logger: TestDatabase.logger)
            _ = try await store(db).apply(yaml: try exampleYAML(), environment: exampleSecrets)
            #expect(try await store(db).settings().changeDetectionInterval.seconds == 30)
            let withoutSettings = try exampleYAML().replacingOccurrences(of: "settings:\n  changeDetectionInterval: 30s\n", with: "")
            #expect(!withoutSettings.contains("settings:"))
            let plan = try await store(db).apply(yaml: withoutSettings, environment: exampleSecrets)
            #expect(!plan.hasChanges, "\(plan)")
            #expect(try await store(db).settings().changeDetectionInterval.seconds == 30)
            let pruned = try await store(db).apply(yaml: withoutSettings, environment: exampleSecrets, prune: true)
            #expect(pruned.changes.contains { $0.entity == "settings" && $0.action == .update }, "\(pruned)")
            #expect(try await store(db).settings() == Settings())
        }
    }

    /// `${VAR}` may name only TANDEM_SECRET_ variables: the applying process's own (its database's admin URL, say)
    /// cannot be copied into a repository's credentials (issue 14 §8). A reference stored under another name before
    /// the rule is kept while unchanged, never read from the environment.
    @Test func secretsNameOnlyTandemSecretVariables() async throws {
        try await withTestDatabase(poolSize: 2) { db in
            try await Migrator.bundled().migrate(db.client, logger: TestDatabase.logger)
            let before = try await snapshot(db)
            let hostile = try exampleYAML().replacingOccurrences(of: "${TANDEM_SECRET_REDMINE_API_KEY}", with: "${TANDEM_PG_ADMIN_URL}")
            var environment = exampleSecrets
            environment["TANDEM_PG_ADMIN_URL"] = "postgresql://postgres:admin-password@127.0.0.1/postgres"
            for dryRun in [true, false] {
                do {
                    _ = try await store(db).apply(yaml: hostile, file: "x.yaml", environment: environment, dryRun: dryRun)
                    Issue.record("a process variable was read into a secret (dry run: \(dryRun))")
                } catch let error as ConfigError {
                    let issue = try #require(error.issues.first)
                    #expect(issue.kind == .forbiddenVariable, "\(error)")
                    #expect(issue.path == "repositories[0].auth.key")
                    #expect(issue.reason.contains("TANDEM_PG_ADMIN_URL") && issue.reason.contains("TANDEM_SECRET_"), "\(issue)")
                    #expect(issue.line == 11, "\(issue)")
                    #expect(!error.description.contains("admin-password"))
                }
            }
            #expect(try await snapshot(db) == before)

            // A reference stored under another name (before the rule) keeps its secret while unchanged, and the variable
            // of that name is not read.
            _ = try await store(db).apply(yaml: try exampleYAML(), environment: exampleSecrets)
            try await db.client.query(
                "UPDATE repositories SET auth_settings = jsonb_set(auth_settings, '{secretRef}', '\"LEGACY_KEY\"') WHERE name = 'redmine'")
            let legacy = try exampleYAML().replacingOccurrences(of: "${TANDEM_SECRET_REDMINE_API_KEY}", with: "${LEGACY_KEY}")
            let plan = try await store(db).apply(yaml: legacy, environment: exampleSecrets.merging(["LEGACY_KEY": "other"]) { a, _ in a })
            #expect(!plan.hasChanges, "\(plan)")
        }
    }
}
