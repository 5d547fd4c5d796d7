import Foundation
import Synchronization
import TandemConnectors

/// One simulated repository: the in-memory repository, a connector over it (credentials already checked by the
/// server), the API calls served and the write log.
final class SimulatedRepository: Sendable {
    let repository: InMemoryRepository
    let connector: InMemoryConnector
    private let calls = Atomic<Int>(0)
    private let log = Mutex<(next: Int, events: [SimulatorWire.WriteEvent])>((1, []))
    /// The write log keeps the newest events only.
    static let logLimit = 500_000

    init(projects: [String], credentials: Credentials) {
        self.repository = InMemoryRepository(projects: projects, acceptedCredentials: credentials)
        self.connector = InMemoryConnector(repository: self.repository, credentials: credentials)
    }

    func countCall() { self.calls.add(1, ordering: .relaxed) }
    var callCount: Int { self.calls.load(ordering: .relaxed) }

    func logWrite(id: String, operation: String, title: String?) {
        let now = Date()
        self.log.withLock { log in
            log.events.append(SimulatorWire.WriteEvent(seq: log.next, time: now, id: id, operation: operation, title: title))
            log.next += 1
            if log.events.count > Self.logLimit { log.events.removeFirst(log.events.count - Self.logLimit) }
        }
    }

    /// Events with `seq > after`, oldest first, at most `limit`.
    func events(after: Int, limit: Int) -> [SimulatorWire.WriteEvent] {
        self.log.withLock { log in
            // seq is dense and increasing: find the first index by its distance from the oldest kept event.
            guard let first = log.events.first else { return [] }
            let start = max(0, after - first.seq + 1)
            guard start < log.events.count else { return [] }
            return Array(log.events[start..<min(log.events.count, start + limit)])
        }
    }

    func stats() async -> SimulatorWire.Stats {
        SimulatorWire.Stats(writes: await self.repository.writes, calls: self.callCount, artifacts: await self.repository.artifactsPerProject)
    }
}

/// The simulator's repositories by name (created on first use) and its per-call latency, changeable at run time.
final class SimulatorState: Sendable {
    let projects: [String]
    let credentials: Credentials
    private let repositories = Mutex<[String: SimulatedRepository]>([:])
    private let latencyMilliseconds: Atomic<Int>

    init(projects: [String], credentials: Credentials, latency: Duration) {
        self.projects = projects
        self.credentials = credentials
        let ms = latency.components.seconds * 1000 + latency.components.attoseconds / 1_000_000_000_000_000
        self.latencyMilliseconds = Atomic(Int(ms))
    }

    func repository(_ name: String) -> SimulatedRepository {
        self.repositories.withLock { repositories in
            if let existing = repositories[name] { return existing }
            let created = SimulatedRepository(projects: self.projects, credentials: self.credentials)
            repositories[name] = created
            return created
        }
    }

    var all: [String: SimulatedRepository] { self.repositories.withLock { $0 } }

    /// Forgets every repository (or one): the next call starts afresh, counters at zero.
    func reset(_ name: String? = nil) {
        self.repositories.withLock { repositories in
            if let name { repositories[name] = nil } else { repositories.removeAll() }
        }
    }

    var latency: Duration {
        .milliseconds(self.latencyMilliseconds.load(ordering: .relaxed))
    }

    func setLatency(milliseconds: Int) { self.latencyMilliseconds.store(max(0, milliseconds), ordering: .relaxed) }
    var latencyMillisecondsValue: Int { self.latencyMilliseconds.load(ordering: .relaxed) }
}
