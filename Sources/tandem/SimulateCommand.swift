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

            Jira sites (created on first use, projects DEMO, LEFT, RIGHT): Cloud REST v3 at http://HOST:PORT/jira/SITE
            (basic tandem@example.com / jira-token), Data Center REST v2 at http://HOST:PORT/jira-dc/SITE (Bearer jira-pat,
            or basic tandem / jira-password). Requests and answers are validated against the vendor's OpenAPI subsets
            in Tests/Fixtures/jira-{cloud,dc} (--jira-specs DIR, or TANDEM_JIRA_SPECS; default: found walking up from
            the current directory and the executable's) plus their QUIRKS.md. Operations routes, FLAVOUR = jira or
            jira-dc: GET /sim/FLAVOUR/SITE/stats (calls, writes, request and response validation failures),
            GET /sim/FLAVOUR/SITE/log?after=&limit= (the write log), POST /sim/FLAVOUR/SITE/seed
            {"project","count","summaryPrefix"}, POST /sim/FLAVOUR/SITE/reset, GET|PUT /sim/FLAVOUR/SITE/settings
            {"timeZone","indexLagMilliseconds","latencyMilliseconds","rateLimitCapacity","rateLimitRefillPerSecond",
            "email","apiToken","personalAccessToken","username","password","readOnlyProjects"} (a PUT changes the keys
            it names), POST /sim/FLAVOUR/SITE/rate-limit {"count": N} (the next N API calls answer 429).

            GitHubs (created on first use: users tandem, octocat, mona; repositories tandem/demo, public, and
            tandem/private): REST API 2022-11-28 rooted at http://HOST:PORT/github/SITE (Authorization: Bearer
            ghs-sim-token; ghs-noscope-token does not see private repositories), validated against GitHub's description
            in Tests/Fixtures/github (--github-specs DIR, or TANDEM_GITHUB_SPECS) plus its QUIRKS.md. Operations routes:
            GET /sim/github/SITE/stats, GET /sim/github/SITE/log?after=&limit=, POST /sim/github/SITE/seed
            {"repo","items":[{"title","pullRequest","createdAt","updatedAt",…}]} or {"repo","count","titlePrefix",
            "pullRequestEvery","updatedAt","stepSeconds"}, POST /sim/github/SITE/reset, GET|PUT /sim/github/SITE/settings
            {"latencyMilliseconds","primaryLimit","primaryWindowSeconds","primaryLimitStatus","secondaryPerMinute",
            "secondaryPerHour","bare429Count","archived","token","noScopeToken"}.
            """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 7070
    @Option(help: "Delay added to every repository API call, in milliseconds.") var latencyMs = 0
    @Option(help: "Folder holding jira-cloud/ and jira-dc/ OpenAPI subsets (default: $TANDEM_JIRA_SPECS, else Tests/Fixtures found upwards).")
    var jiraSpecs: String?
    @Option(help: "Folder holding github/routes.v2022_11_28.json and its schemas (default: $TANDEM_GITHUB_SPECS, else Tests/Fixtures found upwards).")
    var githubSpecs: String?

    func validate() throws {
        guard (0...65535).contains(self.port) else { throw ValidationError("port \(self.port) is out of range") }
        guard (0...600_000).contains(self.latencyMs) else { throw ValidationError("--latency-ms must be 0...600000") }
    }

    func run() async throws {
        var logger = Logger(label: "tandem.simulator")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let simulator = RepositorySimulator(
            configuration: .init(
                host: self.host, port: self.port, latency: .milliseconds(self.latencyMs),
                jiraSpecsDirectory: JiraSpecs.locate(explicit: self.jiraSpecs), githubSpecsDirectory: GitHubSpecs.locate(explicit: self.githubSpecs)),
            logger: logger)
        let host = self.host
        let latency = self.latencyMs
        try await simulator.run { port in
            // Unbuffered: a script waiting for this line sees it at once.
            FileHandle.standardOutput.write(Data("simulator listening on http://\(host):\(port) (latency \(latency) ms)\n".utf8))
        }
    }
}
