import ArgumentParser
import Foundation
import TandemConnectors

/// `tandem connectors`: the tools Tandem connects to, from the connector registry.
struct ConnectorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connectors", abstract: "List the tools Tandem connects to, their default limits and options.")
    @Flag(help: "Print the documentation's tables (docs/configuration.md, Tools).") var markdown = false
    @Flag(help: "JSON output.") var json = false

    struct Row: Codable {
        var type: String
        var name: String
        var eventsPerMinute: Int?
        var concurrency: Int?
        var options: [String]
        var comments: Bool
        var attachments: Bool
        var transitions: Bool
    }

    func run() throws {
        if self.markdown {
            print(ConnectorRegistry.markdownReference(), terminator: "")
            return
        }
        let rows = ConnectorRegistry.all.map {
            Row(
                type: $0.kind.rawValue, name: $0.displayName, eventsPerMinute: $0.defaultLimits.eventsPerMinute,
                concurrency: $0.defaultLimits.concurrency, options: $0.options.map(\.name), comments: $0.capabilities.comments,
                attachments: $0.capabilities.attachments, transitions: $0.capabilities.transitions)
        }
        if self.json {
            try printJSON(rows)
            return
        }
        printTable(
            ["TYPE", "TOOL", "EVENTS/MIN", "AT ONCE", "COMMENTS", "ATTACHMENTS", "OPTIONS"],
            rows.map {
                [
                    $0.type, $0.name, $0.eventsPerMinute.map(String.init) ?? "global", $0.concurrency.map(String.init) ?? "—",
                    $0.comments ? "yes" : "no", $0.attachments ? "yes" : "no", $0.options.isEmpty ? "—" : $0.options.joined(separator: ", "),
                ]
            })
    }
}
