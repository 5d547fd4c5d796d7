import Foundation
import HTTP
import TandemCore

@testable import TandemConnectors

/// The Jira flavours of the contract suite: a site of the in-process simulator (`/jira/<site>` for Cloud, `/jira-dc/<site>`
/// for Data Center), with its default index lag (2 s) and the API user in America/Los_Angeles.
extension ConnectorUnderTest {
    static let jiraSite = "contract-" + String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)

    static func jira(_ flavour: JiraConnector.Flavour, credentials: Credentials, counter: String) -> DeferredConnector {
        let prefix = flavour == .cloud ? "jira" : "jira-dc"
        @Sendable func configuration(_ base: URL) -> JiraConnector.Configuration {
            .init(
                baseURL: base.appending(path: "\(prefix)/\(Self.jiraSite)"), credentials: credentials, settings: Self.settings(counter),
                flavour: flavour, transitionFields: ["resolution": "Done"])
        }
        return DeferredConnector(offline: JiraConnector(configuration(URL(string: "http://127.0.0.1:1")!), client: Self.client)) {
            JiraConnector(configuration(try await TestSimulator.baseURL.value), client: Self.client)
        }
    }

    static let jiraCloud = ConnectorUnderTest(
        name: "jira-cloud",
        connector: Self.jira(.cloud, credentials: .basic(username: "tandem@example.com", password: "jira-token"), counter: "jira-cloud"),
        badCredentials: Self.jira(.cloud, credentials: .basic(username: "tandem@example.com", password: "wrong-token"), counter: "jira-cloud-bad"),
        project: "DEMO", artifactType: "10001", titleField: "summary", transitionTo: "In Progress", commentSideEffect: nil,
        blankTitleMessage: "summary", indexLag: .milliseconds(2500))

    static let jiraDataCenter = ConnectorUnderTest(
        name: "jira-dc", connector: Self.jira(.datacenter, credentials: .bearer("jira-pat"), counter: "jira-dc"),
        badCredentials: Self.jira(.datacenter, credentials: .bearer("wrong-token"), counter: "jira-dc-bad"), project: "DEMO",
        artifactType: "10001", titleField: "summary", transitionTo: "In Progress", commentSideEffect: nil, blankTitleMessage: "summary",
        indexLag: .milliseconds(2500))
}
