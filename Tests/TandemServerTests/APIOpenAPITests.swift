import Foundation
import Hummingbird
import TandemConfig
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
