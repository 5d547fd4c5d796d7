import Foundation
import InMemoryLogging
import Logging
import Postgres
import TandemServer
import TandemStore
import Testing

/// Issue 14 §7: what any client can send over a raw connection — a malformed chunked body, a body cut short — gets a
/// 4xx, never a 5xx, and never a log line at error level (which an anonymous client could otherwise write at will).
@Suite("HTTP hardening", .serialized, .timeLimit(.minutes(3)))
struct HTTPHardeningTests {
    /// The status line of an answer.
    static func status(_ answer: String) -> String { answer.components(separatedBy: "\r\n").first ?? "" }

    @Test func malformedAndTruncatedBodiesAre4xxAndLogNoError() async throws {
        // With a master key, so that a configuration change reads its body.
        let key = try MasterKey(bytes: Array(repeating: 3, count: 32))
        try await withLiveServer({ $0.masterKey = key }) { port, logs, postgres in
            let auth = AuthStore(client: postgres, hasher: testHasher, logger: quiet)
            _ = try await auth.createUser(username: "admin", password: "admin-password-1", roles: [.admin], actor: "test")
            let token = try await auth.createToken(for: "admin", name: "raw", actor: "test").token
            // Anonymous (logging in, the web UI's login form) and authenticated (a configuration change).
            let targets: [(path: String, type: String, headers: String)] = [
                ("/api/v1/session", "application/json", ""),
                ("/ui/login", "application/x-www-form-urlencoded", ""),
                ("/api/v1/models", "application/json", "Authorization: Token \(token)\r\n"),
            ]
            for target in targets {
                let head = "POST \(target.path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \(target.type)\r\n\(target.headers)"
                // A chunk size that is not hexadecimal.
                let malformed = try RawConnection(port: port)
                malformed.send(head + "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\nZZ\r\n12\r\n0\r\n\r\n")
                let answer = try await malformed.readAll()
                #expect(Self.status(answer) == "HTTP/1.1 400 Bad Request", "\(target.path) malformed chunked: \(answer)")
                // A chunk longer than announced.
                let overlong = try RawConnection(port: port)
                overlong.send(head + "Transfer-Encoding: chunked\r\n\r\n2\r\n{\"a\":1}\r\n0\r\n\r\n")
                let over = try await overlong.readAll()
                #expect(Self.status(over).hasPrefix("HTTP/1.1 4"), "\(target.path) overlong chunk: \(over)")
                // Fewer bytes than Content-Length says, then the client stops sending (and reads), or goes away.
                let short = try RawConnection(port: port)
                short.send(head + "Content-Length: 100\r\n\r\n{\"username\":")
                short.finishSending()
                let cut = try await short.readAll()
                #expect(!Self.status(cut).hasPrefix("HTTP/1.1 5"), "\(target.path) truncated: \(cut)")
                let gone = try RawConnection(port: port)
                gone.send(head + "Content-Length: 100\r\n\r\n{\"username\":")
                _ = gone
            }
            // The server is still fine, and logged nothing at error level (or above) for any of it.
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await httpGet(port: port, path: "/health/live").status == "HTTP/1.1 200 OK")
            let errors = logs.entries.filter { $0.level >= .error }
            #expect(errors.isEmpty, "\(errors.map { "\($0.level) \($0.message) \($0.metadata)" })")
            #expect(!logs.entries.isEmpty)  // the handler does record: the server logged its start at least
        }
    }
}
