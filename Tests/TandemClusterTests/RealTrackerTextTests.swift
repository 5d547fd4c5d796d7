import Foundation
import Postgres
import Redis
import TandemCluster
import TandemConnectors
import TandemCore
import TandemStore
import Testing

/// Text carried exactly between the real Redmine (CommonMark) and Roundup (plain text), through the cluster (issue 13):
/// descriptions and comments with several lines, lists, code, emphasis, HTML-special characters, Unicode and trailing
/// spaces, both ways. Each side stores exactly the bytes expected: the same text where the markups agree, and where they
/// differ the conversion and nothing else — plain text gains no tags, no entities, no `<br>`. Then, with the
/// description flowing Redmine → Roundup on every update (the documentation's example), nothing is reported as changed
/// after the creates: no error, no write (a write's own result is what later detections compare with).
@Suite(
    "Text carried exactly between real Redmine and Roundup", .serialized, .timeLimit(.minutes(20)),
    .disabled(if: ProcessInfo.processInfo.environment["TANDEM_E2E"] == "0", "TANDEM_E2E=0"),
    .enabled(
        if: ["TANDEM_REDMINE_URL", "TANDEM_REDMINE_API_KEY", "TANDEM_ROUNDUP_URL", "TANDEM_ROUNDUP_PASSWORD"].allSatisfy {
            ProcessInfo.processInfo.environment[$0] != nil
        }, "needs the real trackers (Ops/trackers/up.sh)"))
struct RealTrackerTextTests {
    static let oneLine = "Tom & Jerry say 2 < 3 \"quoted\" 'single' > done"
    /// Written in Redmine (CommonMark).
    static let markdown = """
        Steps to **reproduce** & <check>:

        - open the `app` (v2.1)
        - type _naïve_ café — 😀

        ```
        let ok = a < b && c > d
        ```
        trailing spaces here  \n\tand a tab-led last line
        """
    /// Written in Roundup (plain text).
    static let plain = """
        Line one & <two> and 3 > 2
          * not a list, # not a heading
        1. not numbered either
        snake_case *stars* [brackets](x) \\ back
        Ünïcödé 😀 tab\there  \n  last line, indented
        """

    @Test("descriptions and comments keep their exact text both ways; no spurious change after the creates")
    func textBothWays() async throws { try await RealTrackerLock.exclusive { try await self.textBothWaysExclusive() } }

    func textBothWaysExclusive() async throws {
        let environment = RealTrackerEndToEndTests.environment
        let tag = "txt" + UUID().uuidString.prefix(8).lowercased()
        let project = try await RealTrackerEndToEndTests.createRedmineProject(tag)
        let h = try await ClusterHarness.start(environment: environment) { _, _ in
            RealTrackerEndToEndTests.yaml(redmineProject: project, tag: tag, descriptionLeftToRight: "update-normally")
        }
        do {
            let snapshot = try await h.runtime.snapshot(force: true)
            let redmine = try h.runtime.connector(for: try #require(snapshot.repository("redmine")))
            let roundup = try h.runtime.connector(for: try #require(snapshot.repository("roundup")))
            _ = try await h.redis.send("SET", h.prefix + "epoch", "\(Date().timeIntervalSince1970)")
            let integration = try #require(
                try await h.database.client.query("SELECT id FROM integrations WHERE name = 'sync'").first?.decode(Int64.self, at: 0))
            let roundupStart = roundup.cursor(startingAt: try await roundup.repositoryTime())
            try await PairStore(client: h.database.client).saveCursors(["lab": roundupStart.rawValue], integration: integration, side: .right)

            let fromRedmine = try await redmine.createArtifact(
                ArtifactDraft(
                    project: project, artifactType: "1",
                    fields: [
                        "subject": .string("\(tag) from redmine"), "description": .richText(Self.markdown, markup: .markdown),
                        "status": .select("New"), "priority": .select("Normal"),
                    ])
            ).artifactID
            _ = try await redmine.addComment(id: fromRedmine, text: Self.oneLine)
            _ = try await redmine.addComment(id: fromRedmine, text: Self.markdown)
            let fromRoundup = try await roundup.createArtifact(
                ArtifactDraft(
                    project: "lab", artifactType: "issue",
                    fields: [
                        "title": .string("\(tag) from roundup"), "description": .richText(Self.plain, markup: .plain),
                        "status": .select("unread"), "priority": .select("bug"),
                    ])
            ).artifactID
            _ = try await roundup.addComment(id: fromRoundup, text: Self.oneLine)
            _ = try await roundup.addComment(id: fromRoundup, text: Self.plain)

            // The trackers store what they were sent (Redmine's CR LF reads as LF).
            let redmineSource = try await redmine.artifact(id: fromRedmine)
            #expect(redmineSource.fields["description"] == .richText(Self.markdown, markup: .markdown))
            let roundupSource = try await roundup.artifact(id: fromRoundup)
            #expect(roundupSource.fields["description"] == .richText(Self.plain, markup: .plain))

            h.startCoordinator(id: "coordinator")
            try await h.startWorker(id: "worker-1")
            let synced = try await h.waitUntil(timeout: .seconds(240)) {
                let pairs = try await h.pairs()
                guard pairs.count == 2 else { return false }
                for pair in pairs {
                    let left = try await redmine.artifact(id: pair.left)
                    let right = try await roundup.artifact(id: pair.right)
                    // Roundup's description is its first message, which it does not list among the comments.
                    if left.comments.count < 2 || right.comments.count < 2 { return false }
                }
                return true
            }
            let problems = try await h.database.client.query(
                "SELECT kind || ' ' || coalesce(code, '') || ': ' || message FROM activity WHERE integration_id = \(integration)"
            ).map { try $0.decode(String.self, at: 0) }
            #expect(synced, "two pairs, each twin with its comments; activity: \(problems)")
            let pairs = try await h.pairs()
            let roundupTwin = try await roundup.artifact(id: try #require(pairs.first { $0.left == fromRedmine }).right)
            let redmineTwin = try await redmine.artifact(id: try #require(pairs.first { $0.right == fromRoundup }).left)

            // Redmine (CommonMark) → Roundup (plain): the syntax goes, every other byte stays.
            let markdownAsPlain = Markup.convert(Self.markdown, from: .markdown, to: .plain)
            #expect(
                markdownAsPlain
                    == "Steps to reproduce & <check>:\n\n- open the app (v2.1)\n- type naïve café — 😀\n\nlet ok = a < b && c > d\ntrailing spaces here  \n\tand a tab-led last line"
            )
            #expect(roundupTwin.fields["description"] == .richText(markdownAsPlain, markup: .plain))
            let roundupComments = roundupTwin.comments.map(\.text)
            #expect(roundupComments.count == 2, "\(roundupTwin.comments.map(\.text))")
            #expect(roundupComments.filter { $0.hasSuffix(": " + Self.oneLine) }.count == 1, "\(roundupComments)")
            #expect(roundupComments.filter { $0.hasSuffix(": " + markdownAsPlain) }.count == 1, "\(roundupComments)")

            // Roundup (plain) → Redmine (CommonMark): only what Markdown would read as syntax is escaped.
            let plainAsMarkdown = Markup.convert(Self.plain, from: .plain, to: .markdown)
            #expect(
                plainAsMarkdown
                    == "Line one & \\<two> and 3 > 2\n  \\* not a list, # not a heading\n1\\. not numbered either\n"
                    + "snake_case \\*stars\\* \\[brackets](x) \\ back\nÜnïcödé 😀 tab\there  \n  last line, indented")
            #expect(redmineTwin.fields["description"] == .richText(plainAsMarkdown, markup: .markdown))
            let redmineComments = redmineTwin.comments.map(\.text)
            #expect(redmineComments.count == 2, "\(redmineComments)")
            #expect(redmineComments.filter { $0.hasSuffix(": " + Self.oneLine) }.count == 1, "\(redmineComments)")
            #expect(redmineComments.filter { $0.hasSuffix(": " + plainAsMarkdown) }.count == 1, "\(redmineComments)")

            // No spurious change: a few detection rounds later nothing was written and nothing failed.
            let versions = [
                try await redmine.artifact(id: fromRedmine).version, try await roundup.artifact(id: roundupTwin.id).version,
                try await roundup.artifact(id: fromRoundup).version, try await redmine.artifact(id: redmineTwin.id).version,
            ]
            try await Task.sleep(for: .seconds(10))
            let after = [
                try await redmine.artifact(id: fromRedmine).version, try await roundup.artifact(id: roundupTwin.id).version,
                try await roundup.artifact(id: fromRoundup).version, try await redmine.artifact(id: redmineTwin.id).version,
            ]
            #expect(after == versions, "nothing written after the creates")
            let errors = try await h.database.client.query(
                "SELECT message FROM activity WHERE integration_id = \(integration) AND status = 'open'"
            ).map { try $0.decode(String.self, at: 0) }
            #expect(errors.isEmpty, "\(errors)")
            let traces = try await h.database.client.query(
                "SELECT coalesce(last_reasons, '') FROM artifact_trace WHERE integration_id = \(integration)"
            ).map { try $0.decode(String.self, at: 0) }
            #expect(!traces.contains { $0.contains("changed, but not flowing") }, "\(traces)")
        } catch {
            await h.finish()
            throw error
        }
        await h.finish()
    }
}
