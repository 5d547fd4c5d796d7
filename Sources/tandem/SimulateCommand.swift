import ArgumentParser
import Foundation
import Logging
import TandemSimulator

/// `tandem simulate`: the repository simulator, so that several processes share in-memory repositories.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Serve in-memory repositories over HTTP until SIGTERM, for end-to-end tests and benchmarks.",
        discussion: """
            Repositories are created on first use, each with projects demo, left and right. Configure one as
                type: memory
                url: http://HOST:PORT/repos/NAME
            and every cluster process reaches the same repository. Prints "simulator listening on URL" once
            listening (with --port 0, the port picked). Test and operations routes: GET /stats,
            GET /repos/NAME/stats (writes, API calls, artifacts per project), GET /repos/NAME/log (the write log),
            POST /repos/NAME/seed, POST /reset, GET|PUT /latency {"milliseconds": N}.
            """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 7070
    @Option(help: "Delay added to every repository API call, in milliseconds.") var latencyMs = 0

    func validate() throws {
        guard (0...65535).contains(self.port) else { throw ValidationError("port \(self.port) is out of range") }
        guard (0...600_000).contains(self.latencyMs) else { throw ValidationError("--latency-ms must be 0...600000") }
    }

    func run() async throws {
        var logger = Logger(label: "tandem.simulator")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let simulator = RepositorySimulator(
            configuration: .init(host: self.host, port: self.port, latency: .milliseconds(self.latencyMs)), logger: logger)
        let host = self.host
        let latency = self.latencyMs
        try await simulator.run { port in
            // Unbuffered: a script waiting for this line sees it at once.
            FileHandle.standardOutput.write(Data("simulator listening on http://\(host):\(port) (latency \(latency) ms)\n".utf8))
        }
    }
}
