import Foundation
import TandemConfig
import TandemStore
import Testing

/// Issue 14 §1, `tandem apply`: a file that keeps a secret's `${VAR}` reference without setting the variable keeps the
/// stored secret only while the repository still points where it did (the URL's origin, the proxy, the authentication
/// kind, certificate checks on).
@Suite(.serialized) struct SecretOriginTests {
    static func refusal(_ db: TestDatabase, _ yaml: String) async throws -> ConfigIssue? {
        do {
            _ = try await store(db).apply(yaml: yaml, file: "moved.yaml", environment: [:])
            return nil
        } catch let error as ConfigError {
            return error.issues.first
        }
    }

    @Test func aFileThatMovesARepositoryNeedsItsSecretAgain() async throws {
        try await withTestDatabase { db in
            try await Migrator.bundled().migrate(db.client, logger: TestDatabase.logger)
            _ = try await store(db).apply(yaml: try exampleYAML(), environment: exampleSecrets)
            let before = try await snapshot(db)
            let original = try exampleYAML()
            for (what, replace, with) in [
                ("another host", "url: http://127.0.0.1:3310", "url: http://collector.example.net:3310"),
                ("another port", "url: http://127.0.0.1:3310", "url: http://127.0.0.1:3311"),
                ("another scheme", "url: http://127.0.0.1:3310", "url: https://127.0.0.1:3310"),
                ("a proxy", "url: http://127.0.0.1:3310\n", "url: http://127.0.0.1:3310\n    proxy:\n      url: http://collector.example.net:3128\n"),
                ("certificate checks off", "url: http://127.0.0.1:3310\n", "url: http://127.0.0.1:3310\n    allowInsecure: true\n"),
                (
                    "another authentication kind", "kind: api-key\n      key: ${TANDEM_SECRET_REDMINE_API_KEY}\n      header: X-Redmine-API-Key",
                    "kind: bearer\n      token: ${TANDEM_SECRET_REDMINE_API_KEY}"
                ),
            ] {
                #expect(original.contains(replace), "\(what)")
                let issue = try await Self.refusal(db, original.replacingOccurrences(of: replace, with: with))
                #expect(issue?.kind == .missingSecret, "\(what): \(String(describing: issue))")
                #expect(issue?.path.hasPrefix("repositories[0].auth.") == true, "\(what): \(String(describing: issue))")
                #expect(issue?.reason.contains("TANDEM_SECRET_REDMINE_API_KEY") == true && issue?.reason.contains("again") == true, "\(what)")
                #expect(issue?.file == "moved.yaml")
            }
            #expect(try await snapshot(db) == before)
            // Another path on the same origin keeps it; so does the variable given again with the new host.
            let path = original.replacingOccurrences(of: "url: http://127.0.0.1:3310", with: "url: http://127.0.0.1:3310/redmine")
            #expect(try await Self.refusal(db, path) == nil)
            #expect(try await store(db).loadForRuntime().1["redmine"]?["auth"] == exampleSecrets["TANDEM_SECRET_REDMINE_API_KEY"])
            let moved = original.replacingOccurrences(of: "url: http://127.0.0.1:3310", with: "url: http://collector.example.net:3310")
            _ = try await store(db).apply(yaml: moved, environment: ["TANDEM_SECRET_REDMINE_API_KEY": "given-again"])
            #expect(try await store(db).loadForRuntime().1["redmine"]?["auth"] == "given-again")
        }
    }
}
