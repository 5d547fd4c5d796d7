import Foundation
import HTTP

extension ConnectorKind {
    public static let github = ConnectorKind(registered: "github")
}

extension GitHubConnector {
    static let registration = ConnectorRegistration(
        kind: .github, displayName: "GitHub", fullName: "GitHub and GitHub Enterprise Server issues", apiConnectorNumber: 4,
        capabilities: GitHubConnector.capabilities(lookback: 5),
        options: [
            ConnectorOption(
                "labelPrefixes", .string,
                "Label prefixes read as single-select fields, comma-separated (`priority: ` makes the label `priority: high` the value `high` of field `priority`).",
                absent: "labels are one multi-select field"),
            ConnectorOption(
                "twinLink", .choice(TwinLinkStyle.allCases.map(\.rawValue)),
                "Where an issue names its twin: `comment` writes one comment with the twin's key and URL (a content-creating request).",
                absent: "none"),
            ConnectorOption(
                "lookbackSeconds", .integer(1...300),
                "How far behind its mark the change feed reads again (GitHub's timestamps are whole seconds).", absent: "5 seconds"),
        ],
        // GitHub's secondary limits: 80 content-creating requests a minute and 500 an hour. A change to GitHub is a write
        // and often a comment: 30 a minute stays under the minute's limit in a burst (the hour's then pauses it).
        defaultLimits: ConnectorDefaultLimits(eventsPerMinute: 30, concurrency: 4),
        summary: "GitHub.com and GitHub Enterprise Server, REST API 2022-11-28 with a personal access token"
    ) { context in
        let options = context.options
        let prefixes = (options.string("labelPrefixes") ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        return GitHubConnector(
            .init(
                baseURL: context.url, credentials: context.credentials, settings: context.settings,
                labelPrefixes: prefixes.map { $0.hasSuffix(":") ? $0 + " " : $0 }, twinLink: options.choice("twinLink") ?? .none,
                lookback: TimeInterval(options.integer("lookbackSeconds") ?? 5)),
            client: context.http)
    }
}
