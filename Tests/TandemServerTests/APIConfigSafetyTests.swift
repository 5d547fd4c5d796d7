import Foundation
import HTTPTypes
import Postgres
import Testing

/// Values PostgreSQL cannot hold, and a refusal validation does not foresee, answered as a 422 naming the field, with
/// a message free of the database's own text (issue 14 §4: the API showed it).
@Suite("API: configuration values the database cannot hold", .serialized, .timeLimit(.minutes(5)))
struct APIConfigSafetyTests {
    static func showsInternals(_ text: String) -> Bool {
        ["INSERT", "PostgresError", "SQLSTATE", "constraint", "btree", "out of range for type", "relation", "libpq"].contains { text.contains($0) }
    }

    @Test func unstorableValuesAreRefusedWithCleanMessages() async throws {
        try await withAPI { api in
            let setUp = [
                ("/api/v1/repositories", APIResourceTests.repository), ("/api/v1/models", APIResourceTests.model),
                ("/api/v1/collections", APIResourceTests.collection("left")), ("/api/v1/collections", APIResourceTests.collection("right")),
            ]
            for (uri, body) in setUp { #expect(try await api.call(.post, uri, body: body).status == 201, "\(uri)") }
            // Letters no compression shortens: PostgreSQL cannot squeeze them into an index entry.
            var state: UInt64 = 7
            let long = String(
                (0..<10_000).map { _ in
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return Character(Unicode.Scalar(UInt8(97 + (state >> 33) % 26)))
                })
            let cases: [(uri: String, body: String, field: String)] = [
                ("/api/v1/models", #"{"name":"\#(long)","fields":[{"name":"a","type":"string"}]}"#, "name"),
                ("/api/v1/models", #"{"name":"m","fields":[{"name":"a\u0000b","type":"string"}]}"#, "fields[0].name"),
                ("/api/v1/models", #"{"name":"m","fields":[{"name":"a\u001b[2Jb","type":"string"}]}"#, "fields[0].name"),
                (
                    "/api/v1/integrations",
                    #"{"name":"i","left":"left","right":"right","schedule":{"changeDetection":{"interval":"2147483648s"}}}"#,
                    "schedule.changeDetection.interval"
                ),
                ("/api/v1/repositories", #"{"name":"r2","type":"redmine","url":"https://sync:s3cret@redmine.example.com"}"#, "url"),
            ]
            let before = try await api.snapshot()
            for (uri, body, field) in cases {
                let answer = try await api.call(.post, uri, body: body)
                #expect(answer.status == 422, "\(field): \(answer.status) \(answer.text.prefix(500))")
                #expect(answer.field == field, "\(field): \(answer.text.prefix(500))")
                #expect(!Self.showsInternals(answer.text), "\(field): \(answer.text.prefix(500))")
                #expect(!answer.text.contains("s3cret"), "\(field): \(answer.text.prefix(500))")
            }
            #expect(try await api.snapshot() == before)

            // A refusal only the database knows of (a constraint this test adds): a clean 422, nothing stored.
            try await api.postgres.query("ALTER TABLE models ADD CONSTRAINT test_refusal CHECK (name <> 'refused')")
            let refused = try await api.call(.post, "/api/v1/models", body: #"{"name":"refused","fields":[{"name":"a","type":"string"}]}"#)
            #expect(refused.status == 422, "\(refused.status) \(refused.text)")
            #expect(refused.message.contains("model 'refused' could not be stored"), "\(refused.text)")
            #expect(!Self.showsInternals(refused.text), "\(refused.text)")
            #expect(try await api.snapshot() == before)
        }
    }
}
