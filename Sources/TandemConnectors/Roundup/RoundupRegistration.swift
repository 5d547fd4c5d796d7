import Foundation

extension ConnectorKind {
    public static let roundup = ConnectorKind(registered: "roundup")
}

extension RoundupConnector {
    static let registration = ConnectorRegistration(
        kind: .roundup, displayName: "Roundup", fullName: "Roundup Issue Tracker", apiConnectorNumber: 3,
        capabilities: RoundupConnector.capabilities(overlap: 5),
        summary: "Roundup 2.x, its REST interface with a user's password; the URL is the tracker's web address"
    ) { context in
        RoundupConnector(.init(trackerURL: context.url, credentials: context.credentials, settings: context.settings), client: context.http)
    }
}
