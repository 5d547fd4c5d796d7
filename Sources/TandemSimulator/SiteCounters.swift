import Synchronization

/// What every simulated vendor site counts outside its state: API calls, requests refused as off the vendor's
/// description, and answers of its own that failed it (a simulator bug), with the last such failure.
final class SiteCounters: Sendable {
    private let calls = Atomic<Int>(0)
    private let requestFailures = Atomic<Int>(0)
    private let responseFailures = Atomic<Int>(0)
    private let lastFailure = Mutex<String?>(nil)

    func countCall() { self.calls.add(1, ordering: .relaxed) }
    func countRequestFailure() { self.requestFailures.add(1, ordering: .relaxed) }
    func countResponseFailure(_ message: String) {
        self.responseFailures.add(1, ordering: .relaxed)
        self.lastFailure.withLock { $0 = message }
    }

    var callCount: Int { self.calls.load(ordering: .relaxed) }
    var requestFailureCount: Int { self.requestFailures.load(ordering: .relaxed) }
    var responseFailureCount: Int { self.responseFailures.load(ordering: .relaxed) }
    var lastResponseFailure: String? { self.lastFailure.withLock { $0 } }

    func reset() {
        self.calls.store(0, ordering: .relaxed)
        self.requestFailures.store(0, ordering: .relaxed)
        self.responseFailures.store(0, ordering: .relaxed)
        self.lastFailure.withLock { $0 = nil }
    }
}
