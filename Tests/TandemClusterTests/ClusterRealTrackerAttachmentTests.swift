import Foundation
import Postgres
import Redis
import TandemCluster
import TandemConnectors
import TandemCore
import TandemStore
import Testing

/// The whole cluster against the real Redmine and Roundup (Ops/trackers/up.sh): an attachment added in Redmine
/// reaches the Roundup twin, one added there comes back, byte for byte, and nothing repeats. The trackers keep every
/// earlier test's issues, so the cursors start at the trackers' current time (and Redis's epoch is set, so the
/// coordinator does not rewind them to the beginning), and a filter keeps the sync to this run's issues.
@Suite(
    "Cluster against real Redmine and Roundup: attachments", .timeLimit(.minutes(20)),
    .disabled(if: ProcessInfo.processInfo.environment["TANDEM_E2E"] == "0", "TANDEM_E2E=0"),
    .enabled(
        if: ["TANDEM_REDMINE_URL", "TANDEM_REDMINE_API_KEY", "TANDEM_ROUNDUP_URL", "TANDEM_ROUNDUP_USER", "TANDEM_ROUNDUP_PASSWORD"]
            .allSatisfy { ProcessInfo.processInfo.environment[$0] != nil }))
struct RealTrackerAttachments {
    static let env = RealTrackerEndToEndTests.environment
    static let runID = "att" + String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)
    /// A Redmine project of its own (issue 13 §6: the suites no longer share `sync`).
    static let redmineProject = (try? RealTrackerEndToEndTests.createRedmineProjectBlocking(runID)) ?? env["TANDEM_REDMINE_PROJECT"] ?? "sync"
    /// Roundup's only project: the tracker's name, the last component of its URL.
    static let roundupProject = URL(string: env["TANDEM_ROUNDUP_URL"] ?? "")?.lastPathComponent ?? "lab"

    static func yaml() -> String {
        """
        version: 1
        settings:
          changeDetectionInterval: 1s
        repositories:
        \(RealTrackerYAML.redmineRepository)
          - name: roundup
            type: roundup
            url: \(env["TANDEM_ROUNDUP_URL"] ?? "")
            auth:
              kind: basic
              username: \(env["TANDEM_ROUNDUP_USER"] ?? "")
              password: ${TANDEM_SECRET_ROUNDUP_PASSWORD}
        models:
          - name: Note
            fields:
              - name: title
                type: string
                required: true
        collections:
          - name: redmine-issues
            repository: redmine
            artifactType: "1"
            projects: [\(Self.redmineProject)]
            model: Note
            fields:
              - field: subject
                modelField: title
          - name: roundup-issues
            repository: roundup
            artifactType: issue
            projects: [\(Self.roundupProject)]
            model: Note
            fields:
              - field: title
                modelField: title
        integrations:
          - name: sync
            left: redmine-issues
            right: roundup-issues
            running: true
            comments: none
            attachments:
              direction: both
            filters:
              conditions:
                - field: title
                  operator: contains
                  value: \(Self.runID)
            routes:
              - from: left
                sourceProjects: [\(Self.redmineProject)]
                targetProject: \(Self.roundupProject)
              - from: right
                sourceProjects: [\(Self.roundupProject)]
                targetProject: \(Self.redmineProject)
            schedule:
              changeDetection:
                interval: 1s
              fullScanEnabled: false

        """
    }

    /// File name → bytes of an artifact's attachments (a repeated name gets "#2").
    static func files(_ connector: any Connector, _ id: String) async throws -> [String: Data] {
        var files: [String: Data] = [:]
        for info in try await connector.artifact(id: id).attachments {
            let name = files[info.filename] == nil ? info.filename : "\(info.filename)#2"
            files[name] = try await connector.attachmentContent(artifactID: id, attachment: info)
        }
        return files
    }

    /// The traces, cursors and open activity, for a failure's message.
    static func diagnostics(_ h: ClusterHarness) async throws -> String {
        var lines: [String] = []
        for row in try await h.database.client.query(
            "SELECT side, artifact_id, coalesce(last_outcome, '-'), coalesce(last_reasons, '-'), coalesce(last_error, '-') FROM artifact_trace")
        {
            let (side, id, outcome, reasons, error) = try row.decode((String, String, String, String, String).self)
            lines.append("trace \(side) \(id): \(outcome) [\(reasons)] \(error)")
        }
        for row in try await h.database.client.query("SELECT side, cursor FROM cursors") {
            let (side, cursor) = try row.decode((String, String).self)
            lines.append("cursor \(side): \(cursor.prefix(200))")
        }
        for row in try await h.database.client.query("SELECT kind, code, message FROM activity") {
            let (kind, code, message) = try row.decode((String, String, String).self)
            lines.append("activity \(kind) \(code): \(message)")
        }
        return lines.joined(separator: "\n")
    }

    @Test("A Redmine attachment reaches the Roundup twin and one added there comes back, once each, byte for byte")
    func redmineToRoundupAndBack() async throws {
        try await RealTrackerLock.exclusive {
            let h = try await ClusterHarness.start(environment: Self.env) { _, _ in Self.yaml() }
            do {
                try await self.run(h)
            } catch {
                await h.finish()
                throw error
            }
            await h.finish()
        }
    }

    func run(_ h: ClusterHarness) async throws {
        // The cluster's own connectors (same configuration and secrets).
        let snapshot = try await h.runtime.snapshot()
        let redmine = try h.runtime.connector(for: try #require(snapshot.repository("redmine")))
        let roundup = try h.runtime.connector(for: try #require(snapshot.repository("roundup")))
        // No rewind to the beginning of the feeds (a new installation's epoch), and the cursors start now.
        _ = try await h.redis.send("SET", h.prefix + "epoch", "\(Date().timeIntervalSince1970)")
        let rows = try await h.database.client.query("SELECT id FROM integrations WHERE name = 'sync'")
        let integration = try #require(try rows.first?.decode(Int64.self, at: 0))
        let store = PairStore(client: h.database.client)
        let redmineStart = redmine.cursor(startingAt: try await redmine.repositoryTime())
        let roundupStart = roundup.cursor(startingAt: try await roundup.repositoryTime())
        try await store.saveCursors([Self.redmineProject: redmineStart.rawValue], integration: integration, side: .left)
        try await store.saveCursors([Self.roundupProject: roundupStart.rawValue], integration: integration, side: .right)

        let fromRedmine = Data([0x00, 0xFF]) + Data((0...255).map { UInt8($0) }) + Data([0xFF, 0x00])
        let fromRoundup = Data((0..<300).map { UInt8(truncatingIfNeeded: $0 * 13) }) + Data([0x00, 0xFF])
        let created = try await redmine.createArtifact(
            ArtifactDraft(project: Self.redmineProject, artifactType: "1", fields: ["subject": .string("cluster attachment \(Self.runID)")]))
        let redmineID = created.artifactID
        _ = try await redmine.uploadAttachment(
            id: redmineID, filename: "from redmine.bin", contentType: "application/octet-stream", data: fromRedmine)

        h.startCoordinator(id: "coordinator")
        try await h.startWorker(id: "worker-1")
        let reached = try await h.waitUntil(timeout: .seconds(90)) {
            guard let pair = try await h.pairs().first else { return false }
            return try await Self.files(roundup, pair.right)["from redmine.bin"] == fromRedmine
        }
        let diagnostics = reached ? "" : try await Self.diagnostics(h)
        #expect(reached, "the Redmine attachment reached the Roundup twin: \(diagnostics)")
        let pairs = try await h.pairs()
        #expect(pairs.count == 1, "\(pairs)")
        let pair = try #require(pairs.first)
        #expect(pair.left == redmineID)

        _ = try await roundup.uploadAttachment(
            id: pair.right, filename: "from roundup.bin", contentType: "application/x-tandem-test", data: fromRoundup)
        let expected = ["from redmine.bin": fromRedmine, "from roundup.bin": fromRoundup]
        let back = try await h.waitUntil(timeout: .seconds(90)) { try await Self.files(redmine, redmineID) == expected }
        let diagnosticsBack = back ? "" : try await Self.diagnostics(h)
        #expect(back, "the Roundup attachment came back to Redmine: \(diagnosticsBack)")
        // Several more detection cycles: no copy repeats or echoes.
        try await Task.sleep(for: .seconds(6))
        let redmineFiles = try await Self.files(redmine, redmineID)
        let roundupFiles = try await Self.files(roundup, pair.right)
        #expect(redmineFiles == expected, "Redmine: \(redmineFiles.keys.sorted())")
        #expect(roundupFiles == expected, "Roundup: \(roundupFiles.keys.sorted())")
        let types = try await redmine.artifact(id: redmineID).attachments.map { "\($0.filename)=\($0.contentType ?? "-")" }
        #expect(types.contains("from roundup.bin=application/x-tandem-test"), "\(types)")
        #expect(try await h.pairs().count == 1)
        let errors = try await h.database.client.query("SELECT kind, code, message FROM activity WHERE kind IN ('error', 'blocker')")
        var problems: [String] = []
        for row in errors { problems.append(try row.decode(String.self, at: 2)) }
        #expect(problems.isEmpty, "\(problems)")
        print("e2e real trackers: Redmine #\(redmineID) ↔ Roundup issue\(pair.right): attachments both ways, \(redmineFiles.count) files each")
        #expect(h.exitedProcesses.isEmpty)
    }
}
