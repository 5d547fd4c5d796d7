import Foundation

extension ConnectorKind {
    public static let redmine = ConnectorKind(registered: "redmine")
}

extension RedmineConnector {
    static let registration = ConnectorRegistration(
        kind: .redmine, displayName: "Redmine", apiConnectorNumber: 2,
        capabilities: RedmineConnector.capabilities(overlap: 5),
        options: [
            ConnectorOption(
                "markerField", .integer(1...Int(Int32.max)),
                "The id of a string custom field that holds Tandem's create marker, so a twin whose pair was not recorded is found again.",
                absent: "creates are not marked; a crash between a create and its record can leave a duplicate"),
            ConnectorOption(
                "textFormatting", .choice(TextFormatting.allCases.map(\.rawValue)),
                "The server's text formatting (Administration → Settings → General), which descriptions and notes are written in.",
                absent: "read from the server's editing form"),
        ],
        summary: "Redmine 4.2 or later, REST API with an API key or a user's password"
    ) { context in
        RedmineConnector(
            .init(
                baseURL: context.url, credentials: context.credentials, settings: context.settings,
                markerField: context.options.integer("markerField"), textFormatting: context.options.choice("textFormatting")),
            client: context.http)
    }
}
