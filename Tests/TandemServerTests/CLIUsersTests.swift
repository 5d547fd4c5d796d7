import Foundation
import Postgres
import TandemStore
import TandemTestSupport
import Testing

/// The built `tandem` executable, beside this test bundle (`swift build --build-tests` builds both).
func tandemExecutable() throws -> URL {
    let runner = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).resolvingSymlinksInPath()
    var directory = runner.deletingLastPathComponent()
    // The bundle may be a directory (…/TandemPackageTests.xctest/…) on some platforms: walk up to the bin folder.
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("tandem")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    throw TestSetupError(description: "no tandem executable near \(runner.path): run `swift build --build-tests` first")
}

/// Runs `tandem` with `arguments` and `environment` (added to this process's); returns the exit status, stdout and stderr.
func runTandem(
    _ arguments: [String], environment: [String: String] = [:], input: String? = nil
) async throws -> (
    status: Int32, output: String, error: String
) {
    let outcome = try await runProcess(
        try tandemExecutable(), arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new },
        input: input)
    return (outcome.status, outcome.output, outcome.error)
}

@Suite("tandem users", .serialized, .timeLimit(.minutes(2)))
struct CLIUsersTests {
    /// Issue 14 §8: a user made without `--role` silently got the `user` role (configuration rights); now the role is
    /// required and the error lists the roles.
    @Test func addingAUserNeedsARole() async throws {
        try await withTestDatabaseURL { postgres, url in
            let environment = ["TANDEM_DATABASE_URL": url, "LOG_LEVEL": "error"]
            let refused = try await runTandem(["users", "add", "nora"], environment: environment, input: "nora-password-1\n")
            #expect(refused.status != 0, "\(refused)")
            #expect(refused.error.contains("--role"), "\(refused.error)")
            for role in Role.allCases { #expect(refused.error.contains(role.rawValue), "\(role): \(refused.error)") }
            // Nothing was made (the command may have created the tables: the users table is empty if it exists).
            let exists = try await postgres.query("SELECT to_regclass('users') IS NOT NULL").first?.decode(Bool.self, at: 0) ?? false
            if exists { #expect(try await postgres.query("SELECT count(*) FROM users").first?.decode(Int.self, at: 0) == 0) }
            // With a role it works.
            let made = try await runTandem(
                ["users", "add", "nora", "--role", "troubleshooting"], environment: environment, input: "nora-password-1\n")
            #expect(made.status == 0, "\(made)")
            #expect(
                try await postgres.query("SELECT roles::text FROM users WHERE username = 'nora'").first?.decode(String.self, at: 0)
                    == "{troubleshooting}")
        }
    }
}
