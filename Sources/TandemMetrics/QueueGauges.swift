public import TandemQueue

/// The queue's gauges at scrape time, from the queue's inspection API.
public struct QueueGauges: Sendable, Hashable {
    public struct Repository: Sendable, Hashable {
        public var name: String
        /// Pending jobs per priority class.
        public var highDepth: Int
        public var lowDepth: Int
        /// Age of the oldest pending job in either class, in seconds (0 when none is pending).
        public var oldestJobAgeSeconds: Double
        public var inFlight: Int
        public var dead: Int

        public init(name: String, highDepth: Int, lowDepth: Int, oldestJobAgeSeconds: Double, inFlight: Int, dead: Int) {
            self.name = name
            self.highDepth = highDepth
            self.lowDepth = lowDepth
            self.oldestJobAgeSeconds = oldestJobAgeSeconds
            self.inFlight = inFlight
            self.dead = dead
        }
    }

    public var repositories: [Repository]
    /// Workers with a live heartbeat.
    public var workers: Int

    public init(repositories: [Repository], workers: Int) {
        self.repositories = repositories
        self.workers = workers
    }

    /// From `JobQueue.queues()` and the number of `JobQueue.workers()`.
    public init(queues: [RepositoryQueueStatus], workers: Int) {
        self.init(
            repositories: queues.map { status in
                Repository(
                    name: status.repository, highDepth: status.high.pending, lowDepth: status.low.pending,
                    oldestJobAgeSeconds: max(status.high.latencySeconds ?? 0, status.low.latencySeconds ?? 0),
                    inFlight: status.inFlight, dead: status.dead)
            },
            workers: workers)
    }

    /// Reads the gauges from the queue (a few round trips).
    public static func read(from queue: JobQueue) async throws -> QueueGauges {
        let queues = try await queue.queues()
        let workers = try await queue.workers()
        return QueueGauges(queues: queues, workers: workers.count)
    }
}
