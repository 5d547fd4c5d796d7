import Foundation
import Synchronization
import TandemTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 that stands for a host someone points a repository at: it records every request
/// it receives (head and body, as text) and answers each with the same answer, then closes the connection.
final class CaptureServer: Sendable {
    private final class State: Sendable {
        let received = Mutex<[String]>([])
        let answer: Mutex<(status: String, headers: [String], body: String)>
        init(_ answer: (String, [String], String)) { self.answer = Mutex(answer) }
    }
    private let state: State
    private let listener: LoopbackServer

    init(status: String = "200 OK", headers: [String] = ["Content-Type: application/json"], body: String = "{}") throws {
        let state = State((status, headers, body))
        self.state = state
        self.listener = try LoopbackServer(backlog: 16) { fd in Self.handle(fd, state) }
    }

    var port: Int { self.listener.port }
    var url: String { "http://127.0.0.1:\(self.port)" }
    /// Every request received so far (head and body).
    var requests: [String] { self.state.received.withLock { $0 } }

    func stop() { self.listener.stop() }

    private static func handle(_ fd: Int32, _ state: State) {
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            data += buffer[0..<n]
            let text = String(decoding: data, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n") else { continue }
            let length =
                text[..<end.lowerBound].split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            if text.utf8.count >= text[..<end.upperBound].utf8.count + length { break }
        }
        guard !data.isEmpty else { return }
        state.received.withLock { $0.append(String(decoding: data, as: UTF8.self)) }
        let (status, headers, body) = state.answer.withLock { $0 }
        var reply = "HTTP/1.1 \(status)\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n"
        for header in headers { reply += header + "\r\n" }
        let bytes = Array((reply + "\r\n" + body).utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }
}
