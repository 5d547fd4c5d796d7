import Foundation
import HTTP
import Logging
import Synchronization
import TandemConnectors
import Testing

/// Bad answers from a local server become classified `HTTPError`s (with the tool's own message where there
/// is one): never a crash, never a silent success.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct FaultSuiteTests {
    let server: FaultServer
    let client: HTTPClient
    let settings: ConnectionSettings
    let repository: String
    /// One client for the whole suite: one transfer thread, connections reused across tests.
    static let sharedClient = HTTPClient()

    init() throws {
        self.server = try FaultServer()
        self.client = Self.sharedClient
        self.repository = "fault-\(UUID().uuidString)"
        self.settings = ConnectionSettings(
            repository: self.repository, requestTimeout: .seconds(5),
            retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .milliseconds(20)))
    }

    private func failure(_ path: String, _ method: HTTPMethod = .get) async throws -> HTTPError {
        do {
            let response = try await self.client.send(HTTPRequest(method, self.server.url(path)), settings: self.settings)
            Issue.record("expected a failure for \(path), got HTTP \(response.status)")
            throw CancellationError()
        } catch let error as HTTPError {
            return error
        }
    }

    @Test func success() async throws {
        let response = try await self.client.send(HTTPRequest(.get, self.server.url("/ok")), settings: self.settings)
        #expect(response.status == 200)
        #expect(try JSONValue.parse(response.body)["ok"] == .bool(true))
        #expect(self.client.apiCalls.count(repository: self.repository) == 1)
    }

    @Test func htmlErrorPageBecomesTransientWithItsTitle() async throws {
        let error = try await self.failure("/html500")
        #expect(error.kind == .transient)
        #expect(error.code == .serverError)
        #expect(error.status == 500)
        #expect(error.message.contains("Internal error"))
        #expect(error.message.contains("Database is locked"))
        #expect(self.server.hitCount("/html500") == 3)  // GET: retried, then given up
    }

    @Test func htmlWhereJSONWasExpectedIsInvalidResponse() async throws {
        let response = try await self.client.send(HTTPRequest(.get, self.server.url("/html200")), settings: self.settings)
        #expect(throws: HTTPError.self) { try JSONValue.parse(response.body) }
        do {
            _ = try JSONValue.parse(response.body)
        } catch {
            #expect(error.code == .invalidResponse)
            #expect(error.message.contains("Sign in - SSO"))
        }
    }

    @Test func validationErrorCarriesTheToolsMessages() async throws {
        let error = try await self.failure("/json422", .post)
        #expect(error.kind == .permanent)
        #expect(error.code == .validation)
        #expect(error.message == "Subject cannot be blank; Tracker is not included in the list")
        #expect(self.server.hitCount("/json422") == 1)
    }

    @Test func roundupStyleErrorBody() async throws {
        let error = try await self.failure("/roundup412", .put)
        #expect(error.kind == .transient)
        #expect(error.code == .preconditionFailed)
        #expect(error.message == "If-Match is missing or does not match.")
    }

    @Test(arguments: [
        ("/401", HTTPError.Code.unauthorized, FailureKind.needsAttention),
        ("/403", .forbidden, .needsAttention),
        ("/404", .notFound, .permanent),
        ("/409", .conflict, .transient),
        ("/502", .serverError, .transient),
    ])
    func statusClassification(path: String, code: HTTPError.Code, kind: FailureKind) async throws {
        let error = try await self.failure(path, .post)
        #expect(error.code == code)
        #expect(error.kind == kind)
        #expect(!error.message.isEmpty)
    }

    @Test func truncatedBodyIsATransientConnectionLoss() async throws {
        let error = try await self.failure("/truncated")
        #expect(error.code == .connectionLost)
        #expect(error.kind == .transient)
    }

    @Test func truncatedAndWrongTypedJSONAreInvalidResponses() async throws {
        let truncated = try await self.client.send(HTTPRequest(.get, self.server.url("/truncated-json")), settings: self.settings)
        #expect(throws: HTTPError.self) { try JSONValue.parse(truncated.body) }
        let wrong = try JSONValue.parse(
            try await self.client.send(HTTPRequest(.get, self.server.url("/wrong-type")), settings: self.settings).body)
        do {
            _ = try wrong.requireArray("issues", in: "issue list")
            Issue.record("wrong type accepted")
        } catch {
            #expect(error.code == .invalidResponse)
            #expect(error.kind == .permanent)
            #expect(error.message == #"issue list: "issues" is not an array"#)
        }
        let empty = try await self.client.send(HTTPRequest(.get, self.server.url("/empty200")), settings: self.settings)
        #expect(throws: HTTPError.self) { try JSONValue.parse(empty.body) }
    }

    @Test func connectionResetIsTransient() async throws {
        let error = try await self.failure("/reset")
        #expect(error.code == .connectionLost)
        #expect(error.kind == .transient)
    }

    @Test func nonHTTPAnswerIsTransient() async throws {
        let error = try await self.failure("/garbage")
        #expect(error.kind == .transient)
    }

    @Test func timeoutIsTransient() async throws {
        let settings = ConnectionSettings(repository: "fault", requestTimeout: .milliseconds(300), retry: .none)
        do {
            _ = try await self.client.send(HTTPRequest(.get, self.server.url("/slow")), settings: settings)
            Issue.record("no timeout")
        } catch let error as HTTPError {
            #expect(error.code == .timeout)
            #expect(error.kind == .transient)
        }
    }

    @Test func refusedConnectionIsUnreachable() async throws {
        let settings = ConnectionSettings(repository: "fault", retry: .none)
        do {
            _ = try await self.client.send(HTTPRequest(.get, URL(string: "http://127.0.0.1:9/")!), settings: settings)
            Issue.record("connected to the discard port?")
        } catch let error as HTTPError {
            #expect(error.code == .unreachable)
            #expect(error.kind == .transient)
        }
    }

    @Test func rateLimitsPauseTheRepositoryInsteadOfRetrying() async throws {
        let before = Date()
        let seconds = try await self.failure("/429")
        #expect(seconds.code == .rateLimited)
        #expect(seconds.kind == .transient)
        #expect(seconds.message == "slow down")
        let pause = try #require(seconds.pauseUntil).timeIntervalSince(before)
        #expect(pause > 28 && pause < 40)
        #expect(self.server.hitCount("/429") == 1)  // not retried in process

        let date = try await self.failure("/429-date")
        let datePause = try #require(date.pauseUntil).timeIntervalSince(before)
        #expect(datePause > 115 && datePause < 135)

        let bare = try await self.failure("/429-bare")
        #expect(try #require(bare.pauseUntil).timeIntervalSince(before) >= 59)

        let github = try await self.failure("/403-ratelimit")
        #expect(github.code == .rateLimited)
        #expect(github.kind == .transient)
        let githubPause = try #require(github.pauseUntil).timeIntervalSince(before)
        #expect(githubPause > 85 && githubPause < 105)

        let unavailable = try await self.failure("/503")
        #expect(unavailable.code == .serverError)
        #expect(unavailable.pauseUntil != nil)
        #expect(self.server.hitCount("/503") == 1)
    }

    @Test func idempotentCallsAreRetriedOthersNot() async throws {
        let response = try await self.client.send(HTTPRequest(.get, self.server.url("/flaky")), settings: self.settings)
        #expect(response.status == 200)
        #expect(self.server.hitCount("/flaky") == 3)
        #expect(self.client.apiCalls.count(repository: self.repository) == 3)

        let post = try await self.failure("/html500", .post)
        #expect(post.kind == .transient)
        #expect(self.server.hitCount("/html500") == 1)
    }

    @Test func oversizedResponseIsRefused() async throws {
        var settings = self.settings
        settings.maxResponseBytes = 100_000
        do {
            _ = try await self.client.send(HTTPRequest(.get, self.server.url("/big")), settings: settings)
            Issue.record("accepted an oversized body")
        } catch let error as HTTPError {
            #expect(error.code == .responseTooLarge)
            #expect(error.kind == .permanent)
        }
    }

    @Test func manyConcurrentRequestsOnOneThread() async throws {
        let client = self.client
        let settings = self.settings
        let url = self.server.url("/ok")
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<40 { group.addTask { try await client.send(HTTPRequest(.get, url), settings: settings).status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 40))
    }

    @Test func connectionsAreReused() async throws {
        let server = try FaultServer()
        defer { server.stop() }
        for _ in 0..<5 {
            let response = try await self.client.send(HTTPRequest(.get, server.url("/keepalive")), settings: self.settings)
            #expect(response.status == 200)
            #expect(response.httpVersion == "1.1")
        }
        #expect(server.hitCount("/keepalive") == 5)
        #expect(server.connections == 1)
    }

    @Test func cancellationEndsARunningRequest() async throws {
        let client = self.client
        let settings = ConnectionSettings(repository: "fault", requestTimeout: .seconds(10), retry: .none)
        let url = self.server.url("/slow")
        let started = ContinuousClock.now
        let task = Task { try await client.send(HTTPRequest(.get, url), settings: settings) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(ContinuousClock.now - started < .seconds(5))  // /slow answers after 10 s
    }

    @Test func emptyPostSendsContentLengthZero() async throws {
        _ = try await self.client.send(HTTPRequest(.post, self.server.url("/echo")), settings: self.settings)
        #expect(self.server.headers(of: "/echo").lowercased().contains("content-length: 0"))
    }
}

/// Secrets stay out of logs, error descriptions and reflection.
@Suite struct SecretHandlingTests {
    @Test func secretsNeverPrint() {
        let secret = Secret("hunter2")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "Secret(<redacted>)")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        let proxy = ConnectionSettings.Proxy(url: "http://user:pw@proxy.example:3128", username: "u", password: "hunter2")
        let settings = ConnectionSettings(repository: "r", proxy: proxy)
        #expect(!"\(settings)".contains("hunter2"))
        #expect(!"\(settings)".contains("pw@"))
    }

    @Test func requestDescriptionsRedactKeysAndUserInfo() {
        let request = HTTPRequest(
            .get, URL(string: "http://me:pw@127.0.0.1:1/issues.json?key=SECRETKEY&limit=5")!,
            headers: [HTTPHeader("Authorization", "Bearer SECRETTOKEN")], sensitiveQueryItems: ["key"])
        #expect(!request.description.contains("SECRETKEY"))
        #expect(!request.description.contains("pw"))
        #expect(request.description.contains("limit=5"))
        #expect(!"\(request.headers)".contains("SECRETTOKEN"))
    }

    @Test func logsCarryNoSecrets() async throws {
        let server = try FaultServer()
        defer { server.stop() }
        let (client, handler) = CapturingLogHandler.client()
        let url = URL(string: "http://127.0.0.1:\(server.port)/401?key=SECRETKEY")!
        let request = HTTPRequest(
            .get, url, headers: [HTTPHeader("X-Redmine-API-Key", "SECRETKEY2"), HTTPHeader("Authorization", "Basic SECRET3")],
            sensitiveQueryItems: ["key"])
        do {
            _ = try await client.send(request, settings: ConnectionSettings(repository: "r"))
        } catch let error as HTTPError {
            #expect(error.kind == .needsAttention)
            #expect(!"\(error)".contains("SECRET"))
        }
        let text = handler.text
        #expect(text.contains("HTTP exchange"))
        #expect(!text.contains("SECRET"))
        #expect(server.headers(of: "/401").contains("SECRETKEY2"))  // but it was sent
        await client.shutdown()
    }

    @Test func aConnectionWithVerboseLoggingLogsItsExchangesAtNoticeLevel() async throws {
        let server = try FaultServer()
        defer { server.stop() }
        let (client, handler) = CapturingLogHandler.client()
        let url = URL(string: "http://127.0.0.1:\(server.port)/ok?key=SECRETKEY")!
        let request = HTTPRequest(.get, url, sensitiveQueryItems: ["key"])
        _ = try await client.send(request, settings: ConnectionSettings(repository: "quiet"))
        _ = try await client.send(request, settings: ConnectionSettings(repository: "loud", verboseLogging: true))
        let lines = handler.text.split(separator: "\n")
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first { $0.contains("quiet") }?.hasPrefix("debug HTTP exchange") == true, "\(lines)")
        #expect(lines.first { $0.contains("loud") }?.hasPrefix("notice HTTP exchange") == true, "\(lines)")
        #expect(!handler.text.contains("SECRETKEY") && handler.text.contains("tandem.http.status"))
        await client.shutdown()
    }
}

final class CapturingLogHandler: LogHandler, Sendable {
    /// An HTTP client logging every level into a new handler.
    static func client() -> (HTTPClient, CapturingLogHandler) {
        let handler = CapturingLogHandler()
        var logger = Logger(label: "test", factory: { _ in handler })
        logger.logLevel = .trace
        return (HTTPClient(logger: logger), handler)
    }

    private let lines = Mutex<[String]>([])
    var text: String { self.lines.withLock { $0.joined(separator: "\n") } }
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }
    func log(event: LogEvent) {
        self.lines.withLock { $0.append("\(event.level) \(event.message) \(event.metadata ?? [:])") }
    }
}

/// A proxy per connection, with proxy authentication (the fault server plays the proxy).
@Suite struct ProxyTests {
    @Test func proxyWithAuthentication() async throws {
        let server = try FaultServer()
        defer { server.stop() }
        let client = FaultSuiteTests.sharedClient
        let proxy = ConnectionSettings.Proxy(url: "http://127.0.0.1:\(server.port)", username: "tandem", password: "proxy-pw")
        // The target port is closed: only the proxy can answer.
        let target = HTTPRequest(.get, URL(string: "http://127.0.0.1:9/ok")!)
        let response = try await client.send(target, settings: ConnectionSettings(repository: "p", proxy: proxy, retry: .none))
        #expect(response.status == 200)
        #expect(server.hitCount("/proxied/ok") == 1)

        let wrong = ConnectionSettings.Proxy(url: "http://127.0.0.1:\(server.port)", username: "tandem", password: "nope")
        do {
            _ = try await client.send(target, settings: ConnectionSettings(repository: "p", proxy: wrong, retry: .none))
            Issue.record("wrong proxy password accepted")
        } catch let error as HTTPError {
            #expect(error.code == .proxyAuthentication)
            #expect(error.kind == .needsAttention)
            #expect(!"\(error)".contains("nope"))
        }
    }
}
