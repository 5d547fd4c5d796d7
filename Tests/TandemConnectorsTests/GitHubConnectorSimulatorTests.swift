import Foundation
import HTTP
import TandemCore
import Testing

@testable import TandemConnectors

/// The GitHub connector against the GitHub simulator (validating every request and answer against GitHub's own
/// description): an issue written with every field kind and read back, comments, the feed with pull requests mixed in,
/// the hidden marker, and a private repository the token may not see.
@Suite struct GitHubConnectorSimulatorTests {
    static func connector(_ site: GitHubTestSite, token: String = GitHubTestSite.token) -> GitHubConnector {
        GitHubConnector(
            .init(
                baseURL: URL(string: site.api)!, credentials: .bearer(Secret(token)), settings: ConnectorUnderTest.settings("github-\(site.name)"),
                labelPrefixes: ["priority: "]),
            client: ConnectorUnderTest.client)
    }

    @Test func anIssueIsWrittenAndReadWithEveryFieldKind() async throws {
        let site = try await GitHubTestSite.make("gc-fields")
        let gh = Self.connector(site)
        let written = try await gh.createArtifact(
            ArtifactDraft(
                project: "tandem/demo", artifactType: "issue",
                fields: [
                    "title": .string("Login fails & <b>"), "body": .richText("Steps:\n\n- one\n- *two*", markup: .markdown),
                    "labels": .multiSelect(["bug"]), "priority": .select("high"), "milestone": .select("v1"),
                    "assignee": .person(Person(username: "octocat")), "status": .select("not planned"),
                ], marker: "tandem-9-left-1"))
        let read = try await gh.artifact(id: written.artifactID)
        #expect(read.version == written.version, "the write's answer is the state read")
        #expect(read.fields["title"] == .string("Login fails & <b>"))
        #expect(read.fields["body"] == .richText("Steps:\n\n- one\n- *two*", markup: .markdown))
        #expect(read.fields["labels"] == .multiSelect(["bug"]) && read.fields["priority"] == .select("high"))
        #expect(read.fields["milestone"] == .select("v1") && read.fields["status"] == .select("not planned"))
        #expect((read.fields["assignee"]).flatMap { if case .person(let p) = $0 { p.username } else { nil } } == "octocat")
        #expect(read.marker == "tandem-9-left-1")
        // A plain label change keeps the prefixed one.
        _ = try await gh.updateFields(id: written.artifactID, ["labels": .multiSelect(["enhancement"]), "status": .select("open")])
        let again = try await gh.artifact(id: written.artifactID)
        #expect(again.fields["labels"] == .multiSelect(["enhancement"]) && again.fields["priority"] == .select("high"))
        #expect(again.fields["status"] == .select("open"))
        let comment = try await gh.addComment(id: written.artifactID, text: "Tom & Jerry say 2 < 3")
        #expect(try await gh.artifact(id: written.artifactID).comments.map(\.text) == ["Tom & Jerry say 2 < 3"] && comment.itemID != nil)
        #expect(
            try await gh.findByMarker(project: "tandem/demo", marker: "tandem-9-left-1", createdSince: Date().addingTimeInterval(-60)) == [
                written.artifactID
            ])
        try await site.expectResponsesValid()
        let stats = try await site.stats()
        #expect(stats["requestValidationFailures"]?.int == 0, "GitHub would refuse what Tandem sent: \(stats)")
    }

    /// Pull requests mixed into the issues list are not issues; every issue arrives once, in update order.
    @Test func theFeedSkipsPullRequestsAndDeliversEachIssueOnce() async throws {
        let site = try await GitHubTestSite.make("gc-feed")
        let gh = Self.connector(site)
        let start = gh.cursor(startingAt: try await gh.repositoryTime().addingTimeInterval(-3600))
        // Many in each second, all seconds past (an entry read in its own second may be delivered again to confirm it).
        let past = GitHubTime.format(Date().addingTimeInterval(-600))
        let numbers = try await site.seed(
            ["count": 230, "titlePrefix": "seeded", "pullRequestEvery": 3, "updatedAt": .string(past), "stepSeconds": 0])
        #expect(numbers.count == 230)
        var cursor: FeedCursor? = start
        var seen: [String] = []
        for _ in 0..<20 {
            let page = try await gh.changes(project: "tandem/demo", since: cursor, pageSize: 50)
            seen += page.changes.map(\.id)
            cursor = page.cursor
            if !page.hasMore { break }
        }
        let issues = try await site.stats()["issues"]?.int ?? -1
        #expect(Set(seen).count == seen.count, "each once")
        #expect(seen.count == issues, "every issue, no pull request: \(seen.count) of \(issues)")
        try await site.expectResponsesValid()
    }

    @Test func aPrivateRepositoryTheTokenMayNotSeeIsNamed() async throws {
        let site = try await GitHubTestSite.make("gc-private")
        let result = await Self.connector(site, token: GitHubTestSite.noScopeToken).testConnection(project: "tandem/private")
        #expect(result.authenticated && result.projectFound == false && result.error?.code == .projectNotFound)
        #expect(result.error?.message.contains("may not see it") == true, "\(String(describing: result.error))")
        let bad = await Self.connector(site, token: "ghs-wrong").testConnection(project: "tandem/demo")
        #expect(bad.error?.code == .credentialsRejected)
    }
}
