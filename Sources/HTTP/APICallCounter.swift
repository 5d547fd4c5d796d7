import Synchronization

/// Counts API calls (every attempt that reached the wire, retries included) per repository connection,
/// for budget metrics.
public final class APICallCounter: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    public init() {}

    public func record(repository: String) {
        self.counts.withLock { $0[repository, default: 0] += 1 }
    }

    public func count(repository: String) -> Int { self.counts.withLock { $0[repository] ?? 0 } }

    public func snapshot() -> [String: Int] { self.counts.withLock { $0 } }
}
