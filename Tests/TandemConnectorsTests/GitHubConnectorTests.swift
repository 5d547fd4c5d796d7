import Foundation
import HTTP
import TandemCore
import Testing

@testable import TandemConnectors

/// The GitHub connector's own reading and writing of issues, without a server: ids, statuses, prefixed labels, the
/// hidden marker, versions within one second, and the API root of github.com.
@Suite struct GitHubConnectorTests {
    static func connector(prefixes: [String] = ["priority: "]) -> GitHubConnector {
        GitHubConnector(
            .init(
                baseURL: URL(string: "https://github.com")!, credentials: .bearer(Secret("t")), settings: ConnectionSettings(repository: "gh"),
                labelPrefixes: prefixes),
            client: ConnectorUnderTest.client)
    }

    static let issue: JSONValue = [
        "number": 7, "title": "Login fails", "body": "Steps & <b>\n\n<!-- tandem-marker: tandem-3-left-12 -->", "state": "closed",
        "state_reason": "not_planned", "updated_at": "2026-12-08T01:02:03Z", "created_at": "2026-12-08T01:00:00Z", "comments": 0,
        "html_url": "https://github.com/o/r/issues/7",
        "labels": [["name": "bug"], ["name": "priority: high"]], "assignees": [["login": "octocat"]], "milestone": ["title": "v1", "number": 1],
    ]

    @Test func anIssueReadsAsItsFieldsWithTheMarkerHidden() throws {
        let artifact = try Self.connector().decode(Self.issue, repository: "o/r", comments: [])
        #expect(artifact.id == "o/r#7" && artifact.formattedID == "o/r#7" && artifact.artifactType == "issue")
        #expect(artifact.fields["body"] == .richText("Steps & <b>", markup: .markdown), "the marker is not text")
        #expect(artifact.marker == "tandem-3-left-12")
        #expect(artifact.fields["status"] == .select("not planned"))
        #expect(artifact.fields["labels"] == .multiSelect(["bug"]) && artifact.fields["priority"] == .select("high"))
        #expect(artifact.fields["milestone"] == .select("v1"))
        #expect(artifact.fields["assignee"] == .person(Person(id: "octocat", username: "octocat", displayName: "octocat")))
        var pull = Self.issue
        if case .object(var members) = pull {
            members["pull_request"] = ["url": "https://api.github.com/repos/o/r/pulls/7"]
            pull = .object(members)
        }
        #expect(try Self.connector().decode(pull, repository: "o/r", comments: []).artifactType == "pull_request")
    }

    @Test func statusesAndIds() throws {
        #expect(GitHubConnector.status(state: "open", reason: "reopened") == "open")
        #expect(GitHubConnector.status(state: "closed", reason: nil) == "completed")
        #expect(try GitHubConnector.split("octo-org/hello.world#12") == ("octo-org/hello.world", 12))
        for bad in ["o/r", "o/r#0", "o#1", "a/b/c#1", "../x#1"] { #expect(throws: ConnectorError.self) { try GitHubConnector.split(bad) } }
        #expect(GitHubConnector.Configuration.apiRoot(URL(string: "https://github.com/")!).absoluteString == "https://api.github.com")
        #expect(
            GitHubConnector.Configuration.apiRoot(URL(string: "https://ghe.example.com/api/v3")!).absoluteString == "https://ghe.example.com/api/v3")
    }

    @Test func theMarkerRoundTripsAndPlainBodiesStayAsTheyAre() {
        for body in ["", "text", "ends with -->", "a\n\n<!-- tandem-marker:  -->"] {
            #expect(GitHubConnector.unmarked(GitHubConnector.marked(body, "m-1")) == (body, "m-1"))
            #expect(GitHubConnector.unmarked(body).1 == nil)
        }
    }

    /// GitHub stamps whole seconds: two edits in one second differ in the version (what the issue shows).
    @Test func twoEditsInOneSecondAreTwoVersions() throws {
        let first = try GitHubConnector.feedEntry(Self.issue, repository: "o/r")
        var edited = Self.issue
        if case .object(var members) = edited {
            members["title"] = "Login fails on Safari"
            edited = .object(members)
        }
        let second = try GitHubConnector.feedEntry(edited, repository: "o/r")
        #expect(first.updated == second.updated && first.version != second.version)
        #expect(try Self.connector().decode(Self.issue, repository: "o/r", comments: []).version == first.version)
    }

    /// Labels are one list: writing the plain ones keeps the prefixed ones and the other way round.
    @Test func labelWritesKeepTheOtherLabels() async throws {
        let gh = Self.connector()
        let plain = try await gh.payload(["labels": .multiSelect(["ui"])], repository: "o/r", current: Self.issue)
        #expect(plain["labels"] == ["priority: high", "ui"])
        let prefixed = try await gh.payload(["priority": .select("low")], repository: "o/r", current: Self.issue)
        #expect(prefixed["labels"] == ["bug", "priority: low"])
        let closed = try await gh.payload(["status": .select("not planned"), "assignee": .null], repository: "o/r", current: nil)
        #expect(closed["state"] == "closed" && closed["state_reason"] == "not_planned" && closed["assignees"] == [])
        await #expect(throws: ConnectorError.self) { try await gh.payload(["status": .select("blocked")], repository: "o/r", current: nil) }
        await #expect(throws: ConnectorError.self) { try await gh.payload(["severity": .select("x")], repository: "o/r", current: nil) }
    }
}
