import Foundation
import HTTP
import Synchronization
import TandemConnectors
import TandemCore
import TandemSimulator
import Testing

/// The repository simulator and `RemoteMemoryConnector` beyond the shared contract: several clients (as several
/// processes would) on one repository, attachment content, errors mapped back, the test and operations routes.
@Suite(.timeLimit(.minutes(3)))
struct SimulatorTests {
    static let runID = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)

    static func draft(_ title: String, project: String = "demo") -> ArtifactDraft {
        ArtifactDraft(project: project, artifactType: "task", fields: ["title": .string(title)])
    }

    /// GET or POST on the simulator's operations routes, decoded.
    static func ops<T: Decodable>(
        _ type: T.Type, _ base: URL, _ path: String, method: HTTPMethod = .get, body: String? = nil, client: HTTPClient = ConnectorUnderTest.client
    ) async throws -> T {
        let request = HTTPRequest(method, URL(string: base.absoluteString + path)!, body: body.map { Data($0.utf8) })
        let response = try await client.send(request, settings: ConnectorUnderTest.settings("simulator-ops"))
        return try SimulatorWire.decoder().decode(type, from: response.body)
    }

    @Test func repositoryURLs() {
        #expect(RemoteMemoryConnector.repositoryName(in: URL(string: "http://127.0.0.1:7070/repos/left")!) == "left")
        #expect(RemoteMemoryConnector.repositoryName(in: URL(string: "https://sim.example:7070/repos/right/")!) == "right")
        // The in-process registry's URLs stay in process.
        #expect(RemoteMemoryConnector.repositoryName(in: URL(string: "http://memory.invalid/left")!) == nil)
        #expect(RemoteMemoryConnector.repositoryName(in: URL(string: "http://127.0.0.1:7070/repos")!) == nil)
        #expect(RemoteMemoryConnector.repositoryName(in: URL(string: "http://127.0.0.1:7070/repos/a/b")!) == nil)
        #expect(RemoteMemoryConnector.repositoryName(in: URL(string: "ftp://127.0.0.1/repos/a")!) == nil)
    }

    @Test func clientsOfSeveralProcessesShareOneRepository() async throws {
        let name = "shared-\(Self.runID)"
        // Each process has its own HTTP client; the repository lives in the simulator.
        let first = HTTPClient()
        let second = HTTPClient()
        defer { Task { await first.shutdown() } }
        defer { Task { await second.shutdown() } }
        let a = try await TestSimulator.connector(name, client: first)
        let b = try await TestSimulator.connector(name, client: second)
        let start = b.cursor(startingAt: try await b.repositoryTime())
        let created = try await a.createArtifact(Self.draft("shared \(Self.runID)"))
        let read = try await b.artifact(id: created.artifactID)
        #expect(read.fields["title"] == .string("shared \(Self.runID)"))
        #expect(read.version == created.version)
        let page = try await b.changes(project: "demo", since: start, pageSize: 10)
        #expect(page.changes.map(\.id) == [created.artifactID])
        let updated = try await b.updateFields(id: created.artifactID, ["status": .select("in-progress")])
        #expect(try await a.artifact(id: created.artifactID).version == updated.version)

        let base = try await TestSimulator.baseURL.value
        let stats = try await Self.ops(SimulatorWire.Stats.self, base, "/repos/\(name)/stats")
        #expect(stats.writes == 2)
        #expect(stats.calls >= 6)
        #expect(stats.artifacts == ["demo": 1])
        // the write log: both writes, with the title after each and sub-second wall-clock times
        let log = try await Self.ops(SimulatorWire.WriteLog.self, base, "/repos/\(name)/log?after=0")
        #expect(log.events.map(\.operation) == ["create", "update"])
        #expect(log.events.allSatisfy { $0.id == created.artifactID && $0.title == "shared \(Self.runID)" })
        let later = try await Self.ops(SimulatorWire.WriteLog.self, base, "/repos/\(name)/log?after=\(log.events[0].seq)")
        #expect(later.events.map(\.operation) == ["update"])
    }

    @Test func attachmentContentComesBackAsUploaded() async throws {
        let c = try await TestSimulator.connector("files-\(Self.runID)")
        let id = try await c.createArtifact(Self.draft("with a file")).artifactID
        let bytes = Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let written = try await c.uploadAttachment(id: id, filename: "blob.bin", contentType: "application/octet-stream", data: bytes)
        let artifact = try await c.artifact(id: id)
        let info = try #require(artifact.attachments.first { $0.id == written.itemID })
        #expect(info.size == bytes.count)
        #expect(try await c.attachmentContent(artifactID: id, attachment: info) == bytes)
        var missing = info
        missing.id = "999999"
        do {
            _ = try await c.attachmentContent(artifactID: id, attachment: missing)
            Issue.record("a missing attachment was served")
        } catch let error as ConnectorError {
            #expect(error.code == .artifactGone)
            #expect(error.kind == .permanent)
        }
    }

    @Test func errorsComeBackAsTheInMemoryConnectorsOwn() async throws {
        let remote = try await TestSimulator.connector("errors-\(Self.runID)")
        let local = InMemoryConnector(repository: InMemoryRepository(projects: ["demo", "left", "right"]))
        func failure(_ body: () async throws -> Void) async -> ConnectorError? {
            do {
                try await body()
                return nil
            } catch {
                return error as? ConnectorError
            }
        }
        let cases: [(String, @Sendable (any Connector) async throws -> Void)] = [
            ("unknown project", { _ = try await $0.createArtifact(Self.draft("x", project: "nowhere")) }),
            ("blank title", { _ = try await $0.createArtifact(Self.draft("")) }),
            (
                "bad status",
                {
                    _ = try await $0.createArtifact(
                        ArtifactDraft(project: "demo", artifactType: "task", fields: ["title": .string("t"), "status": .select("nope")]))
                }
            ),
            ("read missing", { _ = try await $0.artifact(id: "424242") }),
            ("update missing", { _ = try await $0.updateFields(id: "424242", ["title": .string("t")]) }),
            ("comment missing", { _ = try await $0.addComment(id: "424242", text: "hi") }),
            ("delete missing", { try await $0.deleteArtifact(id: "424242") }),
            (
                "attachment of a missing artifact",
                {
                    let info = AttachmentInfo(id: "1", filename: "f", contentType: nil, size: nil, created: nil, author: nil, url: nil)
                    _ = try await $0.attachmentContent(artifactID: "424242", attachment: info)
                }
            ),
            (
                "missing attachment",
                {
                    let id = try await $0.createArtifact(Self.draft("no files")).artifactID
                    let info = AttachmentInfo(id: "999", filename: "f", contentType: nil, size: nil, created: nil, author: nil, url: nil)
                    _ = try await $0.attachmentContent(artifactID: id, attachment: info)
                }
            ),
            ("bad cursor", { _ = try await $0.changes(project: "demo", since: FeedCursor(rawValue: "garbage"), pageSize: 5) }),
        ]
        for (name, body) in cases {
            let expected = try #require(await failure { try await body(local) }, "\(name): the in-memory connector did not fail")
            let actual = try #require(await failure { try await body(remote) }, "\(name): the remote connector did not fail")
            #expect(actual.code == expected.code, "\(name)")
            #expect(actual.kind == expected.kind, "\(name)")
            #expect(actual.message == expected.message, "\(name)")
        }
    }

    /// A simulator of its own (latency and reset would disturb the shared one): every API call waits the latency,
    /// counters count, reset forgets.
    @Test func latencyCountersAndReset() async throws {
        let simulator = RepositorySimulator(configuration: .init(host: "127.0.0.1", port: 0, latency: .milliseconds(150)))
        let ports = AsyncStream<Int>.makeStream()
        let server = Task { try await simulator.run(gracefulShutdownSignals: []) { ports.continuation.yield($0) } }
        defer { server.cancel() }
        var iterator = ports.stream.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let base = URL(string: "http://127.0.0.1:\(port)")!
        let c = RemoteMemoryConnector(
            .init(repositoryURL: base.appending(path: "repos/slow"), settings: ConnectorUnderTest.settings("slow")), client: ConnectorUnderTest.client
        )

        let started = ContinuousClock.now
        let id = try await c.createArtifact(Self.draft("slow")).artifactID
        _ = try await c.artifact(id: id)
        #expect(started.duration(to: .now) >= .milliseconds(300), "two calls, 150 ms each at least")
        #expect(try await Self.ops([String: Int].self, base, "/latency") == ["milliseconds": 150])
        _ = try await Self.ops([String: Int].self, base, "/latency", method: .put, body: #"{"milliseconds": 0}"#)

        let seeded = try await Self.ops(SimulatorWire.IDs.self, base, "/repos/slow/seed", method: .post, body: #"{"project":"left","count":5}"#)
        #expect(seeded.ids.count == 5)
        var stats = try await Self.ops(SimulatorWire.Stats.self, base, "/repos/slow/stats")
        #expect(stats.writes == 6)
        #expect(stats.calls == 2, "the operations routes are not API calls")
        #expect(stats.artifacts == ["demo": 1, "left": 5])
        let all = try await Self.ops([String: [String: SimulatorWire.Stats]].self, base, "/stats")
        #expect(all["repositories"]?.keys.sorted() == ["slow"])

        _ = try await Self.ops([String: String].self, base, "/reset", method: .post)
        stats = try await Self.ops(SimulatorWire.Stats.self, base, "/repos/slow/stats")
        #expect(stats.writes == 0 && stats.calls == 0 && stats.artifacts.isEmpty)
        do {
            _ = try await c.artifact(id: id)
            Issue.record("an artifact survived the reset")
        } catch let error as ConnectorError {
            #expect(error.code == .artifactGone)
        }
        // a repository that accepts no credentials rejects a token, as the in-memory one does
        let withToken = RemoteMemoryConnector(
            .init(
                repositoryURL: base.appending(path: "repos/slow"), credentials: .bearer("some-token"), settings: ConnectorUnderTest.settings("slow")),
            client: ConnectorUnderTest.client)
        let result = await withToken.testConnection(project: "demo")
        #expect(result.error?.code == .credentialsRejected)
    }

    @Test func anUnreachableSimulatorIsUnavailable() async throws {
        let c = RemoteMemoryConnector(
            .init(
                repositoryURL: URL(string: "http://127.0.0.1:1/repos/none")!,
                settings: ConnectionSettings(repository: "none", connectTimeout: .seconds(2), requestTimeout: .seconds(5), retry: .none)),
            client: ConnectorUnderTest.client)
        let result = await c.testConnection(project: "demo")
        #expect(!result.reachable)
        do {
            _ = try await c.repositoryTime()
            Issue.record("no simulator, yet an answer")
        } catch let error as ConnectorError {
            #expect(error.kind == .transient)
        }
    }
}
