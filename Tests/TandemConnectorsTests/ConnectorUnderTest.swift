import Foundation
import HTTP
import TandemCore
import Testing

@testable import TandemConnectors

/// One connector the contract suite runs against, with what the suite needs to know about its tool.
struct ConnectorUnderTest: Sendable, CustomTestStringConvertible {
    let name: String
    let connector: any Connector
    /// The same repository with credentials it rejects.
    let badCredentials: any Connector
    let project: String
    let artifactType: String
    let titleField: String
    /// A status `applyTransition` can move a new artifact to.
    let transitionTo: String
    /// What the repository changes on its own when a comment is added to a new artifact.
    let commentSideEffect: (field: String, value: FieldValue)?
    /// The text the tool answers an empty title with.
    let blankTitleMessage: String
    /// How long after a write its search shows it (Jira's index): a drain waits it out first, as a sync does not
    /// need to (the feed re-reads its lookback window, so a write the index shows late is still delivered).
    var indexLag: Duration = .zero

    var testDescription: String { self.name }

    static let client = HTTPClient()

    /// A repository's production defaults (60 s a request, 3 attempts for reads): the real trackers are shared with the
    /// cluster tests running at the same time, and Redmine's single Puma thread queues their requests; a contract test
    /// checks behaviour, not latency.
    static func settings(_ repository: String) -> ConnectionSettings {
        ConnectionSettings(repository: repository)
    }

    static let memory: ConnectorUnderTest = {
        let repository = InMemoryRepository(projects: ["demo"], acceptedCredentials: .bearer("good-token"))
        return ConnectorUnderTest(
            name: "memory", connector: InMemoryConnector(repository: repository, credentials: .bearer("good-token")),
            badCredentials: InMemoryConnector(repository: repository, credentials: .bearer("wrong-token")),
            project: "demo", artifactType: "task", titleField: "title", transitionTo: "done", commentSideEffect: nil,
            blankTitleMessage: "Title cannot be blank")
    }()

    static var redmine: ConnectorUnderTest? {
        let env = ProcessInfo.processInfo.environment
        guard let url = env["TANDEM_REDMINE_URL"].flatMap(URL.init(string:)), let key = env["TANDEM_REDMINE_API_KEY"] else { return nil }
        func make(_ key: String) -> RedmineConnector {
            RedmineConnector(
                .init(
                    baseURL: url, credentials: .apiKeyHeader(name: "X-Redmine-API-Key", key: Secret(key)), settings: Self.settings("redmine"),
                    markerField: env["TANDEM_REDMINE_MARKER_FIELD"].flatMap(Int.init) ?? 1),
                client: Self.client)
        }
        return ConnectorUnderTest(
            name: "redmine", connector: make(key), badCredentials: make(String(repeating: "0", count: 40)),
            project: env["TANDEM_REDMINE_PROJECT"] ?? "sync", artifactType: "1", titleField: "subject", transitionTo: "In Progress",
            commentSideEffect: nil, blankTitleMessage: "Subject cannot be blank")
    }

    static var roundup: ConnectorUnderTest? {
        let env = ProcessInfo.processInfo.environment
        guard let url = env["TANDEM_ROUNDUP_URL"].flatMap(URL.init(string:)), let user = env["TANDEM_ROUNDUP_USER"],
            let password = env["TANDEM_ROUNDUP_PASSWORD"]
        else { return nil }
        func make(_ user: String, _ password: String) -> RoundupConnector {
            RoundupConnector(
                .init(trackerURL: url, credentials: .basic(username: user, password: Secret(password)), settings: Self.settings("roundup")),
                client: Self.client)
        }
        let connector = make(user, password)
        return ConnectorUnderTest(
            name: "roundup", connector: connector,
            // A throwaway user name: Roundup locks out a user name after repeated failed logins.
            badCredentials: make("tandem-no-such-user", "wrong-password"), project: connector.project, artifactType: "issue",
            titleField: "title", transitionTo: "in-progress", commentSideEffect: ("status", .select("chatting")),
            blankTitleMessage: "title")
    }

    /// Every connector whose repository is configured (memory, in process and through the simulator, always; the
    /// real ones when their env is set).
    static var available: [ConnectorUnderTest] {
        [Self.memory, Self.remoteMemory, Self.jiraCloud, Self.jiraDataCenter] + [Self.redmine, Self.roundup].compactMap { $0 }
    }

    // MARK: - Helpers

    func create(_ title: String, marker: String? = nil) async throws -> WriteResult {
        try await self.connector.createArtifact(
            ArtifactDraft(project: self.project, artifactType: self.artifactType, fields: [self.titleField: .string(title)], marker: marker))
    }

    /// Reads the feed until it has no more, returning every entry and the final cursor.
    func drain(from cursor: FeedCursor?, pageSize: Int = 50) async throws -> (entries: [ChangedArtifact], cursor: FeedCursor, pages: Int) {
        if self.indexLag > .zero { try await Task.sleep(for: self.indexLag) }
        var cursor = cursor
        var entries: [ChangedArtifact] = []
        var pages = 0
        while true {
            let page = try await self.connector.changes(project: self.project, since: cursor, pageSize: pageSize)
            pages += 1
            entries += page.changes
            cursor = page.cursor
            #expect(page.changes.count <= pageSize)
            if !page.hasMore { return (entries, page.cursor, pages) }
            if pages > 500 {
                Issue.record("feed did not end")
                return (entries, page.cursor, pages)
            }
        }
    }

    /// Waits until every change made so far is settled (its second has passed, plus the feed's slack), so the
    /// next drain also holds the confirmations of entries first read while their second was open (Redmine and
    /// Roundup; the memory repositories' versions show every change). Roundup's answers carry its clock; Redmine
    /// behind Puma sends no `Date`, so its feed goes by the local clock with the slack for clocks to differ by.
    func settle() async throws {
        switch self.name {
        case "roundup":
            let target = (try await self.connector.repositoryTime().timeIntervalSince1970).rounded(.down) + 2
            while try await self.connector.repositoryTime().timeIntervalSince1970 < target { try await Task.sleep(for: .milliseconds(250)) }
        case "redmine":
            try await Task.sleep(for: .seconds(2.2 + ChangeFeedWindow.localClockSlack))
        default: return
        }
    }

    /// Settles, then drains: the entries new since `cursor` and the confirmations of unsettled ones.
    func drainSettled(from cursor: FeedCursor?, pageSize: Int = 50) async throws -> (entries: [ChangedArtifact], cursor: FeedCursor, pages: Int) {
        try await self.settle()
        return try await self.drain(from: cursor, pageSize: pageSize)
    }

    func startCursor() async throws -> FeedCursor {
        self.connector.cursor(startingAt: try await self.connector.repositoryTime())
    }
}
