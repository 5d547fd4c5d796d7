import CCurl
import Foundation
import Synchronization

/// libcurl's multi interface driven by one dedicated OS thread: callers hand over a configured easy handle
/// and await the result; the thread adds it to the multi handle, runs all transfers together (sharing the
/// multi handle's connection cache, so connections are reused and HTTP/2 streams multiplexed), and resumes
/// each caller when its transfer ends. Blocking never happens on Swift's cooperative pool.
final class CurlTransport: Sendable {
    private struct State {
        var pending: [CurlTransfer] = []
        var cancelRequests: [UInt64] = []
        var stopping = false
    }

    /// The multi handle: touched only by the loop thread (and by `curl_multi_wakeup`, which is thread-safe).
    private let multi: MultiHandle
    private let state = Mutex(State())
    private let finished = DispatchSemaphore(value: 0)

    private final class MultiHandle: @unchecked Sendable {  // libcurl documents curl_multi_wakeup as thread-safe
        let raw: UnsafeMutableRawPointer
        init(_ raw: UnsafeMutableRawPointer) { self.raw = raw }
    }

    init(name: String = "tandem-http") {
        CurlGlobal.ensureInitialized()
        guard let raw = curl_multi_init() else { fatalError("curl_multi_init failed (out of memory)") }
        _ = tandem_multi_setopt_long(raw, CURLMOPT_PIPELINING, tandem_pipe_multiplex)
        _ = tandem_multi_setopt_long(raw, CURLMOPT_MAX_HOST_CONNECTIONS, 16)
        _ = tandem_multi_setopt_long(raw, CURLMOPT_MAXCONNECTS, 64)
        self.multi = MultiHandle(raw)
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        thread.start()
    }

    /// Runs one transfer to completion (any HTTP status) or throws a transport `HTTPError`,
    /// `CancellationError` when the calling task is cancelled, or `DedicatedThread`-like stop errors.
    func perform(_ transfer: CurlTransfer) async throws -> HTTPResponse {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, any Error>) in
                transfer.continuation = continuation
                let accepted = self.state.withLock { state -> Bool in
                    guard !state.stopping else { return false }
                    state.pending.append(transfer)
                    return true
                }
                guard accepted else {
                    transfer.finish(.failure(HTTPError(.transport, kind: .transient, message: "the HTTP client has shut down")))
                    return
                }
                curl_multi_wakeup(self.multi.raw)
                if Task.isCancelled { self.cancel(transfer.id) }  // cancelled before the handler was installed
            }
        } onCancel: {
            self.cancel(transfer.id)
        }
    }

    private func cancel(_ id: UInt64) {
        self.state.withLock { $0.cancelRequests.append(id) }
        curl_multi_wakeup(self.multi.raw)
    }

    /// Stops accepting transfers, fails the running ones, and returns when the thread has ended.
    func shutdown() async {
        let already = self.state.withLock { state -> Bool in
            defer { state.stopping = true }
            return state.stopping
        }
        if already { return }
        curl_multi_wakeup(self.multi.raw)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = self.finished
            Thread.detachNewThread {
                finished.wait()
                continuation.resume()
            }
        }
    }

    // MARK: - The loop (runs on the dedicated thread only)

    private func loop() {
        var running: [UnsafeMutableRawPointer: CurlTransfer] = [:]
        let multi = self.multi.raw
        while true {
            let (added, cancels, stopping) = self.state.withLock { state in
                defer {
                    state.pending.removeAll()
                    state.cancelRequests.removeAll()
                }
                return (state.pending, state.cancelRequests, state.stopping)
            }
            for transfer in added {
                let code = curl_multi_add_handle(multi, transfer.easy)
                if code == CURLM_OK {
                    running[transfer.easy] = transfer
                } else {
                    let text = String(cString: curl_multi_strerror(code))
                    transfer.finish(.failure(HTTPError(.transport, kind: .transient, message: "curl_multi_add_handle: \(text)")))
                }
            }
            if !cancels.isEmpty {
                let ids = Set(cancels)
                for (easy, transfer) in running where ids.contains(transfer.id) {
                    curl_multi_remove_handle(multi, easy)
                    running[easy] = nil
                    transfer.finish(.failure(CancellationError()))
                }
            }
            if stopping {
                for (easy, transfer) in running {
                    curl_multi_remove_handle(multi, easy)
                    transfer.finish(.failure(HTTPError(.transport, kind: .transient, message: "the HTTP client has shut down")))
                }
                running.removeAll()
                break
            }
            var stillRunning: Int32 = 0
            curl_multi_perform(multi, &stillRunning)
            var left: Int32 = 0
            while let message = curl_multi_info_read(multi, &left) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                let result = tandem_msg_result(message)
                curl_multi_remove_handle(multi, easy)
                if let transfer = running.removeValue(forKey: easy) { transfer.complete(result) }
            }
            curl_multi_poll(multi, nil, 0, running.isEmpty ? 1000 : 100, nil)
        }
        curl_multi_cleanup(multi)
        self.finished.signal()
    }
}

enum CurlGlobal {
    private static let initialized: Bool = {
        signal(SIGPIPE, SIG_IGN)  // a peer's reset must surface as an error, never kill the process
        return curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
    }()
    static func ensureInitialized() { _ = Self.initialized }
}
