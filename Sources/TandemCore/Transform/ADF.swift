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
        guard let root = try? JSONNode.parse(text, maximumDepth: JSONNode.adfMaximumDepth, replacingLoneSurrogates: true),
            root["type"] == .string("doc")
        else { return nil }
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

/// What ADF reading asks of a JSON value.
extension JSONNode {
    /// ADF nests deeper than request bodies may (each list level is four JSON levels); deeper input is not ADF.
    static let adfMaximumDepth = 512

    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// An integer, a number (truncated) or a string of digits, as Jira writes attributes.
    var int: Int? {
        switch self {
        case .int(let i): i
        case .number(let d) where d.isFinite && abs(d) < 1e15: Int(d)
        case .string(let s): Int(s)
        default: nil
        }
    }

    var array: [JSONNode] {
        if case .array(let items) = self { return items }
        return []
    }
}

// MARK: - ADF → document

enum ADFReader {
    static let inlineTypes: Set<String> = [
        "text", "hardBreak", "mention", "emoji", "inlineCard", "status", "date", "placeholder", "inlineExtension", "mediaInline",
    ]

    static func blocks(_ content: JSONNode?, depth: Int) -> [RichBlock] {
        var out: [RichBlock] = []
        var pending: [JSONNode] = []
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

    static func block(_ node: JSONNode, depth: Int) -> [RichBlock] {
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
    static func item(_ node: JSONNode, depth: Int) -> [RichBlock] {
        switch node["type"]?.string {
        case "taskItem", "decisionItem":
            var inlines = self.inlines(node["content"])
            if node["type"] == .string("taskItem") { inlines.insert(.text(node["attrs"]?["state"] == .string("DONE") ? "[x] " : "[ ] "), at: 0) }
            return [.paragraph(RichDocument.normalized(inlines))]
        case "listItem": return self.blocks(node["content"], depth: depth)
        default: return self.block(node, depth: depth)
        }
    }

    static func inlines(_ content: JSONNode?) -> [RichInline] {
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

    static func marks(_ marks: JSONNode?) -> RichMarks {
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
    static func date(_ timestamp: JSONNode?) -> String {
        guard let ms = timestamp?.int, abs(ms) < 1_000_000_000_000_000 else { return timestamp?.string ?? "" }
        let civil = CivilTime(wall: Int64(ms / 1000) - (ms < 0 && ms % 1000 != 0 ? 1 : 0))
        return LocalDate(year: civil.year, month: civil.month, day: civil.day).description
    }

    /// The text a node holds: its own text or attrs.text, then its children's.
    static func text(of node: JSONNode) -> String {
        var out = ""
        self.text(of: node, into: &out)
        return out
    }

    static func text(of node: JSONNode, into out: inout String) {
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

    /// A JSON string literal, as every JSON Tandem writes spells it.
    static func string(_ s: some StringProtocol) -> String {
        var out = ""
        JSONNode.writeString(String(s), to: &out)
        return out
    }
}
