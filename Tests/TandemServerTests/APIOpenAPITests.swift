import Foundation
import Hummingbird
import TandemConfig
import TandemCore
import TandemServer
import Testing

@Suite("The OpenAPI document", .serialized, .timeLimit(.minutes(2)))
struct APIOpenAPITests {
    @Test(arguments: [false, true])
    func theOpenAPIDocumentDescribesEveryEndpoint(withRequests: Bool) async throws {
        let accept: IntegrationRequester = { _, _, _, _, _ in 1 }
        let requester: IntegrationRequester? = withRequests ? accept : nil
        try await withAPI(requester: requester) { api in
            let answer = try await api.call(.get, "/api/openapi.json", as: .none)
            #expect(answer.status == 200)
            let document = answer.json
            #expect(document["openapi"]?.stringValue?.hasPrefix("3.1") == true)
            let paths = document["paths"]?.members ?? []
            var documented: Set<String> = []
            for path in paths {
                for operation in path.value.members ?? [] where ["get", "post", "put", "patch", "delete"].contains(operation.key) {
                    documented.insert("\(operation.key.uppercased()) \(path.key)")
                    // Every operation documents its error answers.
                    #expect(operation.value["responses"]?.members?.contains { $0.key.hasPrefix("4") } == true, "\(operation.key) \(path.key)")
                }
            }
            let served = Set(api.api.endpoints.map { "\($0.method.rawValue) \($0.path)" }).union(["GET /api/openapi.json"])
            #expect(served.subtracting(documented).isEmpty, "not documented: \(served.subtracting(documented).sorted())")
            #expect(documented.subtracting(served).isEmpty, "documented, not served: \(documented.subtracting(served).sorted())")
        }
    }
}

/// The document is kept in the repository as `docs/openapi.json` (the output of `tandem openapi`): it must be what the
/// server serves. After changing the API: `swift run tandem openapi > docs/openapi.json`.
@Suite("The committed OpenAPI document")
struct APIOpenAPICommittedTests {
    @Test func docsOpenAPIJSONIsTheServedDocument() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/openapi.json").standardized
        let committed = try String(contentsOf: url, encoding: .utf8)
        let served = try OpenAPIDocument.indented(OpenAPIDocument.jsonWithRequests)
        let a = committed.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n", omittingEmptySubsequences: false)
        let b = served.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n", omittingEmptySubsequences: false)
        if let line = zip(a, b).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset
            ?? (a.count == b.count ? nil : min(a.count, b.count))
        {
            Issue.record(
                """
                docs/openapi.json differs from the served document at line \(line + 1): \
                committed \(a.indices.contains(line) ? String(a[line]) : "(end)"), served \(b.indices.contains(line) ? String(b[line]) : "(end)") \
                — run `swift run tandem openapi > docs/openapi.json`
                """)
        }
    }
}

@Suite("The OpenAPI document's links", .serialized, .timeLimit(.minutes(2)))
struct APIOpenAPILinksTests {
    /// Every link names an operation of the document and one of its path parameters; the list and create answers of
    /// the entities the fuzzing needs link to the operations that take their names and ids.
    @Test func linksLeadToOperationsAndTheirParameters() async throws {
        let accept: IntegrationRequester = { _, _, _, _, _ in 1 }
        try await withAPI(requester: accept) { api in
            let document = try await api.call(.get, "/api/openapi.json", as: .none).json
            var parameters: [String: Set<String>] = [:]
            var operations: [String: JSONNode] = [:]
            for path in document["paths"]?.members ?? [] {
                for operation in path.value.members ?? [] {
                    guard let id = operation.value["operationId"]?.stringValue else { continue }
                    operations[id] = operation.value
                    parameters[id] = Set(
                        (operation.value["parameters"]?.arrayValue ?? []).filter { $0["in"]?.stringValue == "path" }.compactMap {
                            $0["name"]?.stringValue
                        })
                }
            }
            var linked: Set<String> = []
            for (id, operation) in operations {
                for answer in operation["responses"]?.members ?? [] {
                    for link in answer.value["links"]?.members ?? [] {
                        let target = try #require(link.value["operationId"]?.stringValue)
                        #expect(operations[target] != nil, "\(id) links to \(target), which is not in the document")
                        for parameter in link.value["parameters"]?.members ?? [] {
                            #expect(parameters[target]?.contains(parameter.key) == true, "\(id) → \(target): no path parameter \(parameter.key)")
                            #expect(parameter.value.stringValue?.hasPrefix("$response.body#/") == true)
                        }
                        linked.insert(target)
                    }
                }
            }
            for target in [
                "getCollection", "replaceCollection", "deleteCollection", "getIntegration", "runIntegration", "processAll", "getPair",
                "deletePair", "getBackgroundJob", "getActivity", "retryActivity", "clearActivity", "clearAndIgnoreActivity", "pauseQueue",
                "resumeQueue", "getIssueTrackerConnection",
            ] {
                #expect(linked.contains(target), "no link leads to \(target)")
            }
        }
    }
}
