/// Conversions between text markups: plain text, HTML, Markdown (CommonMark subset) and Textile (subset).
///
/// The subset covers what trackers put in descriptions and comments: paragraphs, line breaks, headings, bullet lists,
/// bold, italic, inline code, code blocks and links; other HTML tags are dropped and their text kept. Text in one markup
/// is never converted to the same markup. Plain → HTML → plain and plain → Markdown → plain are lossless; plain ↔
/// Markdown keep every character, line end and space that is not syntax (`MarkdownText`).
///
/// ADF (Jira Cloud) and Jira wiki markup (Jira Data Center) go through `RichDocument`, which also holds ordered and
/// nested lists, quotes, rules, tables, strike, underline, superscript, subscript and mentions. Plain → ADF → plain and
/// plain → wiki → plain give back any text (CR LF and CR read as LF); text that is not an ADF document is carried as
/// plain text; input of any size or nesting converts in near-linear time (O(n log n) at worst) and bounded stack.
public enum Markup {
    /// `text` (written in `markup`) with `plain` before its first word: a document markup (ADF, a JSON document) gets it
    /// inside its first paragraph, where two documents side by side would be no document at all; the others get it
    /// converted and in front.
    public static func prefixed(_ text: String, markup: TextMarkup, with plain: String) -> String {
        guard markup == .adf else { return self.convert(plain, from: .plain, to: markup) + text }
        var document = RichDocument(adf: text) ?? RichDocument(plain: text)
        if case .paragraph(let inlines)? = document.blocks.first {
            document.blocks[0] = .paragraph(RichDocument.normalized([.text(plain)] + inlines))
        } else {
            document.blocks.insert(.paragraph([.text(plain)]), at: 0)
        }
        return document.adf
    }

    /// Converts `text` written in `from` into `to`.
    public static func convert(_ text: String, from: TextMarkup, to: TextMarkup) -> String {
        if from == to { return text }
        switch (from, to) {
        case (.plain, .markdown): return MarkdownText.escape(text)
        case (.markdown, .plain): return MarkdownText.plain(text)
        case (.adf, _), (.jiraWiki, _), (_, .adf), (_, .jiraWiki): return self.write(self.document(text, from), to)
        default: break
        }
        let html = self.html(text, from)
        switch to {
        case .plain: return self.render(html, .plain)
        case .markdown: return self.render(html, .markdown)
        case .textile: return self.render(html, .textile)
        case .html, .adf, .jiraWiki: return html
        }
    }

    /// Text in a markup that goes through HTML, as HTML.
    static func html(_ text: String, _ from: TextMarkup) -> String {
        switch from {
        case .plain: self.plainToHTML(text)
        case .markdown: self.lightToHTML(text, .markdown)
        case .textile: self.lightToHTML(text, .textile)
        case .html: text
        case .adf, .jiraWiki: self.document(text, from).html
        }
    }

    /// Text read as a document. Text that is not an ADF document is plain text, carried as such.
    static func document(_ text: String, _ from: TextMarkup) -> RichDocument {
        switch from {
        case .adf: RichDocument(adf: text) ?? RichDocument(plain: text)
        case .jiraWiki: RichDocument(jiraWiki: text)
        case .plain: RichDocument(plain: text)
        case .html, .markdown, .textile: RichDocument(html: self.html(text, from))
        }
    }

    /// A document written in a markup.
    static func write(_ document: RichDocument, _ to: TextMarkup) -> String {
        switch to {
        case .adf: document.adf
        case .jiraWiki: document.jiraWiki
        case .plain: document.plain
        case .html: document.html
        case .markdown: document.markdown
        case .textile: self.render(document.html, .textile)
        }
    }

    /// Escapes text for HTML and turns newlines into `<br>`.
    static func plainToHTML(_ text: String) -> String { self.escapeHTML(text, breaks: true) }

    /// Escapes text for HTML; with `breaks`, newlines become `<br>`.
    static func escapeHTML(_ text: some StringProtocol, breaks: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\n" where breaks: out += "<br>"
            default: out.append(c)
            }
        }
        return out
    }

    static func appendEscaped(_ c: Unicode.Scalar, to out: inout String) {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.unicodeScalars.append(c)
        }
    }

    // MARK: Light markups → HTML

    /// Markdown or Textile → HTML, block by block.
    static func lightToHTML(_ text: String, _ dialect: Dialect) -> String {
        // Fast path: one line of text, the usual comment or title.
        if !text.utf8.contains(UInt8(ascii: "\n")) {
            let line = text[...]
            if !line.hasPrefix(dialect.fence), dialect.heading(line) == nil, dialect.listItem(line) == nil, !line.allSatisfy(\.isWhitespace) {
                return self.inlineToHTML(line, dialect)
            }
        }
        var out = ""
        var paragraph: [Substring] = []
        var inList = false
        var fence: [Substring]?
        var codeTag = "<pre><code>"
        func flush() {
            if !paragraph.isEmpty {
                out += "<p>" + paragraph.map { self.inlineToHTML($0, dialect) }.joined(separator: "<br>") + "</p>"
                paragraph = []
            }
            if inList {
                out += "</ul>"
                inList = false
            }
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if var code = fence {
                if line.hasPrefix(dialect.fence) {
                    out += codeTag + self.escapeHTML(Substring(code.joined(separator: "\n"))) + "</code></pre>"
                    fence = nil
                } else {
                    code.append(line)
                    fence = code
                }
                continue
            }
            if line.hasPrefix(dialect.fence) {
                flush()
                fence = []
                // A Markdown fence's info string names the language.
                let language = dialect.kind == .markdown ? line.dropFirst(dialect.fence.count).prefix(while: { !$0.isWhitespace }) : ""
                codeTag = language.isEmpty ? "<pre><code>" : "<pre><code class=\"language-\(self.escapeHTML(language))\">"
            } else if line.allSatisfy(\.isWhitespace) {
                flush()
            } else if let (level, rest) = dialect.heading(line) {
                flush()
                out += "<h\(level)>" + self.inlineToHTML(rest, dialect) + "</h\(level)>"
            } else if let item = dialect.listItem(line) {
                if !paragraph.isEmpty { flush() }
                if !inList {
                    out += "<ul>"
                    inList = true
                }
                out += "<li>" + self.inlineToHTML(item, dialect) + "</li>"
            } else {
                if inList { flush() }
                paragraph.append(line)
            }
        }
        if let code = fence { out += codeTag + self.escapeHTML(Substring(code.joined(separator: "\n"))) + "</code></pre>" }
        flush()
        // A single paragraph stays inline, as trackers store one-line descriptions.
        if out.hasPrefix("<p>"), out.hasSuffix("</p>"), out.utf8.count > 7, !out.dropFirst(3).contains("<p>") {
            return String(out.dropFirst(3).dropLast(4))
        }
        return out
    }

    /// Inline syntax → HTML: escapes, bold, italic, code, links.
    static func inlineToHTML(_ text: Substring, _ dialect: Dialect) -> String {
        // Fast path: nothing but text.
        let specials = dialect.inlineSpecials
        if !text.unicodeScalars.contains(where: { specials.contains($0) }) { return self.escapeHTML(text) }
        return self.inlineToHTML(Array(text.unicodeScalars)[...], dialect)
    }

    static func inlineToHTML(_ s: ArraySlice<Unicode.Scalar>, _ dialect: Dialect) -> String {
        var out = ""
        out.reserveCapacity(s.count + 16)
        var i = s.startIndex
        var open: [String] = []
        func escaped(_ part: ArraySlice<Unicode.Scalar>) -> String {
            var text = ""
            for c in part { self.appendEscaped(c, to: &text) }
            return text
        }
        while i < s.endIndex {
            let c = s[i]
            if c == "\\", dialect.usesBackslash, i + 1 < s.endIndex {
                self.appendEscaped(s[i + 1], to: &out)
                i += 2
                continue
            }
            if let (tag, delimiter) = dialect.delimiter(s, at: i) {
                let after = i + delimiter.count
                if tag == "code" {
                    if let close = Dialect.find(delimiter, in: s, from: after) {
                        out += "<code>" + escaped(s[after..<close]) + "</code>"
                        i = close + delimiter.count
                        continue
                    }
                } else if open.last == tag {
                    out += "</\(tag)>"
                    open.removeLast()
                    i = after
                    continue
                } else if !open.contains(tag), Dialect.find(delimiter, in: s, from: after) != nil {
                    out += "<\(tag)>"
                    open.append(tag)
                    i = after
                    continue
                }
            }
            if let (label, url, end) = dialect.link(s, at: i) {
                out += "<a href=\"\(escaped(url))\">\(self.inlineToHTML(label, dialect))</a>"
                i = end
                continue
            }
            self.appendEscaped(c, to: &out)
            i += 1
        }
        for tag in open.reversed() { out += "</\(tag)>" }
        return out
    }

    // MARK: HTML → text

    /// Walks HTML and writes it in a light markup (or plain text).
    static func render(_ html: String, _ dialect: Dialect) -> String {
        var out = ""
        var pendingBreak = false
        var pre = 0
        var code = false
        var links: [String] = []
        var linkStarts: [String.Index] = []
        var i = html.startIndex
        func ensureBlock() {
            if out.isEmpty { return }
            while !out.hasSuffix("\n\n") { out += "\n" }
        }
        func emit(_ s: String) {
            if pendingBreak {
                ensureBlock()
                pendingBreak = false
            }
            out += s
        }
        while i < html.endIndex {
            let c = html[i]
            if c == "<", let close = html[i...].firstIndex(of: ">") {
                let body = html[html.index(after: i)..<close]
                i = html.index(after: close)
                let closing = body.hasPrefix("/")
                let name = (closing ? body.dropFirst() : body).prefix(while: { $0.isLetter || $0.isNumber }).lowercased()
                switch (name, closing) {
                case ("br", _): emit("\n")
                case ("p", false), ("div", false), ("blockquote", false), ("ul", false), ("ol", false), ("table", false):
                    pendingBreak = true
                case ("p", true), ("div", true), ("blockquote", true), ("ul", true), ("ol", true), ("table", true):
                    pendingBreak = true
                case ("h1", false), ("h2", false), ("h3", false), ("h4", false), ("h5", false), ("h6", false):
                    pendingBreak = true
                    emit(dialect.headingPrefix(Int(name.dropFirst()) ?? 1))
                case ("h1", true), ("h2", true), ("h3", true), ("h4", true), ("h5", true), ("h6", true): pendingBreak = true
                case ("li", false), ("tr", false):
                    if !out.isEmpty && !out.hasSuffix("\n") && !pendingBreak { out += "\n" }
                    emit(name == "li" ? dialect.bullet : "")
                case ("td", false), ("th", false): if !out.hasSuffix("\n") && !out.isEmpty { emit(" ") }
                case ("pre", false):
                    pendingBreak = true
                    // A fence carries the language of `<pre><code class="language-x">`.
                    var language = ""
                    if dialect.kind == .markdown, html[i...].hasPrefix("<code"), let end = html[i...].firstIndex(of: ">") {
                        language = (Markup.attribute("class", in: html[i..<end])).flatMap(HTMLReader.language) ?? ""
                    }
                    emit(dialect.fence.isEmpty ? "" : dialect.fence + language + "\n")
                    pre += 1
                case ("pre", true):
                    pre = max(0, pre - 1)
                    emit(dialect.fence.isEmpty ? "" : "\n" + dialect.fence)
                    pendingBreak = true
                case ("code", _):
                    if pre == 0 {
                        emit(dialect.code)
                        code = !closing
                    }
                case ("strong", _), ("b", _): emit(dialect.strong)
                case ("em", _), ("i", _): emit(dialect.emphasis)
                case ("a", false):
                    links.append(self.attribute("href", in: body) ?? "")
                    emit(dialect.linkOpen)
                    linkStarts.append(out.endIndex)
                case ("a", true):
                    guard let url = links.popLast(), let start = linkStarts.popLast() else { break }
                    let label = String(out[start...])
                    emit(dialect.linkClose(label: label, url: url))
                default: break
                }
                continue
            }
            var text = ""
            if c == "&", let semicolon = html[i...].prefix(12).firstIndex(of: ";"),
                let decoded = self.entity(html[html.index(after: i)..<semicolon])
            {
                text = String(decoded)
                i = html.index(after: semicolon)
            } else {
                text = pre == 0 && (c == "\n" || c == "\r" || c == "\t") ? " " : String(c)
                i = html.index(after: i)
            }
            emit(pre > 0 || code ? text : dialect.escape(text))
        }
        return out
    }

    static func attribute(_ name: String, in tag: Substring) -> String? {
        guard let range = tag.firstRange(of: name + "=") else { return nil }
        var value = tag[range.upperBound...]
        if let quote = value.first, quote == "\"" || quote == "'" {
            value = value.dropFirst()
            return self.render(String(value.prefix(while: { $0 != quote })), .plain)
        }
        return String(value.prefix(while: { $0 != " " && $0 != ">" }))
    }

    static func entity(_ name: Substring) -> Character? {
        switch name {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos", "#39": return "'"
        case "nbsp": return "\u{A0}"
        default:
            guard name.hasPrefix("#") else { return nil }
            let digits = name.dropFirst()
            let code = digits.hasPrefix("x") || digits.hasPrefix("X") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            return code.flatMap(Unicode.Scalar.init).map(Character.init)
        }
    }
}

/// The syntax of a light markup.
struct Dialect: Sendable {
    var strong: String
    var emphasis: String
    var code: String
    var fence: String
    var bullet: String
    var usesBackslash: Bool
    var specials: Set<Character>
    var kind: TextMarkup

    static let plain = Dialect(
        strong: "", emphasis: "", code: "", fence: "", bullet: "- ", usesBackslash: false, specials: [], kind: .plain
    )
    static let markdown = Dialect(
        strong: "**", emphasis: "*", code: "`", fence: "```", bullet: "- ", usesBackslash: true,
        specials: ["\\", "`", "*", "_", "[", "]", "#", "-", "+"], kind: .markdown
    )
    static let textile = Dialect(
        strong: "*", emphasis: "_", code: "@", fence: "bc..", bullet: "* ", usesBackslash: false, specials: [], kind: .textile
    )

    func escape(_ text: String) -> String {
        guard !self.specials.isEmpty, text.contains(where: { self.specials.contains($0) }) else { return text }
        var out = ""
        for c in text {
            if self.specials.contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    func headingPrefix(_ level: Int) -> String {
        switch self.kind {
        case .markdown: String(repeating: "#", count: level) + " "
        case .textile: "h\(level). "
        default: ""
        }
    }

    var linkOpen: String {
        switch self.kind {
        case .markdown: "["
        case .textile: "\""
        default: ""
        }
    }

    func linkClose(label: String, url: String) -> String {
        switch self.kind {
        case .markdown: "](\(url))"
        case .textile: "\":\(url)"
        default: label == url || url.isEmpty ? "" : " (\(url))"
        }
    }

    func heading(_ line: Substring) -> (Int, Substring)? {
        switch self.kind {
        case .markdown:
            let hashes = line.prefix(while: { $0 == "#" }).count
            guard (1...6).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
            return (hashes, line.dropFirst(hashes + 1))
        case .textile:
            guard line.count > 4, line.first == "h", let level = line.dropFirst().first?.wholeNumberValue, (1...6).contains(level),
                line.dropFirst(2).hasPrefix(". ")
            else { return nil }
            return (level, line.dropFirst(4))
        default: return nil
        }
    }

    func listItem(_ line: Substring) -> Substring? {
        let markers: [String] = self.kind == .markdown ? ["- ", "* ", "+ "] : ["* "]
        for marker in markers where line.hasPrefix(marker) { return line.dropFirst(2) }
        return nil
    }

    /// The scalars that start inline syntax.
    var inlineSpecials: [Unicode.Scalar] {
        switch self.kind {
        case .markdown: Self.markdownSpecials
        case .textile: Self.textileSpecials
        default: []
        }
    }

    static let markdownSpecials: [Unicode.Scalar] = ["*", "_", "`", "[", "\\"]
    static let textileSpecials: [Unicode.Scalar] = ["*", "_", "@", "\""]

    /// The first index at or after `from` where `pattern` starts.
    static func find(_ pattern: [Unicode.Scalar], in s: ArraySlice<Unicode.Scalar>, from: Int) -> Int? {
        var k = from
        while k + pattern.count <= s.endIndex {
            if s[k..<(k + pattern.count)].elementsEqual(pattern) { return k }
            k += 1
        }
        return nil
    }

    /// An inline delimiter at `i`: the HTML tag it stands for and its scalars.
    func delimiter(_ s: ArraySlice<Unicode.Scalar>, at i: Int) -> (String, [Unicode.Scalar])? {
        let c = s[i]
        switch self.kind {
        case .markdown:
            if c == "*", i + 1 < s.endIndex, s[i + 1] == "*" { return ("strong", ["*", "*"]) }
            if c == "*" || c == "_" { return ("em", [c]) }
            if c == "`" { return ("code", [c]) }
        case .textile:
            if c == "*" { return ("strong", [c]) }
            if c == "_" { return ("em", [c]) }
            if c == "@" { return ("code", [c]) }
        default: break
        }
        return nil
    }

    /// A link at `i`: `[label](url)` in Markdown, `"label":url` in Textile.
    func link(_ s: ArraySlice<Unicode.Scalar>, at i: Int) -> (ArraySlice<Unicode.Scalar>, ArraySlice<Unicode.Scalar>, Int)? {
        switch self.kind {
        case .markdown:
            guard s[i] == "[", let close = Dialect.find(["]"], in: s, from: i + 1), close + 1 < s.endIndex, s[close + 1] == "(",
                let end = Dialect.find([")"], in: s, from: close + 2)
            else { return nil }
            return (s[(i + 1)..<close], s[(close + 2)..<end], end + 1)
        case .textile:
            guard s[i] == "\"", let close = Dialect.find(["\""], in: s, from: i + 1), close + 1 < s.endIndex, s[close + 1] == ":" else { return nil }
            let start = close + 2
            let end = Dialect.find([" "], in: s, from: start) ?? s.endIndex
            guard start < end else { return nil }
            return (s[(i + 1)..<close], s[start..<end], end)
        default:
            return nil
        }
    }
}
