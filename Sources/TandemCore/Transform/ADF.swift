/// Atlassian Document Format (Jira Cloud REST v3 descriptions and comments) ↔ `RichDocument`.
///
/// Reading takes the nodes Jira writes: paragraph, text (marks strong, em, strike, underline, code, subsup, link),
/// hardBreak, heading, bulletList, orderedList, listItem, codeBlock, blockquote, rule, mention, emoji, inlineCard,
/// status, date, table; task and decision lists become lists, panels and expands their content. Any other node keeps
/// its text. Writing produces only nodes the format allows where they are (no heading inside a quote or list item,
/// a list item starting with a paragraph, the code mark only beside a link), with keys in a fixed order, so the same
/// document always serializes to the same bytes.
extension RichDocument {
    /// An ADF document read; nil when the text is not JSON holding a `doc` node.
    init?(adf text: String) {
        guard let json = ADFJSONReader.parse(text), case .object(let root) = json, root["type"] == .string("doc") else { return nil }
        self.init(ADFReader.blocks(root["content"], depth: 1))
    }

    /// The document as ADF JSON: `{"type":"doc","version":1,"content":[…]}`.
    var adf: String {
        var writer = ADFWriter()
        writer.out += #"{"type":"doc","version":1,"content":["#
        writer.blocks(self.blocks, in: .document)
        writer.out += "]}"
        return writer.out
    }
}

// MARK: - JSON

/// A JSON value as ADF needs it.
enum ADFJSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([ADFJSON])
    case object([String: ADFJSON])

    subscript(key: String) -> ADFJSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var int: Int? {
        switch self {
        case .number(let d) where d.isFinite && abs(d) < 1e15: Int(d)
        case .string(let s): Int(s)
        default: nil
        }
    }

    var array: [ADFJSON] {
        if case .array(let items) = self { return items }
        return []
    }
}

/// A strict JSON parser over UTF-8 with a nesting limit: deeper input is not read (the text is then not ADF).
struct ADFJSONReader {
    static let maximumDepth = 512
    let s: [UInt8]
    var i = 0

    static func parse(_ text: String) -> ADFJSON? {
        var reader = ADFJSONReader(s: Array(text.utf8))
        reader.skipSpace()
        guard let value = reader.value(depth: 0) else { return nil }
        reader.skipSpace()
        return reader.i == reader.s.count ? value : nil
    }

    mutating func skipSpace() {
        while self.i < self.s.count, [0x20, 0x0A, 0x0D, 0x09].contains(self.s[self.i]) { self.i += 1 }
    }

    mutating func value(depth: Int) -> ADFJSON? {
        guard depth < Self.maximumDepth, self.i < self.s.count else { return nil }
        switch self.s[self.i] {
        case UInt8(ascii: "{"): return self.object(depth: depth)
        case UInt8(ascii: "["): return self.array(depth: depth)
        case UInt8(ascii: "\""): return self.string().map(ADFJSON.string)
        case UInt8(ascii: "t"): return self.literal("true", .bool(true))
        case UInt8(ascii: "f"): return self.literal("false", .bool(false))
        case UInt8(ascii: "n"): return self.literal("null", .null)
        default: return self.number()
        }
    }

    mutating func literal(_ word: String, _ value: ADFJSON) -> ADFJSON? {
        let bytes = Array(word.utf8)
        guard self.i + bytes.count <= self.s.count, self.s[self.i..<(self.i + bytes.count)].elementsEqual(bytes) else { return nil }
        self.i += bytes.count
        return value
    }

    mutating func number() -> ADFJSON? {
        let start = self.i
        while self.i < self.s.count, "+-0123456789.eE".utf8.contains(self.s[self.i]) { self.i += 1 }
        guard self.i > start, let d = Double(String(decoding: self.s[start..<self.i], as: UTF8.self)) else { return nil }
        return .number(d)
    }

    mutating func object(depth: Int) -> ADFJSON? {
        var members: [String: ADFJSON] = [:]
        let read = self.elements(until: UInt8(ascii: "}")) { reader in
            guard reader.i < reader.s.count, reader.s[reader.i] == UInt8(ascii: "\""), let key = reader.string() else { return false }
            reader.skipSpace()
            guard reader.i < reader.s.count, reader.s[reader.i] == UInt8(ascii: ":") else { return false }
            reader.i += 1
            reader.skipSpace()
            guard let value = reader.value(depth: depth + 1) else { return false }
            members[key] = value
            return true
        }
        return read ? .object(members) : nil
    }

    mutating func array(depth: Int) -> ADFJSON? {
        var items: [ADFJSON] = []
        let read = self.elements(until: UInt8(ascii: "]")) { reader in
            guard let value = reader.value(depth: depth + 1) else { return false }
            items.append(value)
            return true
        }
        return read ? .array(items) : nil
    }

    /// The elements after an opening bracket up to `close`, apart by commas, each read by `element`; false on a syntax
    /// error.
    mutating func elements(until close: UInt8, _ element: (inout ADFJSONReader) -> Bool) -> Bool {
        self.i += 1
        self.skipSpace()
        if self.i < self.s.count, self.s[self.i] == close {
            self.i += 1
            return true
        }
        while true {
            self.skipSpace()
            guard element(&self) else { return false }
            self.skipSpace()
            guard self.i < self.s.count else { return false }
            self.i += 1
            if self.s[self.i - 1] == close { return true }
            guard self.s[self.i - 1] == UInt8(ascii: ",") else { return false }
        }
    }

    /// A string at `i` (its opening quote); nil if unterminated or with a control character or bad escape.
    mutating func string() -> String? {
        self.i += 1
        var bytes: [UInt8] = []
        while self.i < self.s.count {
            let c = self.s[self.i]
            self.i += 1
            switch c {
            case UInt8(ascii: "\""): return String(decoding: bytes, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard self.i < self.s.count else { return nil }
                let e = self.s[self.i]
                self.i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(e)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    guard var code = self.hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(code), self.i + 1 < self.s.count, self.s[self.i] == UInt8(ascii: "\\"),
                        self.s[self.i + 1] == UInt8(ascii: "u")
                    {
                        let mark = self.i
                        self.i += 2
                        if let low = self.hex4(), (0xDC00..<0xE000).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            self.i = mark
                        }
                    }
                    bytes.append(contentsOf: String(Character(Unicode.Scalar(code) ?? "\u{FFFD}")).utf8)
                default: return nil
                }
            default:
                guard c >= 0x20 else { return nil }
                bytes.append(c)
            }
        }
        return nil
    }

    mutating func hex4() -> UInt32? {
        guard self.i + 4 <= self.s.count, let code = UInt32(String(decoding: self.s[self.i..<(self.i + 4)], as: UTF8.self), radix: 16)
        else { return nil }
        self.i += 4
        return code
    }
}

// MARK: - ADF → document

enum ADFReader {
    static let inlineTypes: Set<String> = [
        "text", "hardBreak", "mention", "emoji", "inlineCard", "status", "date", "placeholder", "inlineExtension", "mediaInline",
    ]

    static func blocks(_ content: ADFJSON?, depth: Int) -> [RichBlock] {
        var out: [RichBlock] = []
        var pending: [ADFJSON] = []
        // Inline nodes where blocks belong make a paragraph.
        func flush() {
            if !pending.isEmpty { out.append(.paragraph(self.inlines(.array(pending)))) }
            pending = []
        }
        for node in content?.array ?? [] {
            if let type = node["type"]?.string, self.inlineTypes.contains(type) {
                pending.append(node)
                continue
            }
            flush()
            out += self.block(node, depth: depth)
        }
        flush()
        return out
    }

    static func block(_ node: ADFJSON, depth: Int) -> [RichBlock] {
        let content = node["content"]
        let attrs = node["attrs"]
        guard depth <= RichDocument.maximumDepth else {
            let text = self.text(of: node)
            return text.isEmpty ? [] : [.paragraph(RichDocument.inlines(lines: RichDocument.lines(text)))]
        }
        switch node["type"]?.string ?? "" {
        case "paragraph": return [.paragraph(self.inlines(content))]
        case "heading": return [.heading(min(6, max(1, attrs?["level"]?.int ?? 1)), self.inlines(content))]
        case "bulletList", "orderedList", "taskList", "decisionList":
            let ordered = node["type"] == .string("orderedList")
            let start = ordered ? max(0, attrs?["order"]?.int ?? 1) : 1
            let items = (content?.array ?? []).map { self.item($0, depth: depth + 1) }
            return items.isEmpty ? [] : [.list(RichList(ordered: ordered, start: start, items: items))]
        case "codeBlock":
            let language = attrs?["language"]?.string.flatMap { $0.isEmpty ? nil : $0 }
            return [.code(language: language, text: (content?.array ?? []).map { self.text(of: $0) }.joined())]
        case "blockquote": return [.quote(self.blocks(content, depth: depth + 1))]
        case "rule": return [.rule]
        case "table":
            let rows = (content?.array ?? []).map { row in
                row["content"]?.array.map { cell in
                    RichCell(header: cell["type"] == .string("tableHeader"), blocks: self.blocks(cell["content"], depth: depth + 1))
                } ?? []
            }.filter { !$0.isEmpty }
            return rows.isEmpty ? [] : [.table(rows)]
        case "expand", "nestedExpand":
            let title = attrs?["title"]?.string ?? ""
            return (title.isEmpty ? [] : [.paragraph([.text(title, RichMarks(.strong))])]) + self.blocks(content, depth: depth + 1)
        case "blockCard", "embedCard":
            guard let url = attrs?["url"]?.string, !url.isEmpty else { return [] }
            return [.paragraph([.text(url, RichMarks(link: url))])]
        case "media":
            let text = attrs?["alt"]?.string ?? attrs?["url"]?.string ?? ""
            return text.isEmpty ? [] : [.paragraph([.text(text)])]
        default:
            // Panels, layouts, media groups and unknown nodes: their blocks, or their text as a paragraph.
            let children = content?.array ?? []
            if children.isEmpty || children.contains(where: { $0["type"]?.string.map(self.inlineTypes.contains) ?? false }) {
                let inlines = children.isEmpty ? self.inlines(.array([node])) : self.inlines(content)
                return inlines.isEmpty ? [] : [.paragraph(inlines)]
            }
            return self.blocks(content, depth: depth + 1)
        }
    }

    /// A list item's blocks; a task or decision item's inline content is a paragraph, a task's state a `[ ]` or `[x]`.
    static func item(_ node: ADFJSON, depth: Int) -> [RichBlock] {
        switch node["type"]?.string {
        case "taskItem", "decisionItem":
            var inlines = self.inlines(node["content"])
            if node["type"] == .string("taskItem") { inlines.insert(.text(node["attrs"]?["state"] == .string("DONE") ? "[x] " : "[ ] "), at: 0) }
            return [.paragraph(RichDocument.normalized(inlines))]
        case "listItem": return self.blocks(node["content"], depth: depth)
        default: return self.block(node, depth: depth)
        }
    }

    static func inlines(_ content: ADFJSON?) -> [RichInline] {
        var out: [RichInline] = []
        for node in content?.array ?? [] {
            let attrs = node["attrs"]
            switch node["type"]?.string ?? "" {
            case "text":
                let marks = self.marks(node["marks"])
                out += RichDocument.inlines(lines: RichDocument.lines(node["text"]?.string ?? ""), marks: marks)
            case "hardBreak": out.append(.hardBreak)
            case "mention":
                let id = attrs?["id"]?.string ?? ""
                let text = attrs?["text"]?.string ?? ""
                out.append(.mention(id: id, text: text.isEmpty ? "@" + id : text))
            case "emoji": out.append(.text(attrs?["text"]?.string ?? attrs?["shortName"]?.string ?? ""))
            case "inlineCard":
                if let url = attrs?["url"]?.string { out.append(.text(url, RichMarks(link: url))) }
            case "date": out.append(.text(self.date(attrs?["timestamp"])))
            default:
                out += RichDocument.inlines(lines: RichDocument.lines(self.text(of: node)))
            }
        }
        return RichDocument.normalized(out)
    }

    static func marks(_ marks: ADFJSON?) -> RichMarks {
        var out = RichMarks()
        for mark in marks?.array ?? [] {
            switch mark["type"]?.string {
            case "strong": out.style.insert(.strong)
            case "em": out.style.insert(.emphasis)
            case "strike": out.style.insert(.strike)
            case "underline": out.style.insert(.underline)
            case "code": out.style.insert(.code)
            case "subsup": out.style.insert(mark["attrs"]?["type"] == .string("sub") ? .sub : .sup)
            case "link": out.link = mark["attrs"]?["href"]?.string
            default: break
            }
        }
        return out
    }

    /// A date node's day, `YYYY-MM-DD` (its timestamp is milliseconds since 1970, UTC).
    static func date(_ timestamp: ADFJSON?) -> String {
        guard let ms = timestamp?.int, abs(ms) < 1_000_000_000_000_000 else { return timestamp?.string ?? "" }
        let civil = CivilTime(wall: Int64(ms / 1000) - (ms < 0 && ms % 1000 != 0 ? 1 : 0))
        return LocalDate(year: civil.year, month: civil.month, day: civil.day).description
    }

    /// The text a node holds: its own text or attrs.text, then its children's.
    static func text(of node: ADFJSON) -> String {
        var out = ""
        self.text(of: node, into: &out)
        return out
    }

    static func text(of node: ADFJSON, into out: inout String) {
        out += node["text"]?.string ?? node["attrs"]?["text"]?.string ?? ""
        for child in node["content"]?.array ?? [] {
            if child["type"] == .string("hardBreak") {
                out += "\n"
            } else {
                self.text(of: child, into: &out)
            }
        }
    }
}

// MARK: - Document → ADF

struct ADFWriter {
    enum Context { case document, quote, item, cell }

    var out = ""

    /// Blocks rewritten into what `context` may hold, then written.
    mutating func blocks(_ blocks: [RichBlock], in context: Context) {
        var allowed = blocks.flatMap { self.allowed($0, in: context) }
        switch context {
        case .item:
            switch allowed.first {
            case .paragraph, .code: break
            default: allowed.insert(.paragraph([]), at: 0)
            }
        case .quote, .cell: if allowed.isEmpty { allowed = [.paragraph([])] }
        case .document: break
        }
        for (n, block) in allowed.enumerated() {
            if n > 0 { self.out += "," }
            self.block(block)
        }
    }

    /// A block as blocks `context` may hold: quotes and list items hold only paragraphs, lists and code blocks, cells
    /// no tables.
    func allowed(_ block: RichBlock, in context: Context) -> [RichBlock] {
        switch (block, context) {
        case (_, .document): return [block]
        case (.table(let rows), _):
            return rows.map { row in .paragraph([.text(row.map { RichDocument.plainInline($0.blocks) }.joined(separator: " | "))]) }
        case (_, .cell): return [block]
        case (.heading(_, let inlines), _): return [.paragraph(inlines.map(Self.strong))]
        case (.quote(let inner), _): return inner.flatMap { self.allowed($0, in: context) }
        case (.rule, _): return []
        default: return [block]
        }
    }

    static func strong(_ inline: RichInline) -> RichInline {
        guard case .text(let s, var marks) = inline else { return inline }
        marks.style.insert(.strong)
        return .text(s, marks)
    }

    mutating func block(_ block: RichBlock) {
        switch block {
        case .paragraph(let inlines):
            self.out += #"{"type":"paragraph","content":["#
            self.inlines(inlines)
            self.out += "]}"
        case .heading(let level, let inlines):
            self.out += #"{"type":"heading","attrs":{"level":\#(level)},"content":["#
            self.inlines(inlines)
            self.out += "]}"
        case .list(let list):
            self.out += list.ordered ? #"{"type":"orderedList","# : #"{"type":"bulletList","#
            if list.ordered && list.start != 1 { self.out += #""attrs":{"order":\#(list.start)},"# }
            self.out += #""content":["#
            for (n, item) in list.items.enumerated() {
                self.out += n > 0 ? #",{"type":"listItem","content":["# : #"{"type":"listItem","content":["#
                self.blocks(item, in: .item)
                self.out += "]}"
            }
            self.out += "]}"
        case .code(let language, let text):
            self.out += #"{"type":"codeBlock","#
            if let language { self.out += #""attrs":{"language":\#(Self.string(language))},"# }
            self.out += text.isEmpty ? #""content":[]}"# : #""content":[{"type":"text","text":\#(Self.string(text))}]}"#
        case .quote(let inner):
            self.out += #"{"type":"blockquote","content":["#
            self.blocks(inner, in: .quote)
            self.out += "]}"
        case .rule: self.out += #"{"type":"rule"}"#
        case .table(let rows):
            self.out += #"{"type":"table","content":["#
            for (n, row) in rows.enumerated() {
                self.out += n > 0 ? #",{"type":"tableRow","content":["# : #"{"type":"tableRow","content":["#
                for (k, cell) in row.enumerated() {
                    if k > 0 { self.out += "," }
                    self.out += cell.header ? #"{"type":"tableHeader","content":["# : #"{"type":"tableCell","content":["#
                    self.blocks(cell.blocks, in: .cell)
                    self.out += "]}"
                }
                self.out += "]}"
            }
            self.out += "]}"
        }
    }

    mutating func inlines(_ inlines: [RichInline]) {
        var first = true
        func separate(_ out: inout String) {
            if !first { out += "," }
            first = false
        }
        for inline in RichDocument.normalized(inlines) {
            switch inline {
            case .hardBreak:
                separate(&self.out)
                self.out += #"{"type":"hardBreak"}"#
            case .mention(let id, let text):
                separate(&self.out)
                self.out += #"{"type":"mention","attrs":{"id":\#(Self.string(id)),"text":\#(Self.string(text))}}"#
            case .text(let s, let marks):
                // Every reader splits text at line ends, so a run holds none.
                separate(&self.out)
                self.out += #"{"type":"text","text":\#(Self.string(s))"#
                self.marks(marks)
                self.out += "}"
            }
        }
    }

    /// Marks in a fixed order; code goes only with a link (the format allows no other mark beside it).
    mutating func marks(_ marks: RichMarks) {
        var names: [String] = []
        let style = marks.style
        if style.contains(.code) {
            names.append(#"{"type":"code"}"#)
        } else {
            if style.contains(.strong) { names.append(#"{"type":"strong"}"#) }
            if style.contains(.emphasis) { names.append(#"{"type":"em"}"#) }
            if style.contains(.strike) { names.append(#"{"type":"strike"}"#) }
            if style.contains(.underline) { names.append(#"{"type":"underline"}"#) }
            if style.contains(.sup) {
                names.append(#"{"type":"subsup","attrs":{"type":"sup"}}"#)
            } else if style.contains(.sub) {
                names.append(#"{"type":"subsup","attrs":{"type":"sub"}}"#)
            }
        }
        if let link = marks.link { names.append(#"{"type":"link","attrs":{"href":\#(Self.string(link))}}"#) }
        if !names.isEmpty { self.out += #","marks":["# + names.joined(separator: ",") + "]" }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped, everything else as it is.
    static func string(_ s: some StringProtocol) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
