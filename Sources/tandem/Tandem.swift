import ArgumentParser

@main
struct Tandem: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tandem",
        abstract: "Tandem keeps work items in sync between issue trackers.",
        subcommands: []
    )
}
