import Foundation
import HTTP

extension ConnectorKind {
    public static let jira = ConnectorKind(registered: "jira")
}

extension JiraConnector {
    static let registration = ConnectorRegistration(
        kind: .jira, displayName: "Jira", fullName: "Jira Cloud and Jira Data Center", apiConnectorNumber: 1,
        capabilities: JiraConnector.capabilities(lookback: JiraConnector.Configuration.defaultLookback),
        options: [
            ConnectorOption(
                "flavour", .choice(Flavour.allCases.map(\.rawValue)),
                "Jira Cloud (REST v3, ADF, accountId users) or Jira Data Center (REST v2, wiki markup, user names).",
                absent: "auto: read from the site's serverInfo deploymentType"),
            ConnectorOption(
                "transitionFields", .pairs,
                "Values a transition screen requires, as comma-separated field=value pairs (e.g. resolution=Done).",
                absent: "a transition whose screen requires a field fails naming it"),
            ConnectorOption(
                "linkField", .string,
                "A field (id or name) that also receives the twin's URL, beside the remote link every twin gets.",
                absent: "the twin's link is only a remote link"),
            ConnectorOption(
                "markerProperty", .string,
                "The issue entity property that holds Tandem's create marker.", absent: "tandem"),
            ConnectorOption(
                "lookbackMinutes", .integer(1...60),
                "How far behind its mark the change feed reads again (JQL's minute granularity and the search index's lag).",
                absent: "3 minutes"),
            ConnectorOption(
                "maxTransitionHops", .integer(1...20), "The most transitions one status change may take through the workflow.",
                absent: "6"),
        ],
        // Jira Cloud's burst limits are per site and per issue (writes to one issue in quick succession answer 429):
        // two changes a second, four requests at once, stay well inside them.
        defaultLimits: ConnectorDefaultLimits(eventsPerMinute: 120, concurrency: 4),
        summary: "Jira Cloud (REST v3, email + API token) and Jira Data Center 10 (REST v2, personal access token or basic)"
    ) { context in
        let options = context.options
        return JiraConnector(
            .init(
                baseURL: context.url, credentials: context.credentials, settings: context.settings,
                flavour: options.choice("flavour") ?? .auto,
                transitionFields: try JiraConnector.parseTransitionFields(options.string("transitionFields")),
                linkField: options.string("linkField"), markerProperty: options.string("markerProperty") ?? "tandem",
                lookback: TimeInterval(options.integer("lookbackMinutes") ?? 3) * 60,
                maxTransitionHops: options.integer("maxTransitionHops") ?? 6),
            client: context.http)
    }

    /// `resolution=Done, customfield_10010=Fixed` → ["resolution": "Done", …]; a part that is not name=value is refused
    /// by name (`tandem apply` refuses it first: the option's type is `pairs`).
    static func parseTransitionFields(_ text: String?) throws(ConnectorError) -> [String: String] {
        guard let text else { return [:] }
        switch ConnectorOption.pairs(text) {
        case .success(let pairs): return pairs
        case .failure(let problem):
            throw ConnectorError(.misconfigured, kind: .needsAttention, message: "Jira option transitionFields: \(problem.reason)")
        }
    }
}
