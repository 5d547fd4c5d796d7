import Foundation
import HTTPTypes
import TandemConfig
import TandemCore
import TandemServer
import Testing

/// No text Tandem stores can hold a NUL character (PostgreSQL's text cannot). The document and the server agree on it,
/// so that schemathesis's positive_data_acceptance can check the operations that take text: every string the document
/// describes excludes NUL, and the server refuses it wherever it arrives — body, query or path — with a 422 naming
/// where (it used to answer whatever the database driver said, or accept it where nothing was stored).
@Suite("NUL in text", .serialized, .timeLimit(.minutes(2)))
struct APINULTextTests {
    /// Every string schema of the document (outside enumerations and formats), with where it is.
    static func strings(_ node: JSONNode, at path: String = "", into found: inout [(String, JSONNode)]) {
        switch node {
        case .object(let members):
            if node["type"] == .string("string") || node["type"]?.arrayValue?.contains(.string("string")) == true,
                node["enum"] == nil, node["const"] == nil, node["format"] == nil
            {
                found.append((path, node))
            }
            if let names = node["propertyNames"] { found.append((path + "/propertyNames", names)) }
            for member in members where member.key != "propertyNames" { Self.strings(member.value, at: path + "/" + member.key, into: &found) }
        case .array(let items):
            for (index, item) in items.enumerated() { Self.strings(item, at: "\(path)/\(index)", into: &found) }
        default: break
        }
    }

    @Test func everyStringOfTheDocumentExcludesNUL() throws {
        let document = try JSONNode.parse(OpenAPIDocument.jsonWithRequests)
        var found: [(String, JSONNode)] = []
        Self.strings(document, into: &found)
        #expect(found.count > 100)
        for (path, schema) in found {
            guard let pattern = schema["pattern"]?.stringValue else {
                Issue.record("\(path): no pattern, so NUL is allowed")
                continue
            }
            let regex = try NSRegularExpression(pattern: pattern)
            for text in ["with\u{0}nul", "\u{0}", "abc\u{0}"] {
                let range = NSRange(text.startIndex..., in: text)
                #expect(regex.firstMatch(in: text, range: range) == nil, "\(path): '\(pattern)' matches text with NUL")
            }
        }
    }

    @Test func theServerRefusesNULWhereverItArrives() async throws {
        try await withAPI { api in
            let before = try await api.snapshot()
            let cases: [(HTTPRequest.Method, String, String?, String)] = [
                (.post, "/api/v1/models", #"{"name":"m","fields":[{"name":"ti\u0000tle","type":"string"}]}"#, "fields[0].name"),
                (.post, "/api/v1/tokens", #"{"name":"a\u0000b"}"#, "name"),
                (.post, "/api/v1/repositories", #"{"name":"r","type":"memory","url":"http://m.invalid","options":{"k\u0000":"v"}}"#, "options"),
                (.post, "/api/v1/session", #"{"username":"admin","password":"x\u0000y"}"#, "password"),
                (.get, "/api/v1/audit?actor=a%00b", nil, "actor"),
                (.get, "/api/v1/models/a%00b", nil, "name"),
            ]
            for (method, uri, body, field) in cases {
                let answer = try await api.call(method, uri, as: uri.hasSuffix("session") ? .none : .admin, body: body)
                #expect(answer.status == 422 && answer.field == field, "\(method) \(uri): \(answer.status) \(answer.text)")
                #expect(answer.message.contains("NUL"), "\(uri): \(answer.text)")
            }
            #expect(try await api.snapshot() == before)
        }
    }
}
