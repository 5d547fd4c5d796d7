import ArgumentParser
import Foundation
import Postgres
import TandemStore

/// Who acts, for the audit log: `--actor` over $USER over "cli".
private func actorName(_ option: String?) -> String { option ?? ProcessInfo.processInfo.environment["USER"] ?? "cli" }

/// Runs a control action with clear failures (an unknown name is an error that names it, not a crash).
private func controlling<T>(_ body: () async throws -> T) async throws -> T {
    try await clearly {
        do { return try await body() } catch let error as ControlError { throw CommandFailure(description: error.description) }
    }
}

/// Connects, migrates, and runs `body` with the store's controls, failing clearly.
private func withControl(_ database: DatabaseOptions, _ body: @escaping @Sendable (IntegrationControl) async throws -> Void) async throws {
    try await controlling {
        try await database.withClient { client, logger in
            try await Migrator.bundled().migrate(client, logger: logger)
            try await body(IntegrationControl(client: client))
        }
    }
}

struct Integrations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run, stop and operate integrations.",
        discussion: """
            `run` and `stop` set the integration's running flag (running workers notice within seconds; `tandem apply` \
            sets it from the file again). `process-all` re-synchronises every mapped field of every pair (guide \
            "Process All Artifacts"); `initiate-sync` reads a side's projects in full now so newly eligible artifacts \
            synchronise (guide "Initiate Synchronization"). Both are carried out by the leading coordinator within a second \
            or two of a running integration; on a stopped one they wait until it runs.
            """,
        subcommands: [List.self, Run.self, Stop.self, ProcessAll.self, InitiateSync.self, Requests.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List integrations with their state.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "JSON output.") var json = false

        struct Row: Codable {
            var name: String
            var running: Bool
            var left: String
            var right: String
            var pairs: Int
            var openErrors: Int
            var pendingRequests: Int
        }

        func run() async throws {
            try await controlling {
                try await self.database.withClient { client, logger in
                    try await Migrator.bundled().migrate(client, logger: logger)
                    let rows = try await IntegrationListing.all(in: client).map { i in
                        Row(
                            name: i.name, running: i.running, left: i.left, right: i.right, pairs: i.pairs, openErrors: i.openItems,
                            pendingRequests: i.pendingRequests)
                    }
                    if self.json {
                        try printJSON(rows)
                        return
                    }
                    printTable(
                        ["NAME", "RUNNING", "LEFT", "RIGHT", "PAIRS", "OPEN ERRORS", "PENDING REQUESTS"],
                        rows.map {
                            [$0.name, $0.running ? "yes" : "no", $0.left, $0.right, "\($0.pairs)", "\($0.openErrors)", "\($0.pendingRequests)"]
                        })
                }
            }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start an integration.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The integration's name.") var name: String
        @Option(help: "Who acts, for the audit log (default: $USER).") var actor: String?

        func run() async throws {
            let (name, actor) = (self.name, actorName(self.actor))
            try await withControl(self.database) { control in
                let changed = try await control.setRunning(name, true, actor: actor)
                print(changed ? "integration \(name): running" : "integration \(name) was already running")
            }
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop an integration (jobs already queued for it are dropped).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The integration's name.") var name: String
        @Option(help: "Who acts, for the audit log (default: $USER).") var actor: String?

        func run() async throws {
            let (name, actor) = (self.name, actorName(self.actor))
            try await withControl(self.database) { control in
                let changed = try await control.setRunning(name, false, actor: actor)
                print(changed ? "integration \(name): stopped" : "integration \(name) was already stopped")
            }
        }
    }

    struct ProcessAll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "process-all", abstract: "Re-synchronise every mapped field of every artifact pair of an integration.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The integration's name.") var name: String
        @Option(help: "Who acts, for the audit log (default: $USER).") var actor: String?

        func run() async throws {
            try await controlling {
                try await self.database.withClient { client, logger in
                    try await Migrator.bundled().migrate(client, logger: logger)
                    let id = try await IntegrationControl(client: client).request(.processAll, integration: self.name, actor: actorName(self.actor))
                    print("request \(id): process all artifacts of \(self.name) (the coordinator queues it at its next tick)")
                }
            }
        }
    }

    struct InitiateSync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "initiate-sync",
            abstract: "Read a side's projects in full now, so artifacts that became eligible synchronise (e.g. after widening a filter).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The integration's name.") var name: String
        @Option(help: "left or right (default: both sides).") var side: String?
        @Option(name: .customLong("project"), help: "A project to read (repeatable; default: all of the collection's).")
        var projects: [String] = []
        @Option(help: "Who acts, for the audit log (default: $USER).") var actor: String?

        func run() async throws {
            try await controlling {
                try await self.database.withClient { client, logger in
                    try await Migrator.bundled().migrate(client, logger: logger)
                    let id = try await IntegrationControl(client: client).request(
                        .initiateSynchronization, integration: self.name, side: self.side, projects: self.projects, actor: actorName(self.actor))
                    print("request \(id): initiate synchronization of \(self.name) (the coordinator queues it at its next tick)")
                }
            }
        }
    }

    struct Requests: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recent operator requests and whether they were carried out.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "How many (newest first).") var limit = 20

        func run() async throws {
            try await controlling {
                try await self.database.withClient { client, logger in
                    try await Migrator.bundled().migrate(client, logger: logger)
                    let requests = try await IntegrationControl(client: client).requests(pending: false, limit: self.limit)
                    let format = ISO8601DateFormatter()
                    printTable(
                        ["ID", "INTEGRATION", "KIND", "SIDE", "PROJECTS", "BY", "REQUESTED", "QUEUED"],
                        requests.map {
                            [
                                "\($0.id)", $0.integration, $0.kind.rawValue, $0.side ?? "both",
                                $0.projects.isEmpty ? "all" : $0.projects.joined(separator: ","),
                                $0.requestedBy, format.string(from: $0.requestedAt), $0.scheduledAt.map(format.string(from:)) ?? "pending",
                            ]
                        })
                }
            }
        }
    }
}

/// `tandem repositories connect|disconnect NAME` (the connection toggle, guide L4583–4659).
struct RepositoryConnect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "connect", abstract: "Connect a repository (workers use it again).")
    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The repository's name.") var name: String
    @Option(help: "Who acts, for the audit log (default: $USER).") var actor: String?

    func run() async throws {
        try await toggleRepository(self.database, self.name, enabled: true, actor: self.actor)
    }
}

struct RepositoryDisconnect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disconnect", abstract: "Disconnect a repository: nothing reads or writes it until it is connected again.")
    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The repository's name.") var name: String
    @Option(help: "Who acts, for the audit log (default: $USER).") var actor: String?

    func run() async throws {
        try await toggleRepository(self.database, self.name, enabled: false, actor: self.actor)
    }
}

private func toggleRepository(_ database: DatabaseOptions, _ name: String, enabled: Bool, actor: String?) async throws {
    let who = actorName(actor)
    try await withControl(database) { control in
        let changed = try await control.setRepositoryEnabled(name, enabled, actor: who)
        let state = enabled ? "connected" : "disconnected"
        print(changed ? "repository \(name): \(state)" : "repository \(name) was already \(state)")
    }
}
