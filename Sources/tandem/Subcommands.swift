import ArgumentParser

extension Tandem {
    /// Subcommands contributed by other parts: the cluster's processes and the queue's inspection.
    static var extraSubcommands: [any ParsableCommand.Type] {
        [
            CoordinatorCommand.self, WorkerCommand.self, ServerCommand.self, TraceCommand.self, QueuesCommand.self, JobsCommand.self,
            WorkersCommand.self, Integrations.self, SimulateCommand.self, UsersCommand.self, TokensCommand.self, OpenAPICommand.self,
            ConnectorsCommand.self,
        ]
    }
}
