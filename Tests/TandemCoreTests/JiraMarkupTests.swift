import Foundation
import PropertyBased
import TandemCore
import Testing

/// ADF (Jira Cloud) and Jira wiki markup (Jira Data Center) conversions.
@Suite("Jira markups")
struct JiraMarkupTests {
    static let seeds = Gen.int(in: 0...Int.max)

    /// Pieces of plain text that look like ADF, wiki or Markdown syntax, or need escaping in JSON.
    static let pieces: [String] = [
        "a", "b", "word", " ", "  ", "\n", "\n\n", "\t", "*", "_", "-", "+", "^", "~", "?", "??", "!", "{", "}", "{{", "}}", "[", "]",
        "|", "||", "\\", "\\\\", "&", "amp;", "#92;", "#", "h1.", "bq.", "----", "{code}", "{quote}", "[~x]", "(x)", ":)", "é", "😀",
        "\"", "'", "<", ">", "<b>", "://", "mailto:", "1.", ".", "`", "{*}", "{color:red}",
    ]
    static let plainTexts = Gen.element(of: Self.pieces).map { $0 ?? "" }.array(of: 0...25).map { $0.joined() }

    static func adf(_ text: String) -> String { Markup.convert(text, from: .plain, to: .adf) }

    /// The ADF as Foundation reads it, which also proves it is JSON.
    static func json(_ adf: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(adf.utf8)) as? [String: Any])
    }

    // MARK: Plain text

    /// Plain → ADF → plain gives back any text: `& < > " '`, tabs, runs of spaces, blank lines, Unicode and wiki or
    /// Markdown syntax characters.
    @Test func plainTextSurvivesADF() async {
        await propertyCheck(count: 400, input: Self.plainTexts) { text in
            let adf = Self.adf(text)
            #expect(Markup.convert(adf, from: .adf, to: .plain) == text)
            let doc = try? Self.json(adf)
            #expect(doc?["type"] as? String == "doc")
            #expect(doc?["version"] as? Int == 1)
        }
    }

    /// Plain → wiki → plain gives back any text, syntax characters included.
    @Test func plainTextSurvivesJiraWiki() async {
        await propertyCheck(count: 600, input: Self.plainTexts) { text in
            let wiki = Markup.convert(text, from: .plain, to: .jiraWiki)
            #expect(Markup.convert(wiki, from: .jiraWiki, to: .plain) == text, "wiki: \(wiki)")
            // The wiki text reads as the same ADF as the plain text.
            #expect(Markup.convert(wiki, from: .jiraWiki, to: .adf) == Self.adf(text))
        }
    }

    /// Text without wiki syntax goes into wiki unchanged; a syntax character is escaped only where it would be syntax.
    @Test(arguments: [
        ("Tom & Jerry say 2 < 3 > 1 \"quoted\" it's", "Tom & Jerry say 2 < 3 > 1 \"quoted\" it's"),
        ("well-known snake_case a+b x^2 ~home a*b", "well-known snake_case a+b x^2 ~home a*b"),
        ("a *bold* claim", "a \\*bold* claim"),
        ("* item\n# item\n- item\nh1. Title\nbq. quote\n----\n|cell|", "\\* item\n\\# item\n\\- item\nh1\\. Title\nbq\\. quote\n\\----\n\\|cell|"),
        ("{code} and [link] and !image!", "\\{code} and \\[link] and \\!image!"),
        ("a\\*b and c:\\ d", "a&#92;*b and c:\\ d"),
        ("&amp; stays", "\\&amp; stays"),
        ("one\n\n\ntwo\n", "one\n\n\ntwo\n"),
    ])
    func plainToWiki(_ plain: String, _ wiki: String) {
        #expect(Markup.convert(plain, from: .plain, to: .jiraWiki) == wiki)
        #expect(Markup.convert(wiki, from: .jiraWiki, to: .plain) == plain)
    }

    /// CR LF and lone CR are line ends: ADF and Jira's wiki know only line breaks, so they come back as LF.
    @Test func lineEndsAreNormalized() {
        for markup in [TextMarkup.adf, .jiraWiki] {
            let converted = Markup.convert("a\r\nb\rc\r\n\r\nd", from: .plain, to: markup)
            #expect(Markup.convert(converted, from: markup, to: .plain) == "a\nb\nc\n\nd")
        }
        #expect(Markup.convert("h1. T\r\n\r\n* a\r\n* b", from: .jiraWiki, to: .markdown) == "# T\n\n- a\n- b")
    }

    @Test func emptyText() throws {
        #expect(Self.adf("") == #"{"type":"doc","version":1,"content":[]}"#)
        #expect(Markup.convert("", from: .plain, to: .jiraWiki) == "")
        #expect(Markup.convert(#"{"type":"doc","version":1,"content":[]}"#, from: .adf, to: .markdown) == "")
        #expect(Markup.convert("", from: .jiraWiki, to: .adf) == #"{"type":"doc","version":1,"content":[]}"#)
        // Blank lines only: empty paragraphs, which Jira accepts.
        let blank = try Self.json(Self.adf("\n\n"))
        #expect((blank["content"] as? [[String: Any]])?.map { $0["type"] as? String } == ["paragraph", "paragraph"])
    }

    /// One document always serializes to the same bytes, keys in a fixed order.
    @Test func adfIsDeterministic() {
        let adf = Self.adf("a\nb\n\nc")
        #expect(
            adf
                == #"{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"a"},{"type":"hardBreak"},{"type":"text","text":"b"}]},{"type":"paragraph","content":[{"type":"text","text":"c"}]}]}"#
        )
        #expect(Markup.convert(Markup.convert(adf, from: .adf, to: .jiraWiki), from: .jiraWiki, to: .adf) == adf)
        #expect(Self.adf("tab\t\"q\" \\ \u{1}") == #"{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"tab\t\"q\" \\ \u0001"}]}]}"#)
    }

    // MARK: Invalid and hostile input

    /// Text that is not an ADF document is plain text, carried as such.
    @Test(arguments: ["", "not json", "{\"type\":\"paragraph\"}", "[1,2]", "{\"type\":\"doc\",", "\"doc\"", "{\"a\":\"\\x\"}", "  "])
    func invalidADFIsPlainText(_ text: String) throws {
        #expect(Markup.convert(text, from: .adf, to: .plain) == text)
        let adf = Markup.convert(text, from: .adf, to: .jiraWiki)
        #expect(Markup.convert(adf, from: .jiraWiki, to: .plain) == text)
    }

    /// Deep nesting, however deep, converts in bounded time and stack: nodes past the depth limit keep their text.
    @Test func deepNestingIsBounded() throws {
        let depth = 5_000
        let quotes = String(repeating: #"{"type":"blockquote","content":["#, count: depth) + #"{"type":"paragraph","content":[{"type":"text","text":"deep"}]}"#
            + String(repeating: "]}", count: depth)
        let doc = #"{"type":"doc","version":1,"content":["# + quotes + "]}"
        // Past JSON's depth limit the text is not ADF: it stays as it is.
        #expect(Markup.convert(doc, from: .adf, to: .plain) == doc)
        let shallow = #"{"type":"doc","version":1,"content":["# + String(repeating: #"{"type":"blockquote","content":["#, count: 150)
            + #"{"type":"paragraph","content":[{"type":"text","text":"deep"}]}"# + String(repeating: "]}", count: 150) + "]}"
        #expect(Markup.convert(shallow, from: .adf, to: .plain).hasSuffix("deep"))
        #expect(Markup.convert(shallow, from: .adf, to: .jiraWiki).hasSuffix("deep\n{quote}"))
        #expect(Markup.convert(String(repeating: "[", count: 100_000), from: .adf, to: .plain).count == 100_000)
        let html = String(repeating: "<blockquote><ul><li>", count: 2_000) + "x"
        #expect(Markup.convert(html, from: .html, to: .adf).contains(#""text":"x""#))
        let wiki = String(repeating: "*", count: 500) + " item"
        #expect(Markup.convert(wiki, from: .jiraWiki, to: .plain).hasSuffix("- item"))
    }

    /// About a megabyte of each kind of input converts (linear algorithms; the time is not asserted, CI's machines vary).
    @Test func largeInputsConvert() {
        let plain = String(repeating: "Tom *said* [x] {y} & 2 < 3 -a- _b_ ??c?? !d! \\e\n", count: 20_000)
        let wiki = Markup.convert(plain, from: .plain, to: .jiraWiki)
        #expect(Markup.convert(wiki, from: .jiraWiki, to: .plain) == plain)
        let adf = Markup.convert(plain, from: .plain, to: .adf)
        #expect(Markup.convert(adf, from: .adf, to: .plain) == plain)
        let rich = String(repeating: "*bold* _it_ [l|https://x.io] {{code}} -s- ", count: 25_000)
        #expect(Markup.convert(rich, from: .jiraWiki, to: .adf).contains(#""type":"strong""#))
        let openers = String(repeating: "*a [b !c {{d ??e ", count: 60_000)
        #expect(Markup.convert(openers, from: .jiraWiki, to: .plain) == openers)
        let markdown = String(repeating: "- **item** `x`\n", count: 60_000)
        #expect(Markup.convert(markdown, from: .markdown, to: .adf).hasPrefix(#"{"type":"doc","version":1,"content":[{"type":"bulletList""#))
    }

    // MARK: Recorded documents

    static let fixtures = ["comment-10755", "comment-10521", "issue-10627-description", "worklog-100028-comment"]
    static let fixtureDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/jira-adf")

    /// Every text node of an ADF document, in order, read with Foundation.
    static func texts(_ node: Any) -> [String] {
        guard let object = node as? [String: Any] else { return (node as? [Any])?.flatMap(Self.texts) ?? [] }
        return (object["text"] as? String).map { [$0] } ?? Self.texts(object["content"] ?? [])
    }

    /// Real Jira Cloud bodies (recorded by Airbyte's Jira connector) convert to Markdown with their words and back to
    /// ADF with the same text.
    @Test(arguments: fixtures)
    func recordedADF(_ name: String) throws {
        let adf = try String(contentsOf: Self.fixtureDirectory.appendingPathComponent(name + ".json"), encoding: .utf8)
        let texts = Self.texts(try Self.json(adf))
        #expect(!texts.isEmpty)
        let markdown = Markup.convert(adf, from: .adf, to: .markdown)
        for word in texts.joined(separator: " ").split(separator: " ") { #expect(markdown.contains(word)) }
        let back = Markup.convert(markdown, from: .markdown, to: .adf)
        #expect(Self.texts(try Self.json(back)) == texts)
        #expect(Markup.convert(back, from: .adf, to: .plain) == Markup.convert(adf, from: .adf, to: .plain))
        let wiki = Markup.convert(adf, from: .adf, to: .jiraWiki)
        #expect(Self.texts(try Self.json(Markup.convert(wiki, from: .jiraWiki, to: .adf))) == texts)
    }
}

/// Random ADF documents in the form `Markup` writes (fixed key order, adjacent runs with different marks), built from
/// everything wiki markup can hold: ADF → wiki → ADF gives them back byte for byte.
enum ADFDocuments {
    static let pieces = [
        "a", "b", "word", " ", "  ", "*", "_", "-", "+", "^", "~", "?", "??", "!", "{", "}", "{{", "[", "]", "|", "\\", "&", "amp;", "#",
        "é", "😀", "<", "\"", "h1.", "----", "{*}",
    ]

    static func string(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }

    static func text(_ rng: inout SplitMix) -> String {
        (0..<Int.random(in: 1...5, using: &rng)).map { _ in Self.pieces.randomElement(using: &rng)! }.joined()
    }

    static func marks(_ rng: inout SplitMix) -> [String] {
        var marks: [String] = []
        let link = Bool.random(using: &rng) && Bool.random(using: &rng)
        if Int.random(in: 0..<8, using: &rng) == 0 {
            marks.append(#"{"type":"code"}"#)
        } else {
            for name in ["strong", "em", "strike", "underline"] where Int.random(in: 0..<4, using: &rng) == 0 { marks.append(#"{"type":"\#(name)"}"#) }
            switch Int.random(in: 0..<8, using: &rng) {
            case 0: marks.append(#"{"type":"subsup","attrs":{"type":"sup"}}"#)
            case 1: marks.append(#"{"type":"subsup","attrs":{"type":"sub"}}"#)
            default: break
            }
        }
        if link { marks.append(#"{"type":"link","attrs":{"href":\#(Self.string(["https://x.test/p?q=1&r=[2]|3", "mailto:a@b.c", "rel"].randomElement(using: &rng)!))}}"#) }
        return marks
    }

    /// Inline nodes; a leading break where `leadingBreak`, never a trailing one.
    static func inlines(_ rng: inout SplitMix, leadingBreak: Bool = true, plainStart: Bool = false) -> [String] {
        var out: [String] = []
        var lastMarks: [String]?
        for n in 0..<Int.random(in: 1...5, using: &rng) {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0 where n > 0 || leadingBreak:
                out.append(#"{"type":"hardBreak"}"#)
                lastMarks = nil
            case 1:
                let id = ["5b10a2844c20165700ede21g", "557058:f58131cb"].randomElement(using: &rng)!
                out.append(#"{"type":"mention","attrs":{"id":\#(Self.string(id)),"text":\#(Self.string("@" + id))}}"#)
                lastMarks = nil
            default:
                var text = self.text(&rng)
                if n == 0, plainStart { text = "w" + text }
                let marks = self.marks(&rng)
                if marks == lastMarks { continue }
                lastMarks = marks
                out.append(#"{"type":"text","text":\#(Self.string(text))"# + (marks.isEmpty ? "" : #","marks":["# + marks.joined(separator: ",") + "]") + "}")
            }
        }
        if out.last == #"{"type":"hardBreak"}"# { out.removeLast() }
        return out
    }

    static func paragraph(_ inlines: [String]) -> String { #"{"type":"paragraph","content":["# + inlines.joined(separator: ",") + "]}" }

    static func list(_ rng: inout SplitMix, depth: Int) -> String {
        let ordered = Bool.random(using: &rng)
        let items = (0..<Int.random(in: 1...3, using: &rng)).map { _ in
            var blocks = [Self.paragraph(Self.inlines(&rng, plainStart: true))]
            if depth < 3, Int.random(in: 0..<3, using: &rng) == 0 { blocks.append(Self.list(&rng, depth: depth + 1)) }
            return #"{"type":"listItem","content":["# + blocks.joined(separator: ",") + "]}"
        }
        return #"{"type":"\#(ordered ? "orderedList" : "bulletList")","content":["# + items.joined(separator: ",") + "]}"
    }

    static func code(_ rng: inout SplitMix) -> String {
        let language = ["swift", "c++", nil].randomElement(using: &rng)!
        let text = (0..<Int.random(in: 0...3, using: &rng)).map { _ in Self.text(&rng) }.joined(separator: "\n")
        return #"{"type":"codeBlock","# + (language.map { #""attrs":{"language":"\#($0)"},"# } ?? "")
            + (text.isEmpty ? #""content":[]}"# : #""content":[{"type":"text","text":\#(Self.string(text))}]}"#)
    }

    static func block(_ rng: inout SplitMix) -> String {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: return #"{"type":"heading","attrs":{"level":\#(Int.random(in: 1...6, using: &rng))},"content":["# + Self.inlines(&rng).joined(separator: ",") + "]}"
        case 1: return Self.list(&rng, depth: 0)
        case 2: return Self.code(&rng)
        case 3:
            let inner = (0..<Int.random(in: 1...3, using: &rng)).map { _ in
                Int.random(in: 0..<4, using: &rng) == 0 ? Self.code(&rng) : Self.paragraph(Self.inlines(&rng))
            }
            return #"{"type":"blockquote","content":["# + inner.joined(separator: ",") + "]}"
        case 4: return #"{"type":"rule"}"#
        case 5:
            let columns = Int.random(in: 1...3, using: &rng)
            let rows = (0..<Int.random(in: 1...3, using: &rng)).map { _ in
                let cells = (0..<columns).map { _ in
                    let type = Bool.random(using: &rng) ? "tableHeader" : "tableCell"
                    let marks = Bool.random(using: &rng) ? "" : #","marks":[{"type":"strong"}]"#
                    let word = ["x", "a-b", "c|d", "[e]", "é😀"].randomElement(using: &rng)!
                    return #"{"type":"\#(type)","content":[{"type":"paragraph","content":[{"type":"text","text":\#(Self.string(word))\#(marks)}]}]}"#
                }
                return #"{"type":"tableRow","content":["# + cells.joined(separator: ",") + "]}"
            }
            return #"{"type":"table","content":["# + rows.joined(separator: ",") + "]}"
        case 6: return Self.paragraph([])
        default: return Self.paragraph(Self.inlines(&rng))
        }
    }

    static func document(_ rng: inout SplitMix) -> String {
        var blocks = (0..<Int.random(in: 0...4, using: &rng)).map { _ in Self.block(&rng) }
        // A lone empty paragraph is an empty document.
        if blocks == [Self.paragraph([])] { blocks = [] }
        return #"{"type":"doc","version":1,"content":["# + blocks.joined(separator: ",") + "]}"
    }
}

extension JiraMarkupTests {
    /// ADF → wiki → ADF is the identity for everything wiki markup can hold.
    @Test func adfSurvivesJiraWiki() async {
        await propertyCheck(count: 400, input: Self.seeds) { seed in
            var rng = SplitMix(seed)
            let adf = ADFDocuments.document(&rng)
            let wiki = Markup.convert(adf, from: .adf, to: .jiraWiki)
            #expect(Markup.convert(wiki, from: .jiraWiki, to: .adf) == adf, "seed \(seed)\nwiki:\n\(wiki)")
        }
    }
}
