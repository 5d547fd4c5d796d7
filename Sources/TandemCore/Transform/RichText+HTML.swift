/// HTML ↔ `RichDocument`: the bridge to the markups that go through HTML (HTML itself, Markdown, Textile).
extension RichDocument {
    // MARK: Document → HTML

    /// The document as HTML; a lone paragraph stays inline, as `Markup` writes one-line descriptions.
    var html: String {
        if self.blocks.count == 1, case .paragraph(let inlines) = self.blocks[0] { return Self.html(inlines) }
        var out = ""
        Self.html(self.blocks, into: &out)
        return out
    }

    static func html(_ blocks: [RichBlock], into out: inout String) {
        for block in blocks {
            switch block {
            case .paragraph(let inlines): out += "<p>" + self.html(inlines) + "</p>"
            case .heading(let level, let inlines): out += "<h\(level)>" + self.html(inlines) + "</h\(level)>"
            case .list(let list):
                let tag = list.ordered ? "ol" : "ul"
                out += list.ordered && list.start != 1 ? "<ol start=\"\(list.start)\">" : "<\(tag)>"
                for item in list.items {
                    out += "<li>"
                    self.htmlTight(item, into: &out)
                    out += "</li>"
                }
                out += "</\(tag)>"
            case .code(let language, let text):
                let attribute = language.map { " class=\"language-\(Markup.escapeHTML($0))\"" } ?? ""
                out += "<pre><code\(attribute)>" + Markup.escapeHTML(text) + "</code></pre>"
            case .quote(let inner):
                out += "<blockquote>"
                self.html(inner, into: &out)
                out += "</blockquote>"
            case .rule: out += "<hr>"
            case .table(let rows):
                out += "<table>"
                for row in rows {
                    out += "<tr>"
                    for cell in row {
                        out += cell.header ? "<th>" : "<td>"
                        self.htmlTight(cell.blocks, into: &out)
                        out += cell.header ? "</th>" : "</td>"
                    }
                    out += "</tr>"
                }
                out += "</table>"
            }
        }
    }

    /// A list item's or cell's blocks: a lone paragraph without `<p>`.
    static func htmlTight(_ blocks: [RichBlock], into out: inout String) {
        if let first = blocks.first, case .paragraph(let inlines) = first {
            out += self.html(inlines)
            self.html(Array(blocks.dropFirst()), into: &out)
        } else {
            self.html(blocks, into: &out)
        }
    }

    static let htmlTags: [(RichMarks.Style, String)] = [
        (.strong, "strong"), (.emphasis, "em"), (.strike, "s"), (.underline, "u"), (.sup, "sup"), (.sub, "sub"),
        (.code, "code"),
    ]

    static func html(_ inlines: [RichInline]) -> String {
        var out = ""
        var link: String?
        for inline in self.normalized(inlines) {
            let url: String? = if case .text(_, let marks) = inline { marks.link } else { nil }
            if url != link {
                if link != nil { out += "</a>" }
                if let url { out += "<a href=\"" + Markup.escapeHTML(url) + "\">" }
                link = url
            }
            switch inline {
            case .hardBreak: out += "<br>"
            case .mention(let id, let text): out += "<span data-mention-id=\"" + Markup.escapeHTML(id) + "\">" + Markup.escapeHTML(text) + "</span>"
            case .text(let s, let marks):
                let tags = self.htmlTags.filter { marks.style.contains($0.0) }.map(\.1)
                for tag in tags { out += "<\(tag)>" }
                out += Markup.escapeHTML(s)
                for tag in tags.reversed() { out += "</\(tag)>" }
            }
        }
        if link != nil { out += "</a>" }
        return out
    }

    // MARK: HTML → document

    /// HTML read as a document: the block tags `Markup` writes and readers meet (p, div, h1–h6, ul, ol, li, pre,
    /// blockquote, hr, table) and inline tags (br, strong/b, em/i, s/del, u/ins, code, sup, sub, a). Other tags are
    /// dropped and their text kept; white space outside `pre` reads as a space, as browsers show it.
    init(html: String) {
        var reader = HTMLReader()
        reader.read(Array(html.unicodeScalars))
        self.init(reader.finish())
    }
}

/// The state of reading HTML into blocks: a stack of open containers and the inline content being gathered.
struct HTMLReader {
    enum Kind: Equatable {
        case root, quote, item, list(ordered: Bool, start: Int), table, row, cell(header: Bool)
    }

    struct Frame {
        var kind: Kind
        var blocks: [RichBlock] = []
        var items: [[RichBlock]] = []
        var rows: [[RichCell]] = []
        var cells: [RichCell] = []
    }

    var frames = [Frame(kind: .root)]
    var inlines: [RichInline] = []
    var heading: Int?
    var styles: [(String, RichMarks.Style)] = []
    var links: [String?] = []

    var marks: RichMarks {
        var style = RichMarks.Style()
        for (_, s) in self.styles { style.insert(s) }
        return RichMarks(style, link: self.links.last(where: { $0 != nil }) ?? nil)
    }

    mutating func read(_ s: [Unicode.Scalar]) {
        var i = 0
        var text = ""
        // The index of the first `>` at or after a position, found once (a text full of `<` stays linear).
        var nextClose = -1
        func flushText() {
            guard !text.isEmpty else { return }
            if !(self.inlines.isEmpty && self.heading == nil && text.allSatisfy({ $0 == " " })) { self.inlines.append(.text(text, self.marks)) }
            text = ""
        }
        while i < s.count {
            let c = s[i]
            if c == "<", i + 1 < s.count, s[i + 1].properties.isAlphabetic || s[i + 1] == "/" || s[i + 1] == "!" {
                if nextClose < i { nextClose = s[i...].firstIndex(of: ">") ?? s.count }
                if nextClose < s.count {
                    flushText()
                    let body = String(String.UnicodeScalarView(s[(i + 1)..<nextClose]))
                    i = nextClose + 1
                    if body.hasPrefix("!--"), !body.hasSuffix("--") {
                        // A comment with `>` inside: skip to its end.
                        i = Self.find(Array("-->".unicodeScalars), in: s, from: i).map { $0 + 3 } ?? s.count
                        continue
                    }
                    i = self.tag(body, s, after: i)
                    continue
                }
            }
            if c == "&", let (decoded, end) = Self.entity(s, at: i) {
                text.append(decoded)
                i = end
                continue
            }
            text.unicodeScalars.append(c == "\n" || c == "\r" || c == "\t" ? " " : c)
            i += 1
        }
        flushText()
    }

    static func entity(_ s: [Unicode.Scalar], at i: Int) -> (Character, Int)? {
        guard let semicolon = s[i..<min(s.count, i + 12)].firstIndex(of: ";"),
            let decoded = Markup.entity(Substring(String(String.UnicodeScalarView(s[(i + 1)..<semicolon]))))
        else { return nil }
        return (decoded, semicolon + 1)
    }

    static func find(_ pattern: [Unicode.Scalar], in s: [Unicode.Scalar], from: Int) -> Int? {
        Dialect.find(pattern, in: s[...], from: from)
    }

    static let styleTags: [String: RichMarks.Style] = [
        "strong": .strong, "b": .strong, "em": .emphasis, "i": .emphasis, "s": .strike, "del": .strike, "strike": .strike,
        "u": .underline, "ins": .underline, "code": .code, "tt": .code, "kbd": .code, "samp": .code, "sup": .sup,
        "sub": .sub,
    ]

    /// Handles one tag; returns where reading goes on.
    mutating func tag(_ body: String, _ s: [Unicode.Scalar], after i: Int) -> Int {
        let closing = body.hasPrefix("/")
        let name = (closing ? body.dropFirst() : body[...]).prefix(while: { $0.isLetter || $0.isNumber }).lowercased()
        let tag = Substring(body)
        // Tags left open pile up; past the depth limit more are ignored, so the marks stay cheap to compute.
        if let style = Self.styleTags[name] {
            if closing {
                if let k = self.styles.lastIndex(where: { $0.0 == name }) { self.styles.remove(at: k) }
            } else if self.styles.count < RichDocument.maximumDepth {
                self.styles.append((name, style))
            }
            return i
        }
        switch (name, closing) {
        case ("a", false): if self.links.count < RichDocument.maximumDepth { self.links.append(Markup.attribute("href", in: tag)) }
        case ("a", true): _ = self.links.popLast()
        case ("br", _): self.inlines.append(.hardBreak)
        case ("span", false):
            guard let id = Markup.attribute("data-mention-id", in: tag) else { break }
            let end = Self.find(Array("</span>".unicodeScalars), in: s, from: i) ?? s.count
            let inner = String(String.UnicodeScalarView(s[i..<end]))
            self.inlines.append(.mention(id: id, text: Self.textContent(inner)))
            return min(s.count, end + 7)
        case ("img", false):
            if let alt = Markup.attribute("alt", in: tag) ?? Markup.attribute("src", in: tag), !alt.isEmpty {
                self.inlines.append(.text(alt, self.marks))
            }
        case ("p", _), ("div", _): self.flush()
        case ("h1", false), ("h2", false), ("h3", false), ("h4", false), ("h5", false), ("h6", false):
            self.flush()
            self.heading = Int(name.dropFirst())
        case ("h1", true), ("h2", true), ("h3", true), ("h4", true), ("h5", true), ("h6", true): self.flush()
        case ("hr", _):
            self.flush()
            self.add(.rule)
        case ("pre", false):
            self.flush()
            let end = Self.find(Array("</pre".unicodeScalars), in: s, from: i) ?? s.count
            let inner = String(String.UnicodeScalarView(s[i..<end]))
            let language = (Markup.attribute("class", in: tag) ?? Self.codeClass(inner)).flatMap(Self.language)
            self.add(.code(language: language, text: Self.textContent(inner)))
            guard end < s.count else { return s.count }
            return s[end...].firstIndex(of: ">").map { $0 + 1 } ?? s.count
        case ("ul", false), ("ol", false):
            self.flush()
            self.ensureContainer()
            let start = Markup.attribute("start", in: tag).flatMap { Int($0) } ?? 1
            self.push(.list(ordered: name == "ol", start: start))
        case ("ul", true), ("ol", true): self.close { if case .list = $0 { true } else { false } }
        case ("li", false):
            self.flush()
            if self.frames.last?.kind == .item { self.pop() }
            if case .list = self.frames.last?.kind {} else { self.push(.list(ordered: false, start: 1)) }
            self.push(.item)
        case ("li", true): self.close { $0 == .item }
        case ("blockquote", false):
            self.flush()
            self.ensureContainer()
            self.push(.quote)
        case ("blockquote", true): self.close { $0 == .quote }
        case ("table", false):
            self.flush()
            self.ensureContainer()
            self.push(.table)
        case ("table", true): self.close { $0 == .table }
        case ("tr", false):
            self.flush()
            self.close(upTo: .table)
            if self.frames.last?.kind == .table { self.push(.row) }
        case ("tr", true): self.close { $0 == .row }
        case ("td", false), ("th", false):
            self.flush()
            self.close(upTo: .row)
            if self.frames.last?.kind == .table { self.push(.row) }
            if self.frames.last?.kind == .row { self.push(.cell(header: name == "th")) }
        case ("td", true), ("th", true): self.close { if case .cell = $0 { true } else { false } }
        default: break
        }
        return i
    }

    /// The text of an HTML fragment as it is (`pre` content): tags dropped (`br` a line end), entities decoded.
    static func textContent(_ html: String) -> String {
        let s = Array(html.unicodeScalars)
        var out = ""
        var i = 0
        var nextClose = -1
        while i < s.count {
            if s[i] == "<" {
                if nextClose < i { nextClose = s[i...].firstIndex(of: ">") ?? s.count }
                if nextClose < s.count {
                    let name = String(String.UnicodeScalarView(s[(i + 1)..<nextClose])).lowercased()
                    if name.hasPrefix("br") { out += "\n" }
                    i = nextClose + 1
                    continue
                }
            }
            if s[i] == "&", let (decoded, end) = Self.entity(s, at: i) {
                out.append(decoded)
                i = end
                continue
            }
            out.unicodeScalars.append(s[i])
            i += 1
        }
        return out
    }

    /// `language-swift` (or `lang-swift`, `swift`) → `swift`.
    static func language(_ classes: String) -> String? {
        for name in classes.split(separator: " ") {
            for prefix in ["language-", "lang-"] where name.hasPrefix(prefix) && name.count > prefix.count {
                return String(name.dropFirst(prefix.count))
            }
        }
        return nil
    }

    static func codeClass(_ inner: String) -> String? {
        guard inner.hasPrefix("<code"), let end = inner.firstIndex(of: ">") else { return nil }
        return Markup.attribute("class", in: inner[..<end])
    }

    /// Ends the inline content gathered so far as a paragraph or heading.
    mutating func flush() {
        let inlines = RichDocument.normalized(self.inlines)
        let heading = self.heading
        self.inlines = []
        self.heading = nil
        // Trailing white space before a block boundary is layout, not text.
        guard !inlines.isEmpty else { return }
        self.add(heading.map { .heading($0, inlines) } ?? .paragraph(inlines))
    }

    /// Makes the innermost frame one that holds blocks (text right inside a list or table gets an item or cell).
    mutating func ensureContainer() {
        switch self.frames.last?.kind {
        case .list: self.push(.item)
        case .table:
            self.push(.row)
            self.push(.cell(header: false))
        case .row: self.push(.cell(header: false))
        default: break
        }
    }

    mutating func add(_ block: RichBlock) {
        self.ensureContainer()
        self.frames[self.frames.count - 1].blocks.append(block)
    }

    /// Opens a container, unless containers already nest `RichDocument.maximumDepth` deep (its content then joins
    /// the innermost one).
    mutating func push(_ kind: Kind) {
        guard self.frames.count < RichDocument.maximumDepth else { return }
        self.frames.append(Frame(kind: kind))
    }

    /// Closes the innermost frame and hands its content to the one around it.
    mutating func pop() {
        guard self.frames.count > 1 else { return }
        // Text right inside a list or table becomes an item or cell of it first.
        let depth = self.frames.count
        self.flush()
        while self.frames.count > depth { self.popFrame() }
        self.popFrame()
    }

    mutating func popFrame() {
        let frame = self.frames.removeLast()
        let n = self.frames.count - 1
        switch frame.kind {
        case .root: break
        case .item: self.frames[n].items.append(frame.blocks)
        case .list(let ordered, let start):
            // Blocks a list or table holds directly arrive only where nesting was too deep for items: kept as they are.
            for block in frame.blocks { self.add(block) }
            if !frame.items.isEmpty { self.add(.list(RichList(ordered: ordered, start: start, items: frame.items))) }
        case .quote: self.add(.quote(frame.blocks))
        case .cell(let header): self.frames[n].cells.append(RichCell(header: header, blocks: frame.blocks))
        case .row:
            for block in frame.blocks { self.add(block) }
            if !frame.cells.isEmpty { self.frames[n].rows.append(frame.cells) }
        case .table:
            for block in frame.blocks { self.add(block) }
            if !frame.rows.isEmpty { self.add(.table(frame.rows)) }
        }
    }

    /// Closes frames up to and including the innermost one that matches, if there is one.
    mutating func close(_ matches: (Kind) -> Bool) {
        guard let k = self.frames.lastIndex(where: { matches($0.kind) }), k > 0 else {
            self.flush()
            return
        }
        while self.frames.count > k { self.pop() }
    }

    /// Closes frames inside the innermost `kind`, if there is one.
    mutating func close(upTo kind: Kind) {
        guard let k = self.frames.lastIndex(where: { $0.kind == kind }) else { return }
        while self.frames.count > k + 1 { self.pop() }
    }

    mutating func finish() -> [RichBlock] {
        while self.frames.count > 1 { self.pop() }
        self.flush()
        return self.frames[0].blocks
    }
}
