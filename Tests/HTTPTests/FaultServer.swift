import Foundation
import Synchronization
import TandemTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 that answers badly on purpose, one behaviour per path.
/// Each connection gets its own thread; every answer closes the connection unless it says otherwise.
final class FaultServer: Sendable {
    /// Requests per path, and the last request's headers per path.
    private final class Record: Sendable {
        let hits = Mutex<[String: Int]>([:])
        let lastHeaders = Mutex<[String: String]>([:])
    }
    private let listener: LoopbackServer
    private let record = Record()
    var port: Int { self.listener.port }
    /// Connections accepted so far.
    var connections: Int { self.listener.connections }

    init() throws {
        let record = self.record
        self.listener = try LoopbackServer { fd in Self.handle(fd, hits: record.hits, lastHeaders: record.lastHeaders) }
    }

    /// A port nothing listens on now (bound to port 0, read back, released).
    static func freePort() throws -> Int { LoopbackServer.unusedPort() }

    func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(self.port)\(path)")! }
    func hitCount(_ path: String) -> Int { self.record.hits.withLock { $0[path] ?? 0 } }
    /// Headers (lower-cased names) of the last request to a path.
    func headers(of path: String) -> String { self.record.lastHeaders.withLock { $0[path] ?? "" } }

    func stop() { self.listener.stop() }

    private static func handle(_ fd: Int32, hits: borrowing Mutex<[String: Int]>, lastHeaders: borrowing Mutex<[String: String]>) {
        defer { close(fd) }
        guard case (var path, let head)? = Self.readRequest(fd) else { return }
        // Keep-alive: answer /keepalive requests on the same connection until the client closes it.
        if path == "/keepalive" {
            var next: (String, String)? = (path, head)
            while let (keptPath, _) = next, keptPath == "/keepalive" {
                hits.withLock { $0[keptPath, default: 0] += 1 }
                Self.write(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
                next = Self.readRequest(fd)
            }
            return
        }
        if path.hasPrefix("http://") {  // a proxy request (absolute URI): demand proxy authentication
            let expected = "proxy-authorization: basic " + Data("tandem:proxy-pw".utf8).base64EncodedString().lowercased()
            guard head.lowercased().contains(expected) else {
                Self.write(
                    fd,
                    "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"fault\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                hits.withLock { $0["proxy-407", default: 0] += 1 }
                return
            }
            path = "/proxied" + (URLComponents(string: path)?.path ?? "/")
        }
        let count = hits.withLock { hits -> Int in
            hits[path, default: 0] += 1
            return hits[path]!
        }
        lastHeaders.withLock { $0[path] = head }
        func reply(_ status: String, _ headers: [String] = [], body: String = "") {
            var text = "HTTP/1.1 \(status)\r\nConnection: close\r\n"
            if !headers.contains(where: { $0.lowercased().hasPrefix("content-length") }) {
                text += "Content-Length: \(body.utf8.count)\r\n"
            }
            for header in headers { text += header + "\r\n" }
            Self.write(fd, text + "\r\n" + body)
        }
        let json = "Content-Type: application/json"
        switch path {
        case "/ok", "/proxied/ok": reply("200 OK", [json], body: #"{"ok":true}"#)
        case "/html500":
            reply(
                "500 Internal Server Error", ["Content-Type: text/html; charset=utf-8"],
                body: "<!DOCTYPE html><html><head><title>Internal error</title></head><body><h1>Database is locked</h1><p>Trace...</p></body></html>")
        case "/html200":
            reply("200 OK", ["Content-Type: text/html"], body: "<html><head><title>Sign in - SSO</title></head><body>login</body></html>")
        case "/json422":
            reply("422 Unprocessable Entity", [json], body: #"{"errors":["Subject cannot be blank","Tracker is not included in the list"]}"#)
        case "/roundup412":
            reply("412 Precondition Failed", [json], body: #"{"error":{"status":412,"msg":"If-Match is missing or does not match."}}"#)
        case "/truncated":  // promises 100 bytes, sends 20, closes
            reply("200 OK", [json, "Content-Length: 100"], body: #"{"issues":[{"id":1,"#)
        case "/truncated-json": reply("200 OK", [json], body: #"{"issues":[{"id":1,"subj"#)
        case "/wrong-type": reply("200 OK", [json], body: #"{"issues":"none","total_count":"many"}"#)
        case "/empty200": reply("200 OK", [json])
        case "/reset":  // abortive close: the client sees a connection reset
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        case "/garbage": Self.write(fd, "this is not http\r\n\r\n")
        case "/slow":
            Thread.sleep(forTimeInterval: 10)
            reply("200 OK", [json], body: "{}")
        case "/429": reply("429 Too Many Requests", [json, "Retry-After: 30"], body: #"{"message":"slow down"}"#)
        case "/429-date":
            let later = HTTPDateText.format(Date().addingTimeInterval(120))
            reply("429 Too Many Requests", ["Retry-After: \(later)", "Date: \(HTTPDateText.format(Date()))"])
        case "/429-bare": reply("429 Too Many Requests")
        case "/403-ratelimit":
            let reset = Int(Date().timeIntervalSince1970) + 90
            reply(
                "403 Forbidden", [json, "X-RateLimit-Remaining: 0", "X-RateLimit-Reset: \(reset)"],
                body: #"{"message":"API rate limit exceeded"}"#)
        case "/403": reply("403 Forbidden", [json], body: #"{"message":"You are not allowed"}"#)
        case "/401": reply("401 Unauthorized", ["WWW-Authenticate: Basic realm=\"x\""], body: "Invalid credentials")
        case "/404": reply("404 Not Found", [json], body: #"{"error":{"status":404,"msg":"issue99 not found"}}"#)
        case "/409": reply("409 Conflict", [json], body: #"{"message":"locked"}"#)
        case "/503": reply("503 Service Unavailable", ["Retry-After: 5"], body: "maintenance")
        case "/502": reply("502 Bad Gateway", ["Content-Type: text/html"], body: "<html><title>502 Bad Gateway</title></html>")
        case "/flaky":  // two 503s, then success
            if count <= 2 { reply("503 Service Unavailable", body: "warming up") } else { reply("200 OK", [json], body: #"{"ok":true}"#) }
        case "/big": reply("200 OK", [json], body: String(repeating: "x", count: 300_000))
        case "/echo": reply("200 OK", ["Content-Type: text/plain"], body: head)
        default: reply("404 Not Found", body: "no such path")
        }
    }

    /// Reads the request head and body; returns the path (without query) and the head.
    private static func readRequest(_ fd: Int32) -> (String, String)? {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { return nil }
            data.append(contentsOf: buffer[0..<n])
            guard let end = Self.find(data, Array("\r\n\r\n".utf8)) else { continue }
            let head = String(decoding: data[0..<end], as: UTF8.self)
            let length =
                head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            while data.count < end + 4 + length {
                let m = read(fd, &buffer, buffer.count)
                if m <= 0 { break }
                data.append(contentsOf: buffer[0..<m])
            }
            let target = head.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
            let path = String(target.split(separator: "?", maxSplits: 1).first ?? "/")
            return (path, head)
        }
    }

    private static func find(_ data: [UInt8], _ needle: [UInt8]) -> Int? {
        guard data.count >= needle.count else { return nil }
        for i in 0...(data.count - needle.count) where Array(data[i..<(i + needle.count)]) == needle { return i }
        return nil
    }

    private static func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }
}

enum HTTPDateText {
    static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
