import ArgumentParser

extension Tandem {
    /// Subcommands contributed by other parts (queue inspection, the cluster's processes).
    static var extraSubcommands: [any ParsableCommand.Type] { [] }
}
