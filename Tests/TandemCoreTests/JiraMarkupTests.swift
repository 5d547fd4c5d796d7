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
        #expect(
            Self.adf("tab\t\"q\" \\ \u{1}")
                == #"{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"tab\t\"q\" \\ \u0001"}]}]}"#)
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
        let quotes =
            String(repeating: #"{"type":"blockquote","content":["#, count: depth) + #"{"type":"paragraph","content":[{"type":"text","text":"deep"}]}"#
            + String(repeating: "]}", count: depth)
        let doc = #"{"type":"doc","version":1,"content":["# + quotes + "]}"
        // Past JSON's depth limit the text is not ADF: it stays as it is.
        #expect(Markup.convert(doc, from: .adf, to: .plain) == doc)
        let shallow =
            #"{"type":"doc","version":1,"content":["# + String(repeating: #"{"type":"blockquote","content":["#, count: 150)
            + #"{"type":"paragraph","content":[{"type":"text","text":"deep"}]}"# + String(repeating: "]}", count: 150) + "]}"
        #expect(Markup.convert(shallow, from: .adf, to: .plain).hasSuffix("deep"))
        // Wiki quotes do not nest: the quotes open into one.
        #expect(Markup.convert(shallow, from: .adf, to: .jiraWiki) == "bq. deep")
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
            for name in ["strong", "em", "strike", "underline"] where Int.random(in: 0..<4, using: &rng) == 0 {
                marks.append(#"{"type":"\#(name)"}"#)
            }
            switch Int.random(in: 0..<8, using: &rng) {
            case 0: marks.append(#"{"type":"subsup","attrs":{"type":"sup"}}"#)
            case 1: marks.append(#"{"type":"subsup","attrs":{"type":"sub"}}"#)
            default: break
            }
        }
        if link {
            marks.append(
                #"{"type":"link","attrs":{"href":\#(Self.string(["https://x.test/p?q=1&r=[2]|3", "mailto:a@b.c", "rel"].randomElement(using: &rng)!))}}"#
            )
        }
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
                out.append(
                    #"{"type":"text","text":\#(Self.string(text))"# + (marks.isEmpty ? "" : #","marks":["# + marks.joined(separator: ",") + "]") + "}"
                )
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
        case 0:
            return #"{"type":"heading","attrs":{"level":\#(Int.random(in: 1...6, using: &rng))},"content":["#
                + Self.inlines(&rng).joined(separator: ",") + "]}"
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

/// Random Markdown in the subset `Markup` reads: paragraphs with line breaks, emphasis, inline code and links,
/// headings, bullet lists and fenced code blocks.
enum MarkdownDocuments {
    static let words = ["login", "fails", "on", "Safari", "crash", "42", "retry", "UI", "é", "😀", "x=1"]

    static func inline(_ rng: inout SplitMix) -> String {
        let w = Self.words.randomElement(using: &rng)!
        switch Int.random(in: 0..<8, using: &rng) {
        case 0: return "**\(w) \(Self.words.randomElement(using: &rng)!)**"
        case 1: return "*\(w)*"
        case 2: return "`\(w) \(Self.words.randomElement(using: &rng)!)`"
        case 3: return "[\(w)](https://x.test/\(Int.random(in: 0..<9, using: &rng)))"
        default: return w
        }
    }

    static func line(_ rng: inout SplitMix) -> String {
        "w " + (0..<Int.random(in: 1...4, using: &rng)).map { _ in Self.inline(&rng) }.joined(separator: " ")
    }

    static func block(_ rng: inout SplitMix) -> String {
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: return String(repeating: "#", count: Int.random(in: 1...3, using: &rng)) + " " + Self.line(&rng)
        case 1: return (0..<Int.random(in: 1...3, using: &rng)).map { _ in "- " + Self.line(&rng) }.joined(separator: "\n")
        case 2:
            let language = ["", "swift", "js"].randomElement(using: &rng)!
            let lines = (0..<Int.random(in: 1...3, using: &rng)).map { _ in Self.words.shuffled(using: &rng).prefix(3).joined(separator: " ") }
            return "```\(language)\n" + lines.joined(separator: "\n") + "\n```"
        default: return (0..<Int.random(in: 1...3, using: &rng)).map { _ in Self.line(&rng) }.joined(separator: "\n")
        }
    }

    static func document(_ rng: inout SplitMix) -> String {
        (0..<Int.random(in: 1...4, using: &rng)).map { _ in Self.block(&rng) }.joined(separator: "\n\n")
    }
}

extension JiraMarkupTests {
    /// Markdown → ADF → Markdown and Markdown → wiki → Markdown keep paragraphs, line breaks, emphasis, lists, links,
    /// inline code and code blocks: the Markdown that comes back reads as the same HTML.
    @Test func markdownSurvivesADFAndJiraWiki() async {
        await propertyCheck(count: 300, input: Self.seeds) { seed in
            var rng = SplitMix(seed)
            let markdown = MarkdownDocuments.document(&rng)
            let html = Markup.convert(markdown, from: .markdown, to: .html)
            for markup in [TextMarkup.adf, .jiraWiki] {
                let back = Markup.convert(Markup.convert(markdown, from: .markdown, to: markup), from: markup, to: .markdown)
                #expect(Markup.convert(back, from: .markdown, to: .html) == html, "seed \(seed) via \(markup)\n\(markdown)\n---\n\(back)")
            }
        }
    }
}

extension JiraMarkupTests {
    // MARK: Examples

    /// A Jira Cloud document with every node and mark the converters know, and two they do not.
    static let richADF = """
        {"type":"doc","version":1,"content":[
         {"type":"heading","attrs":{"level":2},"content":[{"type":"text","text":"Steps"}]},
         {"type":"paragraph","content":[{"type":"text","text":"Bold","marks":[{"type":"strong"}]},{"type":"text","text":" and "},
          {"type":"text","text":"docs","marks":[{"type":"link","attrs":{"href":"https://e.com"}}]},{"type":"hardBreak"},
          {"type":"text","text":"x()","marks":[{"type":"code"}]},{"type":"text","text":" by "},{"type":"mention","attrs":{"id":"abc","text":"@Ada"}},
          {"type":"text","text":" "},{"type":"emoji","attrs":{"shortName":":smile:","text":"😄"}}]},
         {"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"one"}]}]},
          {"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"two"}]},
           {"type":"orderedList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"deep"}]}]}]}]}]},
         {"type":"codeBlock","attrs":{"language":"swift"},"content":[{"type":"text","text":"let a = 1\\nprint(a)"}]},
         {"type":"blockquote","content":[{"type":"paragraph","content":[{"type":"text","text":"quoted"}]}]},
         {"type":"rule"},
         {"type":"panel","attrs":{"panelType":"info"},"content":[{"type":"paragraph","content":[{"type":"text","text":"in a panel"}]}]},
         {"type":"someFutureNode","content":[{"type":"text","text":"kept"}]},
         {"type":"table","content":[{"type":"tableRow","content":[{"type":"tableHeader","content":[{"type":"paragraph","content":[{"type":"text","text":"H"}]}]},
          {"type":"tableCell","content":[{"type":"paragraph","content":[{"type":"text","text":"C"}]}]}]}]}
        ]}
        """

    @Test func richADFToJiraWiki() {
        #expect(
            Markup.convert(Self.richADF, from: .adf, to: .jiraWiki) == """
                h2. Steps

                *Bold* and [docs|https://e.com]
                {{x()}} by [~accountid:abc] 😄

                * one
                * two
                *# deep

                {code:swift}
                let a = 1
                print(a)
                {code}

                bq. quoted

                ----

                in a panel

                kept

                ||H|C|
                """)
    }

    @Test func richADFToHTMLAndPlain() {
        #expect(
            Markup.convert(Self.richADF, from: .adf, to: .html)
                == "<h2>Steps</h2><p><strong>Bold</strong> and <a href=\"https://e.com\">docs</a><br><code>x()</code> by "
                + "<span data-mention-id=\"abc\">@Ada</span> 😄</p><ul><li>one</li><li>two<ol><li>deep</li></ol></li></ul>"
                + "<pre><code class=\"language-swift\">let a = 1\nprint(a)</code></pre><blockquote><p>quoted</p></blockquote><hr>"
                + "<p>in a panel</p><p>kept</p><table><tr><th>H</th><td>C</td></tr></table>")
        #expect(
            Markup.convert(Self.richADF, from: .adf, to: .plain)
                == "Steps\n\nBold and docs (https://e.com)\nx() by @Ada 😄\n\n- one\n- two\n  1. deep\n\nlet a = 1\nprint(a)\n\n> quoted\n\n---\n\n"
                + "in a panel\n\nkept\n\nH | C")
        #expect(
            Markup.convert(Self.richADF, from: .adf, to: .markdown)
                == "## Steps\n\n**Bold** and [docs](https://e.com)\n`x()` by @Ada 😄\n\n- one\n- two\n  1. deep\n\n```swift\nlet a = 1\nprint(a)\n```\n\n"
                + "> quoted\n\n---\n\nin a panel\n\nkept\n\n| H | C |\n| --- | --- |")
    }

    /// Markdown written from a document: marks nest and close before line ends, list items hold their blocks indented,
    /// quotes prefix every line.
    @Test(arguments: [
        ("-gone- *_both_* +under+ ^up^", "~~gone~~ ***both*** under up"),
        ("*a\\\\b* [x *y*|https://e.com/a b)]", "**a**\n**b** [x **y**](https://e.com/a%20b%29)"),
        (
            "# one\n#* two\n\n{quote}\nq\n\n* i\n{quote}\n\n||h|c|\n|a|b\\|",
            "1. one\n   - two\n\n> q\n>\n> - i\n\n| h | c |\n| --- | --- |\n| a | b\\| |"
        ),
        ("{noformat}\nx\n{noformat}", "```\nx\n```"),
    ])
    func jiraWikiToMarkdown(_ wiki: String, _ markdown: String) {
        #expect(Markup.convert(wiki, from: .jiraWiki, to: .markdown) == markdown)
    }

    /// Nodes the converters do not model keep their text: status, date, task lists, expands, cards.
    @Test func otherADFNodesKeepTheirText() {
        let adf = """
            {"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"status","attrs":{"text":"DONE","color":"green"}},
             {"type":"text","text":" "},{"type":"date","attrs":{"timestamp":"1700000000000"}},{"type":"text","text":" "},
             {"type":"inlineCard","attrs":{"url":"https://e.com/1"}},{"type":"placeholder","attrs":{"text":"fill"}}]},
             {"type":"taskList","attrs":{"localId":"t"},"content":[{"type":"taskItem","attrs":{"state":"DONE"},"content":[{"type":"text","text":"ship"}]},
              {"type":"taskItem","attrs":{"state":"TODO"},"content":[{"type":"text","text":"test"}]}]},
             {"type":"expand","attrs":{"title":"More"},"content":[{"type":"paragraph","content":[{"type":"text","text":"hidden"}]}]},
             {"type":"mediaSingle","content":[{"type":"media","attrs":{"type":"file","id":"1","alt":"shot.png"}}]},
             {"type":"blockCard","attrs":{"url":"https://e.com/2"}},{"type":"decisionList","content":[{"type":"decisionItem","content":[{"type":"text","text":"go"}]}]},
             {"type":"text","text":"loose"}]}
            """
        #expect(
            Markup.convert(adf, from: .adf, to: .plain)
                == "DONE 2023-11-14 https://e.com/1fill\n\n- [x] ship\n- [ ] test\n\nMore\n\nhidden\n\nshot.png\n\nhttps://e.com/2\n\n- go\n\nloose")
    }

    @Test(arguments: [
        (
            "*bold* _it_ -gone- +under+ ^sup^ ~sub~ ??cite?? {{mono}} a{*}b{*}c",
            "<strong>bold</strong> <em>it</em> <s>gone</s> <u>under</u> <sup>sup</sup> <sub>sub</sub> <em>cite</em> <code>mono</code> a<strong>b</strong>c"
        ),
        (
            "[Docs|https://e.com] [https://x.io] [~accountid:5b10] [~jdoe] [^file.txt] !img.png|thumbnail! [not a link] {color:red}red{color}",
            "<a href=\"https://e.com\">Docs</a> <a href=\"https://x.io\">https://x.io</a> <span data-mention-id=\"5b10\">@5b10</span> "
                + "<span data-mention-id=\"jdoe\">@jdoe</span> file.txt img.png [not a link] red"
        ),
        (
            "h3. Title\n# one\n## two\n#* three\n\nbq. quoted\n{code:java}\nint a;\n{code}\n{noformat}\nraw *x*\n{noformat}\n----\n||h||\n|c|",
            "<h3>Title</h3><ol><li>one<ol><li>two</li></ol><ul><li>three</li></ul></li></ol><blockquote><p>quoted</p></blockquote>"
                + "<pre><code class=\"language-java\">int a;</code></pre><pre><code>raw *x*</code></pre><hr><table><tr><th>h</th></tr><tr><td>c</td></tr></table>"
        ),
        ("line one\nline two\\\\three\n\n\nafter", "<p>line one<br>line two<br>three</p><p><br>after</p>"),
        ("\\*not bold\\* &amp; &#92; \\\\", "*not bold* &amp; \\ <br>"),
        ("{quote}\nq1\n\nq2\n{quote}", "<blockquote><p>q1</p><p>q2</p></blockquote>"),
        ("{panel:title=T}\ninside\n{panel}", "inside"),
        ("{code:title=A.kt|language=kotlin}val a = 1{code} after", "<pre><code class=\"language-kotlin\">val a = 1</code></pre><p> after</p>"),
        ("{code}\nunclosed", "<pre><code>unclosed</code></pre>"),
        ("- dash\n-- not a list\n*not a list*", "<ul><li>dash</li></ul><p>-- not a list<br><strong>not a list</strong></p>"),
    ])
    func jiraWikiToHTML(_ wiki: String, _ html: String) {
        #expect(Markup.convert(wiki, from: .jiraWiki, to: .html) == html)
    }

    @Test func htmlToADF() {
        let html =
            "<p>Hello <b>bold</b> <a href=\"https://e.com\">link</a></p><ul><li>a<ul><li>b</li></ul></li></ul>"
            + "<pre><code class=\"language-js\">x &lt; 1</code></pre><blockquote>q</blockquote><hr><h2>H</h2>"
        #expect(
            Markup.convert(html, from: .html, to: .adf)
                == #"{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"Hello "},{"type":"text","text":"bold","marks":[{"type":"strong"}]},{"type":"text","text":" "},{"type":"text","text":"link","marks":[{"type":"link","attrs":{"href":"https://e.com"}}]}]},"#
                + #"{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"a"}]},{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"b"}]}]}]}]}]},"#
                + #"{"type":"codeBlock","attrs":{"language":"js"},"content":[{"type":"text","text":"x < 1"}]},{"type":"blockquote","content":[{"type":"paragraph","content":[{"type":"text","text":"q"}]}]},"#
                + #"{"type":"rule"},{"type":"heading","attrs":{"level":2},"content":[{"type":"text","text":"H"}]}]}"#)
    }

    /// ADF allows no heading or rule inside a quote, no list item without a first paragraph, and the code mark only
    /// beside a link: such content is rewritten into what it allows.
    @Test func adfOutputIsValid() {
        let html = "<blockquote><h1>T</h1><hr></blockquote><ul><li><ul><li>x</li></ul></li></ul><p><strong><code>c</code></strong></p>"
        #expect(
            Markup.convert(html, from: .html, to: .adf)
                == #"{"type":"doc","version":1,"content":[{"type":"blockquote","content":[{"type":"paragraph","content":[{"type":"text","text":"T","marks":[{"type":"strong"}]}]}]},"#
                + #"{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[]},{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"x"}]}]}]}]}]},"#
                + #"{"type":"paragraph","content":[{"type":"text","text":"c","marks":[{"type":"code"}]}]}]}"#)
    }

    /// HTML tags become structure or are dropped: no raw HTML reaches ADF or wiki text.
    @Test func noRawHTMLInJiraMarkups() {
        let html = "<script>alert(1)</script><b>x</b><img src=\"a.png\" alt=\"shot\"><div onclick=\"y\">z</div>"
        for markup in [TextMarkup.adf, .jiraWiki] {
            let converted = Markup.convert(html, from: .html, to: markup)
            #expect(!converted.contains("<"), "\(markup): \(converted)")
            #expect(Markup.convert(converted, from: markup, to: .plain) == "alert(1)xshot\n\nz")
        }
        // Text that reads like HTML stays text.
        #expect(Markup.convert("<b>x</b>", from: .plain, to: .adf).contains(#""text":"<b>x</b>""#))
        #expect(Markup.convert("a <b>x</b> c", from: .markdown, to: .jiraWiki) == "a <b>x</b> c")
    }

    /// A mention keeps its account ID through wiki markup (its display text is the ID there).
    @Test func mentionsSurviveJiraWiki() {
        let adf =
            #"{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"mention","attrs":{"id":"557058:f5","text":"@557058:f5"}}]}]}"#
        let wiki = Markup.convert(adf, from: .adf, to: .jiraWiki)
        #expect(wiki == "[~accountid:557058:f5]")
        #expect(Markup.convert(wiki, from: .jiraWiki, to: .adf) == adf)
    }

    /// Text without a lone-paragraph form is converted through the same document whichever way it goes.
    @Test func markdownAndWikiMeet() {
        #expect(
            Markup.convert("# T\n\n- **a** `b`\n- [c](https://c.io)", from: .markdown, to: .jiraWiki) == "h1. T\n\n* *a* {{b}}\n* [c|https://c.io]")
        #expect(
            Markup.convert("h1. T\n\n* *a* {{b}}\n* [c|https://c.io]", from: .jiraWiki, to: .markdown) == "# T\n\n- **a** `b`\n- [c](https://c.io)")
        #expect(Markup.convert("*a* _b_", from: .jiraWiki, to: .textile) == "*a* _b_")
    }
}

extension JiraMarkupTests {
    /// JSON as Jira may send it: any attribute values, escapes (surrogate pairs included), white space between tokens.
    @Test func adfJSONForms() {
        let adf = #"""
             { "version" : 1 , "type" : "doc" , "content" : [ { "type" : "heading" , "attrs" : { "level" : 9 , "x" : true , "y" : false ,
             "z" : null , "n" : -1.5e2 } , "content" : [ { "type" : "text" , "text" : "\ud83d\ude00 \u00e9\/\b\f\t\"\\ \ud83d!" } ] },
             {"type":"orderedList","attrs":{"order":3},"content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"c","marks":[{"type":"strike"},{"type":"underline"},{"type":"textColor","attrs":{"color":"#ff0000"}},{"type":"subsup","attrs":{"type":"sub"}}]}]}]}]},
             {"type":"codeBlock","content":[]},{"type":"paragraph","content":[{"type":"date","attrs":{"timestamp":"-1"}},{"type":"date","attrs":{"timestamp":"soon"}},{"type":"mention","attrs":{"id":"z"}}]} ] }
            """#
        #expect(Markup.convert(adf, from: .adf, to: .plain) == "😀 é/\u{8}\u{C}\t\"\\ \u{FFFD}!\n\n3. c\n\n\n\n1969-12-31soon@z")
        #expect(
            Markup.convert(adf, from: .adf, to: .html)
                == "<h6>😀 é/\u{8}\u{C}\t&quot;\\ \u{FFFD}!</h6><ol start=\"3\"><li><s><u><sub>c</sub></u></s></li></ol><pre><code></code></pre>"
                + "<p>1969-12-31soon<span data-mention-id=\"z\">@z</span></p>")
        #expect(
            Markup.convert(Markup.convert(adf, from: .adf, to: .html), from: .html, to: .adf)
                == #"{"type":"doc","version":1,"content":[{"type":"heading","attrs":{"level":6},"content":[{"type":"text","text":"😀 é/\u0008\u000c \"\\ �!"}]},"#
                + #"{"type":"orderedList","attrs":{"order":3},"content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"c","marks":[{"type":"strike"},{"type":"underline"},{"type":"subsup","attrs":{"type":"sub"}}]}]}]}]},"#
                + #"{"type":"codeBlock","content":[]},{"type":"paragraph","content":[{"type":"text","text":"1969-12-31soon"},{"type":"mention","attrs":{"id":"z","text":"@z"}}]}]}"#
        )
        for broken in [
            #"{"type":"doc","content":[tru]}"#, #"{"type":"doc","content":[1 2]}"#, #"{"type":"doc" "x"}"#, #"{"type":"doc","content":["\u12"]}"#,
            "{\"a\":\"\u{1}\"}", "[-]", "{\"a\":1,}",
        ] {
            #expect(Markup.convert(broken, from: .adf, to: .plain) == broken)
        }
    }
}

extension JiraMarkupTests {
    /// HTML as editors and other trackers write it, into wiki markup: tables with or without rows, text right inside a
    /// list, list items without a list, comments, images, `pre` with a language class, entities.
    @Test(arguments: [
        ("<table><tr><th>H</th><td>C</td></tr><tr><td>a</td></tr></table>", "||H|C|\n|a|"),
        ("<table><td>x</td></table><tr><td>y</td></tr>", "|x|\n\ny"),
        ("a<!-- x > y -->b<!-- plain -->c", "abc"),
        ("<ul>loose<li>y</li></ul><li>orphan</li>", "* loose\n* y\n\n* orphan"),
        ("<img src=\"a.png\"> <pre class=\"lang-rb\">puts 1<br>puts 2</pre>", "a.png \n\n{code:rb}\nputs 1\nputs 2\n{code}"),
        ("&lt;&#x41;&unknown; <ol start=\"2\"><li>two</li></ol>", "<A\\&unknown; \n\n# two"),
        ("<blockquote><table><tr><td>t</td><td>u</td></tr></table></blockquote>", "{quote}\n|t|u|\n{quote}"),
    ])
    func htmlToJiraWiki(_ html: String, _ wiki: String) {
        #expect(Markup.convert(html, from: .html, to: .jiraWiki) == wiki)
    }

    @Test func adfEdgeCases() {
        // A table in a quote becomes its rows as text (ADF allows no table there); a lone surrogate escape is U+FFFD.
        #expect(
            Markup.convert("<blockquote><table><tr><td>t</td><td>u</td></tr></table></blockquote>", from: .html, to: .adf)
                == #"{"type":"doc","version":1,"content":[{"type":"blockquote","content":[{"type":"paragraph","content":[{"type":"text","text":"t | u"}]}]}]}"#
        )
        let adf = #"""
            {"type":"doc","version":1,"content":[{"type":"heading","attrs":{"level":"2"},"content":"none"},{"type":"heading","attrs":{"level":true}},
             {"type":"paragraph","content":[{"type":"text","text":"\ud83d\u0041 *a* 1. x\rCR"},{"type":"inlineExtension","content":[{"type":"text","text":"a"},{"type":"hardBreak"},{"type":"text","text":"b"}]},
             {"type":"mention","attrs":{"text":"@Someone"}},{"type":"text","text":" "},{"type":"inlineCard","attrs":{"url":"https://e.com/1"}}]}]}
            """#
        #expect(
            Markup.convert(adf, from: .adf, to: .html)
                == "<h2></h2><h1></h1><p>\u{FFFD}A *a* 1. x<br>CRa<br>b<span data-mention-id=\"\">@Someone</span> <a href=\"https://e.com/1\">https://e.com/1</a></p>"
        )
        #expect(Markup.convert(adf, from: .adf, to: .jiraWiki) == "h2. \n\nh1. \n\n\u{FFFD}A \\*a* 1. x\nCRa\nb@Someone [https://e.com/1]")
        #expect(
            Markup.convert(adf, from: .adf, to: .markdown) == "## \n\n# \n\n\u{FFFD}A \\*a\\* 1. x\nCRa\nb@Someone [https://e.com/1](https://e.com/1)"
        )
        #expect(Markup.convert("<pre><code class=\"language-go\">x</code></pre>", from: .html, to: .markdown) == "```go\nx\n```")
        #expect(Markup.convert("{code}x\ny{code}", from: .jiraWiki, to: .plain) == "x\ny")
    }
}
