import Foundation
import HTTP
import TandemCore
import Testing

@testable import TandemConnectors

/// Answers of the wrong shape become classified `ConnectorError`s with the tool's message where it gave one:
/// never a crash, never a silent skip.
@Suite struct BadAnswerTests {
    @Test func wrongTypedRedmineIssueIsAnInvalidResponse() throws {
        let cases: [(JSONValue, String)] = [
            (["id": "seven", "updated_on": "2026-11-25T10:00:00Z"], #"issue: "id" is not an id"#),
            (["id": 7], #"issue 7: missing "updated_on""#),
            (["id": 7, "updated_on": 12], #"issue 7: "updated_on" is not a string"#),
            (["id": 7, "updated_on": "yesterday"], "issue 7: bad updated_on yesterday"),
        ]
        for (json, message) in cases {
            do {
                _ = try RedmineConnector.feedEntry(json)
                Issue.record("accepted \(json)")
            } catch {
                #expect(error.code == .invalidResponse)
                #expect(error.message == message)
                let mapped = ConnectorError(error, tool: "Redmine")
                #expect(mapped.code == .invalidResponse)
                #expect(mapped.kind == .permanent)
            }
        }
    }

    @Test func wrongTypedRoundupRowIsAnInvalidResponse() throws {
        #expect(throws: HTTPError.self) { try RoundupConnector.feedEntry(id: "3", attributes: ["title": "no activity"]) }
        #expect(throws: HTTPError.self) { try RoundupConnector.feedEntry(id: "3", attributes: ["activity": "2026-11-25T10:00:00Z"]) }
        let entry = try RoundupConnector.feedEntry(id: "3", attributes: ["activity": "2026-11-25.10:00:00", "title": "t"])
        #expect(entry.updated == Date(timeIntervalSince1970: 1_795_600_800))
    }

    @Test func feedGoingBackwardsIsAnError() async throws {
        let t = Date(timeIntervalSince1970: 1_000_000)
        do {
            _ = try await ChangeFeedWindow.read(cursor: nil, pageSize: 10, overlap: 5, remotePageSize: 10, tool: "test") { _, _, _ in
                .init(
                    entries: [ChangedArtifact(id: "1", updated: t, version: "a"), ChangedArtifact(id: "2", updated: t - 60, version: "b")],
                    isLast: true, repositoryTime: nil)
            }
            Issue.record("unordered feed accepted")
        } catch let error as ConnectorError {
            #expect(error.code == .invalidResponse)
            #expect(error.message.contains("not ordered"))
        }
        await #expect(throws: ConnectorError.self) {
            _ = try await InMemoryConnector(repository: InMemoryRepository()).changes(
                project: "demo", since: FeedCursor(rawValue: "garbage"), pageSize: 5)
        }
    }

    @Test(arguments: [
        (HTTPError.Code.unauthorized, FailureKind.needsAttention, ConnectorError.Code.credentialsRejected),
        (.forbidden, .needsAttention, .permissionDenied),
        (.proxyAuthentication, .needsAttention, .proxyCredentialsRejected),
        (.notFound, .permanent, .notFound),
        (.validation, .permanent, .validation),
        (.preconditionFailed, .transient, .conflict),
        (.rateLimited, .transient, .rateLimited),
        (.serverError, .transient, .unavailable),
        (.timeout, .transient, .unavailable),
        (.insecureConnection, .needsAttention, .insecureConnection),
        (.invalidResponse, .permanent, .invalidResponse),
    ])
    func httpFailuresMapToConnectorErrors(code: HTTPError.Code, kind: FailureKind, expected: ConnectorError.Code) {
        let pause = Date(timeIntervalSince1970: 2_000_000_000)
        let error = ConnectorError(
            HTTPError(code, kind: kind, status: 418, message: "the tool said so", request: "GET http://x/y?key=redacted", pauseUntil: pause),
            tool: "Tool")
        #expect(error.code == expected)
        #expect(error.kind == kind)
        #expect(error.message.contains("the tool said so"))
        #expect(error.pauseUntil == pause)
    }

    /// Redmine builds `content_url` from the host the issue was read through: the download keeps the configured
    /// scheme, host and port (the API key never goes to another host) and takes only the path and query.
    @Test func redmineDownloadsFromTheConfiguredHost() throws {
        func connector(_ base: String) throws -> RedmineConnector {
            RedmineConnector(
                .init(
                    baseURL: try #require(URL(string: base)), credentials: .apiKeyHeader(name: "X-Redmine-API-Key", key: "k"),
                    settings: ConnectorUnderTest.settings("download")),
                client: ConnectorUnderTest.client)
        }
        func info(_ url: String?) -> AttachmentInfo {
            AttachmentInfo(id: "5", filename: "a b.txt", contentType: nil, size: nil, created: nil, author: nil, url: url)
        }
        let plain = try connector("https://tracker.example:8443")
        #expect(
            plain.downloadURL(info("http://localhost:3000/attachments/download/5/a%20b.txt?x=1#f")).absoluteString
                == "https://tracker.example:8443/attachments/download/5/a%20b.txt?x=1")
        #expect(plain.downloadURL(info(nil)).absoluteString == "https://tracker.example:8443/attachments/download/5")
        #expect(plain.downloadURL(info("no host or path")).absoluteString == "https://tracker.example:8443/attachments/download/5")
        let prefixed = try connector("http://10.0.0.7/redmine")
        #expect(
            prefixed.downloadURL(info("http://redmine.internal/redmine/attachments/download/5/a%20b.txt")).absoluteString
                == "http://10.0.0.7/redmine/attachments/download/5/a%20b.txt")
        #expect(prefixed.downloadURL(info(nil)).absoluteString == "http://10.0.0.7/redmine/attachments/download/5")
    }

    /// A connector pointed at the wrong server: the other tool's HTML or JSON error pages are classified.
    @Test func realConnectorsAgainstTheWrongServer() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let redmineURL = env["TANDEM_REDMINE_URL"].flatMap(URL.init(string:)),
            let roundupURL = env["TANDEM_ROUNDUP_URL"].flatMap(URL.init(string:))
        else { return }
        let settings = ConnectorUnderTest.settings("wrong-server")
        let redmineAtRoundup = RedmineConnector(
            .init(baseURL: roundupURL, credentials: .apiKeyHeader(name: "X-Redmine-API-Key", key: "k"), settings: settings),
            client: ConnectorUnderTest.client)
        let roundupAtRedmine = RoundupConnector(
            .init(trackerURL: redmineURL.appending(path: "lab"), credentials: .basic(username: "u", password: "p"), settings: settings),
            client: ConnectorUnderTest.client)
        for connector in [redmineAtRoundup, roundupAtRedmine] as [any Connector] {
            do {
                _ = try await connector.changes(project: "lab", since: nil, pageSize: 5)
                Issue.record("\(connector.tool) accepted another tool's answer")
            } catch let error as ConnectorError {
                #expect([.notFound, .invalidResponse, .credentialsRejected, .validation].contains(error.code), "\(error)")
                #expect(!error.message.isEmpty)
            }
        }
    }
}
