import Foundation
import HTTP
import TandemConnectors
import TandemCore
import Testing

/// The connector SDK's paginators and classification hook (issue 15 §1).
@Suite struct ConnectorSDKTests {
    static func answer(_ status: Int = 200, headers: [(String, String)] = [], json: JSONValue? = nil, items: Int) -> PageAnswer {
        PageAnswer(response: HTTPResponse(status: status, headers: headers.map { (name: $0.0, value: $0.1) }), json: json, itemCount: items)
    }

    /// Walks a paginator over pages of the given sizes, returning the marks it asked for.
    static func walk(_ paginator: inout some Paginator, _ answers: [PageAnswer]) throws -> [PageMark] {
        var marks = [paginator.first]
        for answer in answers {
            guard let next = try paginator.next(after: answer) else { return marks }
            marks.append(next)
        }
        return marks
    }

    @Test func offsetPagingStopsAtAShortPageOrTheTotal() throws {
        var byLength = OffsetPaginator(pageSize: 3)
        let marks = try Self.walk(&byLength, [Self.answer(items: 3), Self.answer(items: 3), Self.answer(items: 1)])
        #expect(
            marks.map(\.queryPairs).map { $0.map { "\($0.0)=\($0.1)" } } == [
                ["offset=0", "limit=3"], ["offset=3", "limit=3"], ["offset=6", "limit=3"],
            ])

        // A stated total ends the list even after a full page (Jira Data Center's `total`, Redmine's `total_count`).
        var byTotal = OffsetPaginator(pageSize: 2, offsetParameter: "startAt", limitParameter: "maxResults", totalMember: "total")
        let total: JSONValue = .object(["total": .number(4)])
        let totalMarks = try Self.walk(
            &byTotal, [Self.answer(json: total, items: 2), Self.answer(json: total, items: 2), Self.answer(json: total, items: 2)])
        #expect(totalMarks.count == 2 && totalMarks[1].queryPairs.first! == ("startAt", "2"))
        // An empty page ends it whatever the total says.
        var empty = OffsetPaginator(pageSize: 2, totalMember: "total")
        #expect(try empty.next(after: Self.answer(json: .object(["total": .number(99)]), items: 0)) == nil)
    }

    @Test func pageNumbersFollowXNextPageWhenGiven() throws {
        var plain = PageNumberPaginator(pageSize: 2)
        #expect(try Self.walk(&plain, [Self.answer(items: 2), Self.answer(items: 1)]).map { $0.query[0].value } == ["1", "2"])

        var gitlab = PageNumberPaginator(pageSize: 100, nextPageHeader: "X-Next-Page")
        let marks = try Self.walk(
            &gitlab, [Self.answer(headers: [("X-Next-Page", "2")], items: 100), Self.answer(headers: [("X-Next-Page", "")], items: 100)])
        #expect(marks.map { $0.query[0].value } == ["1", "2"])
        var backwards = PageNumberPaginator(pageSize: 100, nextPageHeader: "X-Next-Page")
        #expect(throws: ConnectorError.self) { try backwards.next(after: Self.answer(headers: [("X-Next-Page", "1")], items: 100)) }
        var garbage = PageNumberPaginator(pageSize: 100, nextPageHeader: "X-Next-Page")
        #expect(throws: ConnectorError.self) { try garbage.next(after: Self.answer(headers: [("X-Next-Page", "two")], items: 100)) }
    }

    @Test func tokensEndWhenAbsentOrLastAndNeverRepeat() throws {
        var jira = TokenPaginator(source: .member("nextPageToken"), lastPageMember: "isLast")
        let first: JSONValue = .object(["nextPageToken": .string("CAEaAggD"), "isLast": .bool(false)])
        let next = try #require(try jira.next(after: Self.answer(json: first, items: 50)))
        #expect(next.token == "CAEaAggD" && next.query.isEmpty)
        #expect(try jira.next(after: Self.answer(json: .object(["nextPageToken": .string("x"), "isLast": .bool(true)]), items: 3)) == nil)
        #expect(try jira.next(after: Self.answer(json: .object([:]), items: 3)) == nil)

        var looping = TokenPaginator(source: .member("nextPageToken"))
        _ = try looping.next(after: Self.answer(json: first, items: 1))
        #expect(throws: ConnectorError.self) { try looping.next(after: Self.answer(json: first, items: 1)) }

        var azure = TokenPaginator(source: .header("x-ms-continuationtoken"), parameter: "continuationToken")
        let mark = try #require(try azure.next(after: Self.answer(headers: [("X-MS-ContinuationToken", "42;7")], items: 200)))
        #expect(mark.queryPairs.first! == ("continuationToken", "42;7"))
        #expect(try azure.next(after: Self.answer(items: 10)) == nil)
    }

    @Test func linkHeadersAreParsedAndKeptOnTheRepositorysOrigin() throws {
        // As api.github.com sends it (recorded in octokit/fixtures' paginate-issues scenario).
        let header =
            #"<https://api.github.com/repositories/1/issues?per_page=1&page=2>; rel="next", <https://api.github.com/repositories/1/issues?per_page=1&page=5>; rel="last""#
        #expect(LinkHeaderPaginator.links(in: header)["last"] == "https://api.github.com/repositories/1/issues?per_page=1&page=5")
        var github = LinkHeaderPaginator(origin: URL(string: "https://api.github.com")!)
        let next = try #require(try github.next(after: Self.answer(headers: [("Link", header)], items: 1)))
        #expect(next.url?.absoluteString == "https://api.github.com/repositories/1/issues?per_page=1&page=2")
        #expect(try github.next(after: Self.answer(headers: [("Link", #"<https://api.github.com/x?page=1>; rel="prev""#)], items: 1)) == nil)
        #expect(throws: ConnectorError.self) { try github.next(after: Self.answer(headers: [("Link", header)], items: 1)) }  // again

        var elsewhere = LinkHeaderPaginator(origin: URL(string: "https://gitlab.example.com")!)
        #expect(throws: ConnectorError.self) {
            try elsewhere.next(after: Self.answer(headers: [("Link", #"<https://evil.example.net/steal>; rel="next""#)], items: 1))
        }
        #expect(LinkHeaderPaginator.links(in: #"<https://a/1>; rel="next last""#)["last"] == "https://a/1")
        #expect(LinkHeaderPaginator.links(in: "garbage <no end").isEmpty)
    }

    /// A real list read page by page from the simulator with an `OffsetPaginator`: every item once, in order.
    @Test func offsetPagingOverARealServer() async throws {
        let name = "sdk-paging-\(UUID().uuidString.prefix(8))"
        let connector = try await TestSimulator.connector(name)
        var created: [String] = []
        for n in 1...7 {
            created.append(
                try await connector.createArtifact(ArtifactDraft(project: "demo", artifactType: "task", fields: ["title": .string("item \(n)")]))
                    .artifactID)
        }
        let session = RESTSession(
            client: ConnectorUnderTest.client, settings: ConnectorUnderTest.settings(name), base: try await TestSimulator.repositoryURL(name),
            credentials: .bearer(Secret(TestSimulator.token)), tool: "memory")
        var paginator = OffsetPaginator(pageSize: 3)
        var requests = 0
        let ids: [String] = try await paginator.collect { mark in
            requests += 1
            let (json, response) = try await session.json(session.request(.get, "/projects/demo/feed", query: mark.queryPairs))
            let entries = json["entries"]?.array ?? []
            return (PageAnswer(response: response, json: json, itemCount: entries.count), entries.compactMap { $0["id"]?.idString })
        }
        #expect(ids == created)
        #expect(requests == 3)
    }

    /// The tool's own reading of an answer refines the HTTP defaults: here a 401 that the tool means as a rate limit,
    /// and one it means as success.
    @Test func aConnectorReclassifiesItsToolsAnswers() async throws {
        let name = "sdk-classify-\(UUID().uuidString.prefix(8))"
        let base = try await TestSimulator.repositoryURL(name)
        var session = RESTSession(
            client: ConnectorUnderTest.client, settings: ConnectorUnderTest.settings(name), base: base,
            credentials: .bearer(Secret("wrong-token")), tool: "memory")
        do {
            _ = try await session.send(session.request(.get, "/projects"))
            Issue.record("a wrong token was accepted")
        } catch let error as ConnectorError {
            #expect(error.code == .credentialsRejected && error.kind == .needsAttention)
        }
        session.reclassify = { response, classified in
            var error = classified
            if response.status == 401 {
                error = HTTPError(.rateLimited, kind: .transient, status: 401, message: "slow down", pauseUntil: Date().addingTimeInterval(30))
            }
            return error
        }
        do {
            _ = try await session.send(session.request(.get, "/projects"))
            Issue.record("a wrong token was accepted")
        } catch let error as ConnectorError {
            #expect(error.code == .rateLimited && error.kind == .transient && error.pauseUntil != nil, "\(error)")
        }
        session.reclassify = { _, _ in nil }
        #expect(try await session.send(session.request(.get, "/projects")).status == 401)
    }
}

/// A tool with fields only — no comments, attachments, workflow or deletion: the protocol's defaults refuse what it
/// lacks by name, and a status is written as a field.
@Suite struct ConnectorDefaultsTests {
    final class FieldsOnly: Connector, @unchecked Sendable {
        var written: [[String: FieldValue]] = []
        let tool = "Fields-only"
        let capabilities = ConnectorCapabilities(
            comments: false, attachments: false, impersonation: false, relationships: false, transitions: false, optimisticConcurrency: false,
            maxPageSize: 10, timestampPrecision: 1, overlapWindow: 0, rateLimitSignals: [], deletion: .notFoundOnRead)
        func testConnection(project: String?) async -> ConnectionTestResult { .init(reachable: true, authenticated: true, projectFound: nil) }
        func repositoryTime() async throws -> Date { Date(timeIntervalSince1970: 0) }
        func projects() async throws -> [ProjectInfo] { [] }
        func artifactTypes(project: String) async throws -> [ArtifactTypeInfo] { [] }
        func fields(project: String, artifactType: String) async throws -> [FieldDescriptor] { [] }
        func changes(project: String, since cursor: FeedCursor?, pageSize: Int) async throws -> ChangePage {
            ChangePage(changes: [], cursor: FeedCursor(rawValue: ""), hasMore: false, repositoryTime: nil)
        }
        func cursor(startingAt time: Date) -> FeedCursor { FeedCursor(rawValue: "") }
        func artifact(id: String) async throws -> RepositoryArtifact { throw ConnectorError.gone(id, tool: self.tool) }
        func createArtifact(_ draft: ArtifactDraft) async throws -> WriteResult { throw ConnectorError.unsupported("read-only") }
        func updateFields(id: String, _ fields: [String: FieldValue]) async throws -> WriteResult {
            self.written.append(fields)
            return WriteResult(artifactID: id, updated: Date(timeIntervalSince1970: 0), version: "1")
        }
        func findByMarker(project: String, marker: String, createdSince: Date?) async throws -> [String] { [] }
    }

    @Test func whatAToolLacksIsRefusedByName() async throws {
        let connector = FieldsOnly()
        for operation in [
            { _ = try await connector.addComment(id: "7", text: "hi") },
            { _ = try await connector.uploadAttachment(id: "7", filename: "a.txt", contentType: "text/plain", data: Data()) },
            { try await connector.deleteArtifact(id: "7") },
        ] as [() async throws -> Void] {
            do {
                try await operation()
                Issue.record("an operation the tool lacks succeeded")
            } catch let error as ConnectorError {
                #expect(error.code == .unsupported && error.kind == .permanent && error.message.contains("Fields-only"), "\(error)")
            }
        }
        _ = try await connector.applyTransition(id: "7", to: "Done")
        #expect(connector.written == [["status": .select("Done")]])
    }
}

/// An integer option's pattern (what the API's document tells clients) matches exactly the values its registration
/// accepts: every range boundary, its neighbours, and numbers drawn at random in and around it.
@Suite struct IntegerOptionPatternTests {
    @Test(arguments: [1...Int(Int32.max), 0...Int(Int32.max), -50...120, 5...5, 0...0, -1000 ... -3, 7...1_000_000, 99...101])
    func patternMatchesExactlyTheAcceptedValues(_ range: ClosedRange<Int>) throws {
        let option = ConnectorOption("n", .integer(range), "a number", absent: "none")
        let pattern = try #require(option.type.pattern())
        let regex = try NSRegularExpression(pattern: pattern)
        var generator = SystemRandomNumberGenerator()
        let span = Int64(range.upperBound) - Int64(range.lowerBound)
        var samples = [range.lowerBound, range.upperBound, range.lowerBound - 1, range.upperBound + 1, 0, -1, 10, 100, 1000]
        for _ in 0..<2000 {
            let offset = Int64.random(in: -span / 2 - 20...span + span / 2 + 20, using: &generator)
            samples.append(Int(clamping: Int64(range.lowerBound) + offset))
        }
        var texts = samples.map(String.init)
        texts += ["+5", "007", "-0", "", "1e3", " 1", "12a"]
        for text in texts {
            let matches = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
            #expect(matches == (option.problem(with: text) == nil), "\(text) in \(range): pattern \(matches)")
        }
    }
}

/// A `pairs` option's pattern (what the API's document tells clients) matches exactly the values it accepts, and the
/// parse keeps names and values trimmed, a value's own `=`.
@Suite struct PairsOptionTests {
    @Test func patternMatchesExactlyTheAcceptedValues() throws {
        let option = ConnectorOption("p", .pairs, "pairs", absent: "none")
        let regex = try NSRegularExpression(pattern: try #require(option.type.pattern()))
        let parts = ["a=b", " a = b ", "a=b=c", "=b", "a=", " = ", "a", "", " ", "x y=1 2", "a=\t", "\ta=b", "é=ü"]
        var texts = parts
        for first in parts { for second in parts { texts.append(first + "," + second) } }
        texts += [",", "a=b,", ",a=b", "a=b,,c=d"]
        for text in texts {
            let matches = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
            let accepted = option.problem(with: text) == nil
            #expect(matches == accepted, "'\(text)': pattern \(matches), accepted \(accepted)")
        }
        #expect(try ConnectorOption.pairs(" resolution = Done , customfield_1=A=B").get() == ["resolution": "Done", "customfield_1": "A=B"])
        #expect(try ConnectorOption.pairs("a=1, a=2").get() == ["a": "2"])
    }
}
