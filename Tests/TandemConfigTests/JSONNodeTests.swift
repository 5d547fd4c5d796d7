import TandemConfig
import TandemCore
import Testing

@Suite("JSON text")
struct JSONNodeTests {
    @Test func indentedTextReadsBackAsTheSameValueWithMembersInOrder() throws {
        let long = (1...30).map { JSONNode.string("value-\($0)") }
        let node: JSONNode = .object([
            "name": .string("a \"quoted\"\nname"), "auth": .object(["kind": .string("api-key"), "key": .object(["set": .bool(true)])]),
            "projects": .array([.string("one"), .string("two")]), "many": .array(long), "empty": .object([]), "none": .array([]),
            "nested": .array([.object(["from": .string("left"), "targets": .object(["p": .array([.int(1), .number(2.5), .null])])])]),
        ])
        let text = node.indentedText
        #expect(try JSONNode.parse(text) == node)
        #expect(
            text.hasPrefix(
                """
                {
                  "name": "a \\"quoted\\"\\nname",
                  "auth": {
                    "kind": "api-key",
                    "key": {"set": true}
                  },
                  "projects": ["one", "two"],
                  "many": [
                    "value-1",
                """), "\(text)")
        #expect(text.contains("\"empty\": {},\n  \"none\": [],\n"))
        // Objects holding a list or an object are never on one line; lists of scalars that fit are.
        #expect(text.hasSuffix("\"targets\": {\n        \"p\": [1, 2.5, null]\n      }\n    }\n  ]\n}"), "\(text)")
        #expect(JSONNode.string("x").indentedText == "\"x\"")
    }
}
