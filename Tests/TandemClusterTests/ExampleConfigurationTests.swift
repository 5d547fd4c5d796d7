import Foundation
import Postgres
import Redis
import TandemCluster
import TandemConfig
import TandemConnectors
import TandemCore
import TandemStore
import Testing

/// Every example configuration shipped is run by a test (issue 13): each file under `docs/examples` parses, validates
/// and builds its synchronizers; the guide's complete example is that file, word for word; and the Redmine ↔ Roundup
/// example runs against the real trackers — issues created on both sides get their twins with their exact text and no
/// error, and closing an issue on either side closes its twin before the pair leaves (the filter `status not-equals
/// Closed`).
@Suite("Shipped example configurations")
struct ExampleConfigurationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let examples = root.appending(path: "docs/examples")

    static func exampleFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: Self.examples, includingPropertiesForKeys: nil).filter { $0.pathExtension == "yaml" }
            .sorted { $0.path < $1.path }
    }

    @Test("each example parses, validates and builds its rules; the guide shows the example file as it is")
    func examplesValidate() throws {
        let files = try Self.exampleFiles()
        #expect(!files.isEmpty)
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            let configuration = try ConfigParser.parse(text, file: file.lastPathComponent)
            #expect(RulesBuilder.validate(configuration, file: file.lastPathComponent).isEmpty, "\(file.lastPathComponent)")
            #expect(!configuration.integrations.isEmpty, "\(file.lastPathComponent) has an integration")
        }
        let guide = try String(contentsOf: Self.root.appending(path: "docs/configuration.md"), encoding: .utf8)
        let example = try String(contentsOf: Self.examples.appending(path: "redmine-roundup.yaml"), encoding: .utf8)
        #expect(guide.contains("```yaml\n" + example + "```"), "docs/configuration.md's complete example is docs/examples/redmine-roundup.yaml")
    }

    /// The example with the test's trackers: their addresses, a Redmine project of its own (for `sync`), detection every
    /// 2 s, and — Roundup's tracker being shared with other tests — one more filter condition: titles with the run's tag.
    static func runnable(project: String, tag: String) throws -> String {
        let env = RealTrackerEndToEndTests.environment
        var text = try String(contentsOf: Self.examples.appending(path: "redmine-roundup.yaml"), encoding: .utf8)
        let replacements: [(String, String)] = [
            ("changeDetectionInterval: 30s", "changeDetectionInterval: 2s"), ("interval: 20s", "interval: 2s"),
            ("url: http://127.0.0.1:3310", "url: \(env["TANDEM_REDMINE_URL"]!)"),
            ("url: http://127.0.0.1:8930/lab", "url: \(env["TANDEM_ROUNDUP_URL"]!)"),
            ("markerField: \"1\"", "markerField: \"\(env["TANDEM_REDMINE_MARKER_FIELD"] ?? "1")\""), ("[sync]", "[\(project)]"),
            ("targetProject: sync", "targetProject: \(project)"),
            (
                "          value: Closed\n",
                "          value: Closed\n        - side: right\n          field: title\n          operator: contains\n          value: \"\(tag)\"\n"
            ),
        ]
        for (from, to) in replacements {
            #expect(text.contains(from), "the example still has \(from)")
            text = text.replacingOccurrences(of: from, with: to)
        }
        return text
    }

    @Test(
        "the Redmine ↔ Roundup example against the real trackers: twins, exact text, no error; closing reaches the twin",
        .timeLimit(.minutes(20)), .disabled(if: ProcessInfo.processInfo.environment["TANDEM_E2E"] == "0", "TANDEM_E2E=0"),
        .enabled(
            if: ["TANDEM_REDMINE_URL", "TANDEM_REDMINE_API_KEY", "TANDEM_ROUNDUP_URL", "TANDEM_ROUNDUP_PASSWORD"].allSatisfy {
                ProcessInfo.processInfo.environment[$0] != nil
            }, "needs the real trackers (Ops/trackers/up.sh)"))
    func redmineRoundupExample() async throws { try await RealTrackerLock.exclusive { try await self.redmineRoundupExampleExclusive() } }

    func redmineRoundupExampleExclusive() async throws {
        let tag = "ex" + UUID().uuidString.prefix(8).lowercased()
        let project = try await RealTrackerEndToEndTests.createRedmineProject(tag)
        let yaml = try Self.runnable(project: project, tag: tag)
        let h = try await ClusterHarness.start(environment: RealTrackerEndToEndTests.environment) { _, _ in yaml }
        do {
            let snapshot = try await h.runtime.snapshot(force: true)
            let redmine = try h.runtime.connector(for: try #require(snapshot.repository("redmine")))
            let roundup = try h.runtime.connector(for: try #require(snapshot.repository("roundup")))
            _ = try await h.redis.send("SET", h.prefix + "epoch", "\(Date().timeIntervalSince1970)")
            let integration = try #require(
                try await h.database.client.query("SELECT id FROM integrations WHERE name = 'bugs'").first?.decode(Int64.self, at: 0))
            let roundupStart = roundup.cursor(startingAt: try await roundup.repositoryTime())
            try await PairStore(client: h.database.client).saveCursors(["lab": roundupStart.rawValue], integration: integration, side: .right)

            let text = "Tom & Jerry say 2 < 3\n- a list item with `code`"
            let fromRedmine = try await redmine.createArtifact(
                ArtifactDraft(
                    project: project, artifactType: "1",
                    fields: [
                        "subject": .string("\(tag) redmine"), "description": .richText(text, markup: .markdown), "status": .select("New"),
                        "priority": .select("High"),
                    ])
            ).artifactID
            let fromRoundup = try await roundup.createArtifact(
                ArtifactDraft(
                    project: "lab", artifactType: "issue",
                    fields: [
                        "title": .string("\(tag) roundup"), "description": .richText(text, markup: .plain), "status": .select("unread"),
                        "priority": .select("bug"),
                    ])
            ).artifactID
            h.startCoordinator(id: "coordinator")
            try await h.startWorker(id: "worker-1")
            let paired = try await h.waitUntil(timeout: .seconds(180)) { try await h.pairs().count == 2 }
            #expect(paired)
            let pairs = try await h.pairs()
            let redmineTwin = try #require(pairs.first { $0.right == fromRoundup }?.left)
            let roundupTwin = try #require(pairs.first { $0.left == fromRedmine }?.right)
            #expect(
                try await roundup.artifact(id: roundupTwin).fields["description"]
                    == .richText("Tom & Jerry say 2 < 3\n- a list item with code", markup: .plain))
            #expect(
                try await redmine.artifact(id: redmineTwin).fields["description"]
                    == .richText("Tom & Jerry say 2 < 3\n\\- a list item with \\`code\\`", markup: .markdown))

            // Closing on either side reaches the twin; then the pair has left the integration.
            _ = try await roundup.updateFields(id: fromRoundup, ["status": .select("resolved")])
            _ = try await redmine.updateFields(id: fromRedmine, ["status": .select("Closed")])
            let closed = try await h.waitUntil(timeout: .seconds(120)) {
                let left = RealTrackerEndToEndTests.text(try await redmine.artifact(id: redmineTwin).fields["status"])
                let right = RealTrackerEndToEndTests.text(try await roundup.artifact(id: roundupTwin).fields["status"])
                return left == "Closed" && right == "resolved"
            }
            #expect(closed, "both twins closed")
            // Later detections of the twins (Tandem's own writes) leave the pairs twinless.
            try await Task.sleep(for: .seconds(6))
            let statuses = try await h.pairs().map(\.status).sorted()
            #expect(statuses == ["twinless", "twinless"], "\(statuses)")
            let open = try await h.database.client.query(
                "SELECT message FROM activity WHERE integration_id = \(integration) AND status = 'open'"
            ).map { try $0.decode(String.self, at: 0) }
            #expect(open.isEmpty, "\(open)")
        } catch {
            await h.finish()
            throw error
        }
        await h.finish()
    }
}
