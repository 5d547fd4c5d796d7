import Foundation

/// Jira wiki markup (Jira Data Center REST v2 descriptions and comments) ↔ `RichDocument`.
///
/// Blocks: paragraphs (a line end is a hard break, a blank line ends the paragraph), `h1.`–`h6.`, `bq.`, lists
/// (`*`, `#`, nested `**`, `#*`, and `-`), `----`, tables (`||head||`, `|cell|`), `{code}`/`{code:lang}`, `{noformat}`,
/// `{quote}` and `{panel}`. Inline: `*strong*`, `_emphasis_`, `??citation??`, `-strike-`, `+underline+`, `^sup^`,
/// `~sub~`, `{{monospace}}`, the `{*}…{*}` forms that work inside words, `[text|url]`, `[url]`, `[~user]`,
/// `[~accountid:…]`, `!image!` (its name kept), `\\` (a hard break) and `\X` (X as text). `{color}` and `{anchor}`
/// are dropped, their text kept; emoticons stay text.
///
/// Writing escapes a character only where the reader (and Jira) would take it as syntax, so plain text → wiki → plain
/// text gives back the text. A backslash that the next character would turn into syntax is written `&#92;`.
extension RichDocument {
    init(jiraWiki text: String) {
        let lines = RichDocument.lines(text)
        self.init(lines == [""] ? [] : WikiReader.blocks(lines[...], depth: 0))
    }

    var jiraWiki: String {
        var writer = WikiWriter()
        writer.blocks(self.blocks, last: true)
        return writer.out
    }
}

// MARK: - Wiki → document

enum WikiReader {
    enum State { case separated, paragraph, afterBlock }

    static func blocks(_ lines: ArraySlice<Substring>, depth: Int) -> [RichBlock] {
        var out: [RichBlock] = []
        var paragraph: [Substring] = []
        var state = State.separated
        func close() {
            out.append(.paragraph(self.inlines(paragraph)))
            paragraph = []
        }
        var k = lines.startIndex
        while k < lines.endIndex {
            let line = lines[k]
            if line.isEmpty {
                // Two line ends in a row end a paragraph; a blank line with none open starts one (with a break).
                switch state {
                case .paragraph where k + 1 < lines.endIndex:
                    close()
                    state = .separated
                case .afterBlock: state = .separated
                case .paragraph, .separated:
                    paragraph.append(line)
                    state = .paragraph
                }
                k += 1
                continue
            }
            if let (blocks, next) = self.block(lines, at: k, depth: depth) {
                if state == .paragraph { close() }
                out += blocks
                state = .afterBlock
                k = next
                continue
            }
            paragraph.append(line)
            state = .paragraph
            k += 1
        }
        if state == .paragraph { close() }
        return out
    }

    /// Lines of a paragraph: their inline content joined by hard breaks.
    static func inlines(_ lines: [Substring]) -> [RichInline] {
        var out: [RichInline] = []
        for (n, line) in lines.enumerated() {
            if n > 0 { out.append(.hardBreak) }
            out += WikiInline(line).inlines()
        }
        return RichDocument.normalized(out)
    }

    /// The block that starts at line `k`, if one does, and the index of the line after it.
    static func block(_ lines: ArraySlice<Substring>, at k: Int, depth: Int) -> ([RichBlock], Int)? {
        let line = lines[k]
        if line.first == "{", let macro = self.macro(lines, at: k, depth: depth) { return macro }
        if let level = self.headingLevel(line) {
            let rest = line.dropFirst(3)
            return ([.heading(level, WikiInline(rest.first == " " ? rest.dropFirst() : rest).inlines())], k + 1)
        }
        if line.hasPrefix("bq. ") || line == "bq." { return ([.quote([.paragraph(WikiInline(line.dropFirst(4)).inlines())])], k + 1) }
        if line.utf8.count >= 4, line.allSatisfy({ $0 == "-" || $0 == " " || $0 == "\t" }), line.hasPrefix("----") { return ([.rule], k + 1) }
        if self.listMarkers(line) != nil {
            var end = k
            while end < lines.endIndex, self.listMarkers(lines[end]) != nil { end += 1 }
            return (self.lists(lines[k..<end]), end)
        }
        if line.first == "|" {
            var end = k
            while end < lines.endIndex, lines[end].first == "|" { end += 1 }
            return ([.table(lines[k..<end].map(self.row).filter { !$0.isEmpty })], end)
        }
        return nil
    }

    static func headingLevel(_ line: Substring) -> Int? {
        let u = Array(line.utf8.prefix(3))
        guard u.count == 3, u[0] == UInt8(ascii: "h"), (UInt8(ascii: "1")...UInt8(ascii: "6")).contains(u[1]), u[2] == UInt8(ascii: ".") else {
            return nil
        }
        return Int(u[1] - UInt8(ascii: "0"))
    }

    // MARK: Macros

    /// `{code…}`, `{noformat}`, `{quote}` or `{panel…}` at line `k`, up to its closing tag (or the end).
    static func macro(_ lines: ArraySlice<Substring>, at k: Int, depth: Int) -> ([RichBlock], Int)? {
        let line = lines[k]
        guard let close = line.firstIndex(of: "}") else { return nil }
        let tag = line[line.index(after: line.startIndex)..<close]
        let name = tag.prefix(while: { $0.isLetter })
        guard ["code", "noformat", "quote", "panel"].contains(name), tag.count == name.count || tag.dropFirst(name.count).first == ":"
        else { return nil }
        let end = "{\(name)}"
        var content: [Substring] = []
        var rest = line[line.index(after: close)...]
        var remainder: Substring = ""
        var next = k + 1
        var closed = false
        if let range = rest.range(of: end) {
            content.append(rest[..<range.lowerBound])
            remainder = rest[range.upperBound...]
            closed = true
        } else if !rest.isEmpty {
            content.append(rest)
        }
        while !closed, next < lines.endIndex {
            rest = lines[next]
            next += 1
            if let range = rest.range(of: end) {
                if range.lowerBound > rest.startIndex { content.append(rest[..<range.lowerBound]) }
                remainder = rest[range.upperBound...]
                closed = true
            } else {
                content.append(rest)
            }
        }
        var blocks: [RichBlock]
        switch name {
        case "code", "noformat":
            let language = name == "code" ? self.language(tag.dropFirst(name.count + 1)) : nil
            blocks = [.code(language: language, text: content.joined(separator: "\n"))]
        default:
            let inner = depth < RichDocument.maximumDepth ? self.blocks(content[...], depth: depth + 1) : [.paragraph(self.inlines(content))]
            blocks = name == "quote" ? [.quote(inner)] : inner
        }
        if !remainder.isEmpty { blocks.append(.paragraph(WikiInline(remainder).inlines())) }
        return (blocks, next)
    }

    /// `java`, or `language=java` among `title=…|…` parameters.
    static func language(_ parameters: Substring) -> String? {
        for part in parameters.split(separator: "|") {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 1, !part.isEmpty { return String(part) }
            if pair.count == 2, pair[0] == "language" || pair[0] == "lang" { return String(pair[1]) }
        }
        return nil
    }

    // MARK: Lists

    /// A list line's markers (`*`, `#`, `**`, `#*`, `-`) and its text.
    static func listMarkers(_ line: Substring) -> (Substring, Substring)? {
        let markers = line.first == "-" ? line.prefix(1) : line.prefix(while: { $0 == "*" || $0 == "#" })
        let rest = line.dropFirst(markers.count)
        guard !markers.isEmpty, rest.first == " " || rest.first == "\t" else { return nil }
        return (markers.prefix(RichDocument.maximumDepth), rest.drop(while: { $0 == " " || $0 == "\t" }))
    }

    /// Consecutive list lines as lists (a new list where the first marker changes kind).
    static func lists(_ lines: ArraySlice<Substring>) -> [RichBlock] {
        let items = lines.compactMap(self.listMarkers).map { (Array($0.0.map { $0 == "#" }), $0.1) }
        var out: [RichBlock] = []
        var k = 0
        while k < items.count {
            let (list, next) = self.list(items, from: k, level: 0)
            out.append(.list(list))
            k = next
        }
        return out
    }

    /// The list at `level` that starts at item `k`: its items hold deeper items as nested lists.
    static func list(_ items: [([Bool], Substring)], from start: Int, level: Int) -> (RichList, Int) {
        let ordered = items[start].0[level]
        var list = RichList(ordered: ordered, items: [])
        var k = start
        while k < items.count, items[k].0.count > level {
            let (markers, text) = items[k]
            if markers.count == level + 1 {
                if markers[level] != ordered, !list.items.isEmpty { break }
                list.items.append([.paragraph(WikiInline(text).inlines())])
                k += 1
            } else {
                let (nested, next) = self.list(items, from: k, level: level + 1)
                if list.items.isEmpty { list.items.append([]) }
                list.items[list.items.count - 1].append(.list(nested))
                k = next
            }
        }
        return (list, k)
    }

    // MARK: Tables

    /// `||head||head||` or `|cell|cell|`: the cells, a `||` before a cell making it a header.
    static func row(_ line: Substring) -> [RichCell] {
        let tokens = WikiInline(line)
        var cells: [RichCell] = []
        var start = -1
        var header = false
        var bracket = false
        var i = 0
        let n = tokens.cs.count
        func cell(_ end: Int) {
            guard start >= 0 else { return }
            var lo = start
            var hi = end
            while lo < hi, tokens.isSpace(lo) { lo += 1 }
            while hi > lo, tokens.isSpace(hi - 1) { hi -= 1 }
            if lo == hi, end == n { return }
            let inlines = tokens.inlines(lo, hi)
            cells.append(RichCell(header: header, blocks: inlines.isEmpty ? [] : [.paragraph(inlines)]))
        }
        while i < n {
            if tokens.syntax(i, "[") && tokens.next(after: i, of: "]") != nil { bracket = true }
            if tokens.syntax(i, "]") { bracket = false }
            if !bracket, tokens.syntax(i, "|") {
                cell(i)
                header = i + 1 < n && tokens.syntax(i + 1, "|")
                i += header ? 2 : 1
                start = i
                continue
            }
            i += 1
        }
        cell(n)
        return cells
    }
}

/// One line of wiki text as scalars, each marked literal when an escape or entity made it text, and parsed into
/// inline content. Every lookup for a closing delimiter is a binary search in positions found once, so a line
/// parses in O(n log n) whatever it holds.
struct WikiInline {
    /// The line's characters; a `\\` hard break is `\n`.
    var cs: [Unicode.Scalar] = []
    var literal: [Bool] = []
    /// Positions of closing delimiters by character, ascending.
    var closers: [Unicode.Scalar: [Int]] = [:]
    var braced: [Unicode.Scalar: [Int]] = [:]
    /// Prefix counts of white space, to tell whether a range holds any in O(1).
    var spaces: [Int] = [0]

    static let delimiters: [Unicode.Scalar: RichMarks.Style] = [
        "*": .strong, "_": .emphasis, "-": .strike, "+": .underline, "^": .sup, "~": .sub,
    ]
    static let maximumNesting = 16

    init(_ line: Substring) {
        let s = Array(line.unicodeScalars)
        var i = 0
        while i < s.count {
            let c = s[i]
            if c == "\\", i + 1 < s.count {
                let n = s[i + 1]
                if n == "\\" {
                    self.append("\n", literal: false)
                    i += 2
                    continue
                }
                if MarkdownText.isPunctuation(n) {
                    self.append(n, literal: true)
                    i += 2
                    continue
                }
            }
            if c == "&", MarkdownText.entityFollows(s, i), let semicolon = s[i...].firstIndex(of: ";"),
                let decoded = Markup.entity(Substring(String(String.UnicodeScalarView(s[(i + 1)..<semicolon]))))
            {
                for u in decoded.unicodeScalars { self.append(u, literal: true) }
                i = semicolon + 1
                continue
            }
            self.append(c, literal: false)
            i += 1
        }
        for j in self.cs.indices where !self.literal[j] {
            let c = self.cs[j]
            if Self.delimiters[c] != nil, self.closes(j) { self.closers[c, default: []].append(j) }
            if c == "?", self.syntax(j + 1, "?"), j > 0, !self.isSpace(j - 1), j + 2 >= self.cs.count || !self.isAlphanumeric(j + 2) {
                self.closers["?", default: []].append(j)
            }
            if c == "{", j + 2 < self.cs.count, self.syntax(j + 2, "}"), !self.literal[j + 1], Self.delimiters[self.cs[j + 1]] != nil {
                self.braced[self.cs[j + 1], default: []].append(j)
            }
            if c == "}" || c == "]" || c == "|" || c == "!" { self.closers[c, default: []].append(j) }
        }
    }

    mutating func append(_ c: Unicode.Scalar, literal: Bool) {
        self.cs.append(c)
        self.literal.append(literal)
        self.spaces.append(self.spaces[self.spaces.count - 1] + (Self.isSpace(c) ? 1 : 0))
    }

    func syntax(_ j: Int, _ c: Unicode.Scalar) -> Bool { j >= 0 && j < self.cs.count && !self.literal[j] && self.cs[j] == c }
    func isSpace(_ j: Int) -> Bool { Self.isSpace(self.cs[j]) }
    func isAlphanumeric(_ j: Int) -> Bool { Self.isAlphanumeric(self.cs[j]) }

    /// White space; ASCII answered without Unicode's tables, which are slow per character.
    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        c.isASCII ? c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0B}" || c == "\u{0C}" : c.properties.isWhitespace
    }

    /// A letter or digit; ASCII answered without Unicode's tables.
    static func isAlphanumeric(_ c: Unicode.Scalar) -> Bool {
        guard c.isASCII else { return MarkdownText.isAlphanumeric(c) }
        return ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
    }

    /// Whether the text from `lo` (before `hi`) starts like a URL: a scheme's `://` early on, or `mailto:`.
    func looksLikeURL(_ lo: Int, _ hi: Int) -> Bool {
        let end = min(hi, lo + 40)
        var k = lo
        while k + 2 < end {
            if self.cs[k] == ":", self.cs[k + 1] == "/", self.cs[k + 2] == "/" { return true }
            k += 1
        }
        let mailto = Array("mailto:".unicodeScalars)
        return hi - lo >= mailto.count && self.cs[lo..<(lo + mailto.count)].elementsEqual(mailto)
    }

    /// Whether the delimiter at `j` can close: after a non-space, not before a letter or digit.
    func closes(_ j: Int) -> Bool { j > 0 && !self.isSpace(j - 1) && (j + 1 == self.cs.count || !self.isAlphanumeric(j + 1)) }

    /// Whether the delimiter `c` at `j` can open: not after a letter or digit, before a non-space that is not `c`.
    func opens(_ j: Int, _ c: Unicode.Scalar) -> Bool {
        (j == 0 || !self.isAlphanumeric(j - 1)) && j + 1 < self.cs.count && !self.isSpace(j + 1) && !self.syntax(j + 1, c)
    }

    /// The first position after `j` in `positions` (ascending).
    static func first(after j: Int, in positions: [Int]?) -> Int? {
        guard let positions else { return nil }
        var lo = 0
        var hi = positions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if positions[mid] > j { hi = mid } else { lo = mid + 1 }
        }
        return lo < positions.count ? positions[lo] : nil
    }

    func next(after j: Int, of c: Unicode.Scalar) -> Int? { Self.first(after: j, in: self.closers[c]) }

    func string(_ lo: Int, _ hi: Int) -> String { lo < hi ? String(String.UnicodeScalarView(self.cs[lo..<hi])) : "" }

    func inlines() -> [RichInline] { self.inlines(0, self.cs.count) }

    func inlines(_ lo: Int, _ hi: Int) -> [RichInline] {
        var out: [RichInline] = []
        self.parse(lo, hi, RichMarks(), depth: 0, into: &out)
        return RichDocument.normalized(out)
    }

    func parse(_ lo: Int, _ hi: Int, _ marks: RichMarks, depth: Int, into out: inout [RichInline]) {
        var text = ""
        func flush() {
            if !text.isEmpty { out.append(.text(text, marks)) }
            text = ""
        }
        func nested(_ from: Int, _ to: Int, _ style: RichMarks.Style) {
            flush()
            var inner = marks
            inner.style.formUnion(style)
            self.parse(from, to, inner, depth: depth + 1, into: &out)
        }
        let deep = depth >= Self.maximumNesting
        var i = lo
        while i < hi {
            let c = self.cs[i]
            if self.literal[i] {
                text.unicodeScalars.append(c)
                i += 1
                continue
            }
            if c == "\n" {
                flush()
                out.append(.hardBreak)
                i += 1
                continue
            }
            if !deep, let style = Self.delimiters[c], self.opens(i, c), let j = self.next(after: i + 1, of: c), j < hi {
                nested(i + 1, j, style)
                i = j + 1
                continue
            }
            if !deep, c == "?", self.syntax(i + 1, "?"), i + 2 < hi, self.opens(i + 1, "?"), i == 0 || !self.isAlphanumeric(i - 1),
                let j = self.next(after: i + 2, of: "?"), j + 1 < hi
            {
                nested(i + 2, j, .emphasis)
                i = j + 2
                continue
            }
            if c == "{", let (end, found) = self.brace(i, hi, deep: deep) {
                switch found {
                case .nested(let from, let to, let style): nested(from, to, style)
                case .code(let code):
                    flush()
                    out.append(.text(code, RichMarks(marks.style.union(.code), link: marks.link)))
                case .dropped: break
                }
                i = end
                continue
            }
            if c == "[", let j = self.next(after: i, of: "]"), j < hi, let found = self.link(i, j) {
                flush()
                switch found {
                case .mention(let id): out.append(.mention(id: id, text: "@" + id))
                case .text(let s, let url): out.append(.text(s, RichMarks(marks.style, link: url ?? marks.link)))
                case .label(let from, let to, let url):
                    // Labels hold no links (the first `]` ends one), so this recursion adds one level at the most.
                    self.parse(from, to, RichMarks(marks.style, link: url.isEmpty ? marks.link : url), depth: depth + 1, into: &out)
                }
                i = j + 1
                continue
            }
            if c == "!", i + 1 < hi, !self.isSpace(i + 1), !self.syntax(i + 1, "!"), let j = self.next(after: i + 1, of: "!"), j < hi,
                !self.isSpace(j - 1)
            {
                // An image: its name (or URL) before any `|options` is kept as text.
                let bar = self.next(after: i, of: "|").flatMap { $0 < j ? $0 : nil } ?? j
                if self.spaces[bar] == self.spaces[i + 1] {
                    let name = self.string(i + 1, bar)
                    flush()
                    out.append(.text(name, RichMarks(marks.style, link: name.contains("://") ? name : marks.link)))
                    i = j + 1
                    continue
                }
            }
            text.unicodeScalars.append(c)
            i += 1
        }
        flush()
    }

    enum Brace {
        case nested(Int, Int, RichMarks.Style)
        case code(String)
        case dropped
    }

    /// `{*}…{*}` (and the other braced delimiters), `{{monospace}}`, or a dropped `{color…}`/`{anchor…}` at `i`, and
    /// the index after it; nil when the brace is text.
    func brace(_ i: Int, _ hi: Int, deep: Bool) -> (Int, Brace)? {
        if i + 2 < hi, !deep, self.syntax(i + 2, "}"), !self.literal[i + 1], let style = Self.delimiters[self.cs[i + 1]],
            let j = Self.first(after: i + 2, in: self.braced[self.cs[i + 1]]), j + 2 < hi
        {
            return (j + 3, .nested(i + 3, j, style))
        }
        if self.syntax(i + 1, "{"), let j = self.next(after: i + 1, of: "}"), j + 1 < hi, self.syntax(j + 1, "}"), j > i + 2 {
            return (j + 2, .code(self.string(i + 2, j)))
        }
        let name = self.string(i + 1, min(hi, i + 7))
        if name.hasPrefix("color") || name.hasPrefix("anchor"), let j = self.next(after: i, of: "}"), j < hi { return (j + 1, .dropped) }
        return nil
    }

    enum Link {
        case mention(String)
        /// Text, linked to a URL or not.
        case text(String, String?)
        /// A label between two indices, linked to a URL.
        case label(Int, Int, String)
    }

    /// `[label|url]`, `[url]`, `[~user]`, `[^attachment]` between `i` and `j`; nil when the bracket is text.
    func link(_ i: Int, _ j: Int) -> Link? {
        if self.syntax(i + 1, "~") {
            var id = self.string(i + 2, j)
            if id.lowercased().hasPrefix("accountid:") { id = String(id.dropFirst(10)) }
            return id.isEmpty ? nil : .mention(id)
        }
        if let bar = self.next(after: i, of: "|"), bar < j {
            let end = self.next(after: bar, of: "|").flatMap { $0 < j ? $0 : nil } ?? j
            var lo = bar + 1
            var hi = end
            while lo < hi, self.isSpace(lo) { lo += 1 }
            while hi > lo, self.isSpace(hi - 1) { hi -= 1 }
            let url = self.string(lo, hi)
            if bar == i + 1 { return .text(url, url.isEmpty ? nil : url) }
            return .label(i + 1, bar, url)
        }
        if self.looksLikeURL(i + 1, j) {
            let url = self.string(i + 1, j)
            return .text(url, url)
        }
        if self.syntax(i + 1, "^"), j > i + 2 { return .text(self.string(i + 2, j), nil) }
        return nil
    }
}

// MARK: - Document → wiki

/// Builds wiki text; inline content first goes into lines of characters, each marked as syntax or text of a kind,
/// and only then is text escaped, knowing the whole line.
struct WikiWriter {
    /// What a character is: syntax, text, a link's label or URL, monospace text (in a label or not).
    enum Kind: Equatable { case syntax, text, label, url, code, labelCode }

    struct Line {
        var cs: [Unicode.Scalar] = []
        var kinds: [Kind] = []
        /// Whether the line starts a line of the output (block syntax there must be escaped).
        var startsLine = true
        var cell = false

        mutating func add(_ s: some StringProtocol, _ kind: Kind) {
            for c in s.unicodeScalars {
                self.cs.append(c)
                self.kinds.append(kind)
            }
        }
    }

    var out = ""

    static let delimiters: [(RichMarks.Style, String)] = [
        (.strong, "*"), (.emphasis, "_"), (.strike, "-"), (.underline, "+"), (.sup, "^"), (.sub, "~"),
    ]

    mutating func blocks(_ blocks: [RichBlock], last: Bool) {
        for (n, block) in blocks.enumerated() {
            if n > 0 { self.out += "\n\n" }
            self.block(block, last: last && n == blocks.count - 1)
        }
    }

    mutating func block(_ block: RichBlock, last: Bool) {
        switch block {
        case .paragraph(let inlines): self.paragraph(inlines, last: last)
        case .heading(let level, let inlines): self.out += "h\(level). " + Self.line(inlines)
        case .list(let list): self.list(list, prefix: "")
        case .code(let language, let text):
            let safe = language.flatMap { l in
                l.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || "0123456789+#_-.".unicodeScalars.contains($0) } ? l : nil
            }
            var tag = safe.map { "code:" + $0 } ?? "noformat"
            if text.contains("{\(tag.prefix(while: { $0 != ":" }))}") { tag = tag == "noformat" ? "code" : "noformat" }
            let end = tag.hasPrefix("code") ? "{code}" : "{noformat}"
            self.out += "{\(tag)}\n" + text + "\n" + end
        case .quote(let inner):
            let flat = Self.unquoted(inner)
            if flat.count == 1, case .paragraph(let inlines) = flat[0], !inlines.contains(.hardBreak), !inlines.isEmpty {
                self.out += "bq. " + Self.line(inlines)
            } else {
                self.out += "{quote}\n"
                self.blocks(flat, last: true)
                self.out += flat.isEmpty ? "{quote}" : "\n{quote}"
            }
        case .rule: self.out += "----"
        case .table(let rows):
            self.out += rows.map { row in
                var line = Line()
                line.startsLine = false
                line.cell = true
                for cell in row {
                    line.add(cell.header ? "||" : "|", .syntax)
                    let count = line.cs.count
                    Self.inlines(Self.flattened(cell.blocks), single: true, into: &line)
                    if line.cs.count == count { line.add(" ", .text) }
                }
                line.add(row.last?.header == true ? "||" : "|", .syntax)
                return Self.escape(line)
            }.joined(separator: "\n")
        }
    }

    /// A quote's blocks with quotes inside it opened (wiki quotes do not nest).
    static func unquoted(_ blocks: [RichBlock]) -> [RichBlock] {
        blocks.flatMap { block -> [RichBlock] in
            if case .quote(let inner) = block { return self.unquoted(inner) }
            return [block]
        }
    }

    /// A paragraph: a line end for each hard break, but `\\` where a line end would leave an empty line (which
    /// would end the paragraph), except for a break that ends the document.
    mutating func paragraph(_ inlines: [RichInline], last: Bool) {
        var segments: [[RichInline]] = [[]]
        for inline in Self.split(inlines) {
            if inline == .hardBreak {
                segments.append([])
            } else {
                segments[segments.count - 1].append(inline)
            }
        }
        var lines: [Line] = [Line()]
        for (n, segment) in segments.enumerated() {
            if n > 0 {
                if segment.isEmpty, !(last && n == segments.count - 1) {
                    lines[lines.count - 1].add("\\\\", .syntax)
                } else {
                    lines.append(Line())
                }
            }
            Self.inlines(segment, single: false, into: &lines[lines.count - 1])
        }
        self.out += lines.map(Self.escape).joined(separator: "\n")
    }

    /// Inline content with adjacent runs of the same marks merged (every reader splits text at line ends).
    static func split(_ inlines: [RichInline]) -> [RichInline] { RichDocument.normalized(inlines) }

    /// Inline content on one line (a heading, list item or quote line): hard breaks as `\\`.
    static func line(_ inlines: [RichInline]) -> String {
        var line = Line()
        line.startsLine = false
        self.inlines(inlines, single: true, into: &line)
        return self.escape(line)
    }

    /// Blocks as inline content for one line: blocks apart by a hard break.
    static func flattened(_ blocks: [RichBlock]) -> [RichInline] {
        var out: [RichInline] = []
        for block in blocks {
            if !out.isEmpty { out.append(.hardBreak) }
            switch block {
            case .paragraph(let inlines), .heading(_, let inlines): out += inlines
            case .code(_, let text): out += RichDocument.inlines(lines: RichDocument.lines(text), marks: RichMarks(.code))
            case .quote(let inner): out += self.flattened(inner)
            case .list(let list): out += self.flattened(list.items.map { .paragraph([.text("- ")] + self.flattened($0)) })
            case .rule: out.append(.text("----"))
            case .table(let rows): out += self.flattened(rows.map { .paragraph(self.flattened($0.flatMap(\.blocks))) })
            }
        }
        return out
    }

    mutating func list(_ list: RichList, prefix: String) {
        let markers = prefix + (list.ordered ? "#" : "*")
        for (n, item) in list.items.enumerated() {
            if n > 0 { self.out += "\n" }
            let nested = item.compactMap { block -> RichList? in
                if case .list(let l) = block, markers.count < RichDocument.maximumDepth { return l }
                return nil
            }
            let rest = item.filter { if case .list = $0, markers.count < RichDocument.maximumDepth { false } else { true } }
            self.out += markers + " " + Self.line(Self.flattened(rest))
            for inner in nested {
                self.out += "\n"
                self.list(inner, prefix: markers)
            }
        }
    }

    // MARK: Inline content

    static func inlines(_ inlines: [RichInline], single: Bool, into line: inout Line) {
        let runs = self.split(inlines)
        var k = 0
        while k < runs.count {
            switch runs[k] {
            case .hardBreak: line.add("\\\\", .syntax)
            case .mention(let id, let text):
                if id.isEmpty {
                    line.add(text, .text)
                } else {
                    line.add("[~accountid:", .syntax)
                    line.add(id, .url)
                    line.add("]", .syntax)
                }
            case .text(let s, let marks):
                guard let url = marks.link, !url.isEmpty else {
                    self.run(s, marks.style, kind: .text, after: self.first(runs, k + 1, link: nil), into: &line)
                    break
                }
                // The runs that share the link make its label.
                var end = k
                while end + 1 < runs.count, case .text(_, let m) = runs[end + 1], m.link == url { end += 1 }
                let label = runs[k...end]
                let isURL = url.contains("://") || url.hasPrefix("mailto:")
                line.add("[", .syntax)
                if isURL, label.count == 1, s == url, marks.style.isEmpty {
                    line.add(url, .url)
                } else {
                    for j in k...end {
                        guard case .text(let t, let m) = runs[j] else { continue }
                        self.run(t, m.style, kind: .label, after: j < end ? self.first(runs, j + 1, link: url) : nil, into: &line)
                    }
                    line.add("|", .syntax)
                    line.add(url, .url)
                }
                line.add("]", .syntax)
                k = end
            }
            k += 1
        }
    }

    /// The first character of run `k` when it is text without delimiters (in the same link), else nil.
    static func first(_ runs: [RichInline], _ k: Int, link: String?) -> Unicode.Scalar? {
        guard k < runs.count, case .text(let t, let m) = runs[k], m.style.isEmpty, m.link == link || (link == nil && m.link == "") else { return nil }
        return t.unicodeScalars.first
    }

    /// A text run in its delimiters, outermost strong; the `{*}` forms where the plain ones would not be read (beside a
    /// letter or digit, or around white space at either end). `after` is the character that follows the run.
    static func run(_ s: String, _ style: RichMarks.Style, kind: Kind, after: Unicode.Scalar?, into line: inout Line) {
        let layers = self.delimiters.filter { style.contains($0.0) }.map(\.1)
        let code = style.contains(.code)
        if layers.isEmpty && !code {
            line.add(s, kind)
            return
        }
        let scalars = s.unicodeScalars
        // `[~` would start a mention, `[^` an attachment.
        let bracket = line.kinds.last == .syntax && line.cs.last == "[" && (layers.first == "~" || layers.first == "^")
        let plain =
            !bracket && !(line.cs.last.map(WikiInline.isAlphanumeric) ?? false) && !(after.map(WikiInline.isAlphanumeric) ?? false)
            && (code || !(scalars.first.map(WikiInline.isSpace) ?? true) && !(scalars.last.map(WikiInline.isSpace) ?? true))
        for layer in layers { line.add(plain ? layer : "{\(layer)}", .syntax) }
        if code {
            line.add("{{", .syntax)
            line.add(s, kind == .label ? .labelCode : .code)
            line.add("}}", .syntax)
        } else {
            line.add(s, kind)
        }
        for layer in layers.reversed() { line.add(plain ? layer : "{\(layer)}", .syntax) }
    }

    // MARK: Escaping

    /// The line with a backslash before each character of text that would read as syntax.
    static func escape(_ line: Line) -> String {
        let cs = line.cs
        let n = cs.count
        // Most lines hold no character that could be syntax: they are written as they are.
        if !cs.contains(where: Self.mayBeSyntax), line.kinds.allSatisfy({ $0 == .text }), !line.startsLine || self.blockSyntax(cs, line.kinds) == nil
        {
            var out = ""
            out.unicodeScalars.append(contentsOf: cs)
            return out
        }
        let hasSyntax = line.kinds.contains(.syntax)
        func isSpace(_ j: Int) -> Bool { WikiInline.isSpace(cs[j]) }
        func isAlphanumeric(_ j: Int) -> Bool { WikiInline.isAlphanumeric(cs[j]) }
        func opens(_ j: Int) -> Bool { (j == 0 || !isAlphanumeric(j - 1)) && j + 1 < n && !isSpace(j + 1) }
        func closes(_ j: Int) -> Bool { j > 0 && !isSpace(j - 1) && (j + 1 == n || !isAlphanumeric(j + 1)) }
        // The last position of each character that can close something.
        var lastCloser: [Unicode.Scalar: Int] = [:]
        var lastPair = -1
        for j in 0..<n {
            let c = cs[j]
            if WikiInline.delimiters[c] != nil, closes(j) { lastCloser[c] = j }
            if c == "}" || c == "]" { lastCloser[c] = j }
            if c == "!", j > 0, !isSpace(j - 1) { lastCloser[c] = j }
            if c == "?", j + 1 < n, cs[j + 1] == "?" { lastPair = j }
        }
        let blockAt = line.startsLine ? self.blockSyntax(cs, line.kinds) : nil
        // Right to left: whether a delimiter opens depends on whether the one after it is escaped.
        var escaped = [Bool](repeating: false, count: n)
        for j in stride(from: n - 1, through: 0, by: -1) {
            let c = cs[j]
            let kind = line.kinds[j]
            guard kind != .syntax else { continue }
            var escape: Bool
            switch c {
            case "&": escape = MarkdownText.entityFollows(cs, j)
            case "|": escape = line.cell || kind == .label || kind == .url || kind == .labelCode
            case "]": escape = kind == .label || kind == .url || kind == .labelCode
            case "}": escape = kind == .code || kind == .labelCode
            case _ where kind == .code || kind == .labelCode || kind == .url: escape = false
            case "{": escape = (lastCloser["}"] ?? -1) > j
            case "[": escape = (lastCloser["]"] ?? -1) > j
            case "!": escape = j + 1 < n && !isSpace(j + 1) && (lastCloser["!"] ?? -1) > j + 1
            case "?": escape = j + 1 < n && cs[j + 1] == "?" && lastPair > j + 1
            default:
                if kind == .label, c == "~" || c == "^", j > 0, line.kinds[j - 1] == .syntax, cs[j - 1] == "[" {
                    // `[~…]` would be a mention, `[^…]` an attachment.
                    escape = true
                } else if WikiInline.delimiters[c] != nil {
                    // As the reader sees it: a delimiter right before the same unescaped one does not open.
                    let opensHere = opens(j) && !(cs[j + 1] == c && !escaped[j + 1])
                    escape = hasSyntax ? opensHere || closes(j) : opensHere && (lastCloser[c] ?? -1) > j + 1
                } else {
                    escape = false
                }
            }
            escaped[j] = escape || j == blockAt
        }
        var out = ""
        out.reserveCapacity(n + 8)
        for j in 0..<n {
            let c = cs[j]
            if line.kinds[j] != .syntax, c == "\\", j + 1 < n, MarkdownText.isPunctuation(cs[j + 1]) {
                out += "&#92;"
                continue
            }
            if escaped[j] { out += "\\" }
            out.unicodeScalars.append(c)
        }
        return out
    }

    /// The ASCII characters that may take part in syntax somewhere in a line, as a bit set.
    static let syntaxMask: (UInt64, UInt64) = "\\&|[]{}!?*_-+^~#".unicodeScalars.reduce((0, 0)) { mask, c in
        c.value < 64 ? (mask.0 | 1 << c.value, mask.1) : (mask.0, mask.1 | 1 << (c.value - 64))
    }

    static func mayBeSyntax(_ c: Unicode.Scalar) -> Bool {
        c.value < 64 ? self.syntaxMask.0 & 1 << c.value != 0 : c.value < 128 && self.syntaxMask.1 & 1 << (c.value - 64) != 0
    }

    /// Where block syntax starts a line of text (`* `, `# `, `- `, `----`, `h1.`, `bq.`, `|`), after any indentation:
    /// the character to escape (the first of text in a run of list markers that begins with a delimiter).
    static func blockSyntax(_ cs: [Unicode.Scalar], _ kinds: [Kind]) -> Int? {
        var b = 0
        while b < cs.count, cs[b] == " " || cs[b] == "\t" { b += 1 }
        guard b < cs.count else { return nil }
        func at(_ j: Int) -> Unicode.Scalar? { j < cs.count ? cs[j] : nil }
        switch cs[b] {
        case "*", "#":
            var e = b
            while e < cs.count, cs[e] == "*" || cs[e] == "#" { e += 1 }
            guard e == cs.count || cs[e] == " " || cs[e] == "\t" else { return nil }
            return (b..<e).first { kinds[$0] != .syntax }
        case "-": return at(b + 1) == nil || at(b + 1) == " " || at(b + 1) == "\t" || at(b + 1) == "-" ? b : nil
        case "|": return b
        case "h": return at(b + 1).map { ("1"..."6").contains($0) } == true && at(b + 2) == "." ? b + 2 : nil
        case "b": return at(b + 1) == "q" && at(b + 2) == "." ? b + 2 : nil
        default: return nil
        }
    }
}
