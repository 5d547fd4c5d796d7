import Foundation
import Postgres
import Testing

@Suite struct SmokeTests {
    @Test func selectOne() async throws {
        try await TestDatabase.withClient { client in
            let rows = try await client.query("SELECT 1 AS one, \(42) AS answer, \("hé") AS text")
            #expect(rows.count == 1)
            #expect(rows.columns == ["one", "answer", "text"])
            #expect(try rows[0].decode(Int.self, at: 0) == 1)
            #expect(try rows[0].decode(Int.self, column: "answer") == 42)
            #expect(try rows[0].decode(String.self, column: "text") == "hé")
        }
    }
}
