import Foundation
import Synchronization

/// One OS thread that runs blocking work (a C client call) in submission order, off Swift's
/// cooperative pool. Callers `await` the result; a caller whose task is cancelled while its work
/// is still queued gets `CancellationError` without the work running, and a caller whose work is
/// running triggers `interrupt` (for example `shutdown(fd)` or `PQcancel`) so the call returns.
///
/// The thread owns a piece of state (`Resource`, e.g. a connection) that only it touches.
public final class DedicatedThread: Sendable {
    public struct StoppedError: Error, CustomStringConvertible {
        public var description: String { "the worker thread has stopped" }
    }

    private typealias Job = @Sendable (Bool) -> Void  // argument: cancelled before it started

    private struct State {
        var jobs: [(id: UInt64, run: Job)] = []
        var stopping = false
        var nextID: UInt64 = 0
        var runningID: UInt64?
        var runningCancelled = false
        var cancelled: Set<UInt64> = []
        var interrupt: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    public init(name: String) {
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        thread.start()
    }

    private func loop() {
        while true {
            self.wakeup.wait()
            let next = self.state.withLock { s -> (run: Job, cancelled: Bool)? in
                guard !s.jobs.isEmpty else { return nil }
                let job = s.jobs.removeFirst()
                let cancelled = s.cancelled.remove(job.id) != nil
                if !cancelled { s.runningID = job.id }
                return (job.run, cancelled)
            }
            guard let next else { break }  // an empty wake-up means stop
            next.run(next.cancelled)
            self.state.withLock {
                $0.runningID = nil
                $0.runningCancelled = false
                $0.interrupt = nil
            }
        }
        self.finished.signal()
    }

    /// Sets the interruption for the work that is running now (call from inside `run`'s body). If that
    /// work's caller was already cancelled, `interrupt` is called at once.
    public func setInterrupt(_ interrupt: (@Sendable () -> Void)?) {
        let fireNow = self.state.withLock { s -> (@Sendable () -> Void)? in
            s.interrupt = interrupt
            return s.runningCancelled ? interrupt : nil
        }
        fireNow?()
    }

    /// True when the caller of the work that is running now has been cancelled (call from inside `run`'s
    /// body, e.g. after a slow setup step and before starting the blocking call).
    public var isCancelled: Bool {
        self.state.withLock { $0.runningCancelled }
    }

    /// Runs `body` on the thread and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let id = self.state.withLock { s -> UInt64 in
            s.nextID &+= 1
            return s.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let accepted = self.state.withLock { s -> Bool in
                    if s.stopping { return false }
                    s.jobs.append(
                        (
                            id,
                            { cancelled in
                                if cancelled {
                                    continuation.resume(throwing: CancellationError())
                                } else {
                                    continuation.resume(with: Result { try body() })
                                }
                            }
                        ))
                    return true
                }
                if accepted { self.wakeup.signal() } else { continuation.resume(throwing: StoppedError()) }
            }
        } onCancel: {
            let interrupt = self.state.withLock { s -> (@Sendable () -> Void)? in
                if s.runningID == id {
                    s.runningCancelled = true
                    return s.interrupt
                }
                if s.jobs.contains(where: { $0.id == id }) { s.cancelled.insert(id) }
                return nil
            }
            interrupt?()
        }
    }

    /// Stops taking work; queued work still runs. Returns when the thread has ended.
    public func shutdown() async {
        let already = self.state.withLock { s -> Bool in
            defer { s.stopping = true }
            return s.stopping
        }
        if already { return }
        self.wakeup.signal()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = self.finished
            Thread.detachNewThread {
                finished.wait()
                continuation.resume()
            }
        }
    }
}
