import ArgumentParser
import Foundation
import Logging
import Redis
import TandemQueue

// Operator commands over the Redis queue: `tandem queues`, `tandem jobs`, `tandem workers`.
// Each lists by default (a table, or JSON with --json) and has subcommands for the actions.

/// Where the queue is: `TANDEM_REDIS_URL`, overridden by `--redis-url`.
struct QueueConnectionOptions: ParsableArguments {
    @Option(help: "Redis URL (default: $TANDEM_REDIS_URL or redis://127.0.0.1:6390).")
    var redisURL: String?

    @Option(help: "Key prefix of the installation.")
    var prefix = "tandem:"

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func withQueue<T>(_ body: (JobQueue) async throws -> T) async throws -> T {
        let url = self.redisURL ?? ProcessInfo.processInfo.environment["TANDEM_REDIS_URL"] ?? "redis://127.0.0.1:6390"
        var configuration = try RedisConfiguration(url: url)
        configuration.reconnectTimeout = .seconds(2)
        let client = try await RedisClient.connect(
            configuration: configuration, lanes: 1, logger: Logger(label: "tandem.cli"))
        do {
            let result = try await body(JobQueue(client: client, configuration: .init(prefix: self.prefix)))
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }

}

fileprivate func describe(_ date: Date?, relativeTo now: Date = Date()) -> String {
    guard let date else { return "-" }
    let seconds = date.timeIntervalSince(now)
    return seconds >= 0 ? String(format: "in %.1fs", seconds) : String(format: "%.1fs ago", -seconds)
}

// MARK: tandem queues

struct QueuesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queues",
        abstract: "Per repository: depth, latency, in flight, delayed, dead, slots, limiter, pause.",
        subcommands: [List.self, Pause.self, Resume.self, Purge.self],
        defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the queues.")
        @OptionGroup var connection: QueueConnectionOptions

        func run() async throws {
            let queues = try await self.connection.withQueue { try await $0.queues() }
            if self.connection.json { return try printJSON(queues) }
            func latency(_ seconds: Double?) -> String { seconds.map { String(format: "%.1fs", $0) } ?? "-" }
            printTable(
                [
                    "REPOSITORY", "HIGH", "HIGH LATENCY", "LOW", "LOW LATENCY", "IN FLIGHT", "DELAYED", "DEAD",
                    "SLOTS", "RATE/MIN", "SCOPE", "NEXT ADMISSION", "PAUSED UNTIL",
                ],
                queues.map { q in
                    [
                        q.repository, String(q.high.pending), latency(q.high.latencySeconds), String(q.low.pending),
                        latency(q.low.latencySeconds), String(q.inFlight), String(q.delayed), String(q.dead),
                        "\(q.slotsUsed)/\(q.slotLimit.map(String.init) ?? "-")",
                        q.eventsPerMinute == 0 ? "unlimited" : String(q.eventsPerMinute), q.rateScope.rawValue,
                        q.nextAdmission == nil ? "now" : describe(q.nextAdmission), describe(q.pausedUntil),
                    ]
                })
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause a repository for a while.")
        @OptionGroup var connection: QueueConnectionOptions
        @Argument(help: "The repository connection.") var repository: String
        @Option(name: .customLong("for"), help: "How long, in seconds.") var seconds: Double = 300

        func run() async throws {
            let until = Date().addingTimeInterval(self.seconds)
            try await self.connection.withQueue { try await $0.pause(repository: self.repository, until: until) }
            print("paused \(self.repository) until \(until)")
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a paused repository now.")
        @OptionGroup var connection: QueueConnectionOptions
        @Argument(help: "The repository connection.") var repository: String

        func run() async throws {
            try await self.connection.withQueue { try await $0.resume(repository: self.repository) }
            print("resumed \(self.repository)")
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove every pending job of a repository.")
        @OptionGroup var connection: QueueConnectionOptions
        @Argument(help: "The repository connection.") var repository: String
        @Option(help: "Only this class (high or low).") var priority: String?

        func run() async throws {
            var priority: JobPriority?
            if let name = self.priority {
                guard let value = JobPriority(rawValue: name) else {
                    throw ValidationError("--priority must be high or low")
                }
                priority = value
            }
            let count = try await self.connection.withQueue {
                try await $0.purge(repository: self.repository, priority: priority)
            }
            print("purged \(count) pending jobs of \(self.repository)")
        }
    }
}

// MARK: tandem jobs

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Jobs by state; retry or delete dead jobs.",
        subcommands: [List.self, Retry.self, Delete.self],
        defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List jobs in one state.")
        @OptionGroup var connection: QueueConnectionOptions
        @Option(help: "pending, inflight, delayed or dead.") var state: String = "dead"
        @Option(help: "Only this repository.") var repository: String?
        @Option(help: "At most this many.") var limit = 50

        func run() async throws {
            guard let state = JobState(rawValue: self.state) else {
                throw ValidationError("--state must be one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let jobs = try await self.connection.withQueue {
                try await $0.jobs(state: state, repository: self.repository, limit: self.limit)
            }
            if self.connection.json { return try printJSON(jobs) }
            printTable(
                ["ID", "KIND", "REPOSITORY", "INTEGRATION", "PRIORITY", "ATTEMPT", "WORKER", "LEASE", "AT", "ERROR"],
                jobs.map { status in
                    let job = status.job
                    return [
                        status.id, job?.kind.rawValue ?? "?", job?.repository ?? "?", job?.integration ?? "?",
                        job?.priority.rawValue ?? "?", job.map { "\($0.attempt)/\($0.maxAttempts)" } ?? "?",
                        status.worker ?? "-", describe(status.leaseExpiresAt), describe(status.at),
                        String((status.error ?? "-").prefix(80)),
                    ]
                })
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put dead jobs back in their queues.")
        @OptionGroup var connection: QueueConnectionOptions
        @OptionGroup var selection: DeadJobSelection

        func run() async throws {
            let count = try await self.selection.apply(self.connection) { try await $0.retryDead(ids: $1) }
            print("retried \(count) dead jobs")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete dead jobs.")
        @OptionGroup var connection: QueueConnectionOptions
        @OptionGroup var selection: DeadJobSelection

        func run() async throws {
            let count = try await self.selection.apply(self.connection) { try await $0.deleteDead(ids: $1) }
            print("deleted \(count) dead jobs")
        }
    }
}

/// Which dead jobs an action applies to: the given ids, or all.
struct DeadJobSelection: ParsableArguments {
    @Argument(help: "Job ids.") var ids: [String] = []
    @Flag(help: "Every dead job.") var all = false

    func validate() throws {
        if self.ids.isEmpty != self.all { throw ValidationError("give job ids or --all (not both)") }
    }

    /// Runs `action` (which handles up to 1000 jobs a call) until every selected job is handled.
    func apply(
        _ connection: QueueConnectionOptions, _ action: @escaping (JobQueue, [String]) async throws -> Int
    ) async throws -> Int {
        try await connection.withQueue { queue in
            var total = 0
            while true {
                let count = try await action(queue, self.ids)
                total += count
                if !self.all || count == 0 { return total }
            }
        }
    }
}

// MARK: tandem workers

struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers", abstract: "The registered queue consumers and their heartbeats.")
    @OptionGroup var connection: QueueConnectionOptions

    func run() async throws {
        let workers = try await self.connection.withQueue { try await $0.workers() }
        if self.connection.json { return try printJSON(workers) }
        printTable(
            ["ID", "HOST", "PID", "VERSION", "STARTED", "IN HAND", "LAST HEARTBEAT"],
            workers.map { worker in
                [
                    worker.id, worker.host, String(worker.pid), worker.version, describe(worker.startedAt),
                    String(worker.jobsInHand), describe(worker.lastHeartbeat),
                ]
            })
    }
}
