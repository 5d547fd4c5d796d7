import Foundation

/// A rich-text document in no markup in particular: the hub of the ADF and Jira wiki conversions.
///
/// It holds what trackers' descriptions and comments use: paragraphs with hard breaks, headings, bullet and ordered
/// lists (nested), code blocks with their language, quotes, rules, tables, and inline text with marks (strong,
/// emphasis, strike, underline, code, superscript, subscript, link) or mentions. Every reader bounds nesting at
/// `maximumDepth`, so every writer's recursion is bounded too.
struct RichDocument: Hashable, Sendable {
    var blocks: [RichBlock]

    init(_ blocks: [RichBlock] = []) { self.blocks = blocks }

    /// How deep blocks nest (a quote in a list item in a quote…); deeper content is kept as text.
    static let maximumDepth = 100
}

enum RichBlock: Hashable, Sendable {
    case paragraph([RichInline])
    case heading(Int, [RichInline])
    case list(RichList)
    case code(language: String?, text: String)
    case quote([RichBlock])
    case rule
    /// Rows of cells.
    case table([[RichCell]])
}

struct RichList: Hashable, Sendable {
    var ordered: Bool
    /// The first number of an ordered list.
    var start: Int = 1
    var items: [[RichBlock]]
}

struct RichCell: Hashable, Sendable {
    var header: Bool
    var blocks: [RichBlock]
}

enum RichInline: Hashable, Sendable {
    case text(String, RichMarks)
    case hardBreak
    /// A person: the repository's identifier (a Jira account ID or user name) and the text shown, `@Name`.
    case mention(id: String, text: String)

    static func text(_ s: String) -> RichInline { .text(s, RichMarks()) }
}

/// The formatting of a run of text.
struct RichMarks: Hashable, Sendable {
    struct Style: OptionSet, Hashable, Sendable {
        let rawValue: UInt8
        static let strong = Style(rawValue: 1)
        static let emphasis = Style(rawValue: 2)
        static let strike = Style(rawValue: 4)
        static let underline = Style(rawValue: 8)
        static let code = Style(rawValue: 16)
        static let sup = Style(rawValue: 32)
        static let sub = Style(rawValue: 64)
    }

    var style: Style = []
    var link: String?

    init(_ style: Style = [], link: String? = nil) {
        self.style = style
        self.link = link
    }
}

extension RichDocument {
    // MARK: Plain text

    /// Plain text as paragraphs: the text between two line ends in a row is a paragraph, any other line end a hard
    /// break (so `a\n\n\nb` is `a` and a paragraph that starts with a break). `plain` gives back the same text.
    /// CR LF and lone CR are line ends (`RichDocument.lines`).
    init(plain text: String) {
        var blocks: [RichBlock] = []
        let lines = Self.lines(text)
        if lines == [""] {
            self.init()
            return
        }
        var paragraph: [Substring] = []
        var open = false
        for (n, line) in lines.enumerated() {
            // An empty line that another line follows ends the open paragraph; with none open, it starts one.
            if line.isEmpty, open, n + 1 < lines.count {
                blocks.append(.paragraph(Self.inlines(lines: paragraph)))
                paragraph = []
                open = false
                continue
            }
            paragraph.append(line)
            open = true
        }
        if open { blocks.append(.paragraph(Self.inlines(lines: paragraph))) }
        self.init(blocks)
    }

    /// The lines of a text; CR LF and a lone CR end a line as LF does.
    static func lines(_ text: String) -> [Substring] {
        let normalized =
            text.utf8.contains(UInt8(ascii: "\r"))
            ? text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n") : text
        return normalized.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// Lines as text runs joined by hard breaks.
    static func inlines(lines: [Substring], marks: RichMarks = RichMarks()) -> [RichInline] {
        var out: [RichInline] = []
        for (n, line) in lines.enumerated() {
            if n > 0 { out.append(.hardBreak) }
            if !line.isEmpty { out.append(.text(String(line), marks)) }
        }
        return out
    }

    /// The document as plain text: blocks apart by a blank line, hard breaks as line ends, list items on their own
    /// lines (`- `, `1. `, indented two spaces a level), a link's URL after its text.
    var plain: String {
        var out = ""
        Self.plain(self.blocks, indent: "", into: &out)
        return out
    }

    /// Blocks apart by a blank line inside `indent` (a quote's `>` without the space, nothing for a list's
    /// indentation), each written by `write`.
    static func join(_ blocks: [RichBlock], indent: String, into out: inout String, _ write: (RichBlock, inout String) -> Void) {
        for (n, block) in blocks.enumerated() {
            if n > 0 { out += "\n" + self.blank(indent) + "\n" + indent }
            write(block, &out)
        }
    }

    /// `indent` on a blank line: without its trailing spaces.
    static func blank(_ indent: String) -> String { String(indent.reversed().drop(while: { $0 == " " }).reversed()) }

    static func plain(_ blocks: [RichBlock], indent: String, into out: inout String) {
        self.join(blocks, indent: indent, into: &out) { block, out in
            switch block {
            case .paragraph(let inlines), .heading(_, let inlines): out += self.plain(inlines, indent: indent)
            case .list(let list): self.plain(list, indent: indent, into: &out)
            case .code(_, let text): out += text.replacingOccurrences(of: "\n", with: "\n" + indent)
            case .quote(let inner):
                out += "> "
                self.plain(inner, indent: indent + "> ", into: &out)
            case .rule: out += "---"
            case .table(let rows):
                out += rows.map { row in row.map { self.plainInline($0.blocks) }.joined(separator: " | ") }.joined(separator: "\n" + indent)
            }
        }
    }

    static func plain(_ list: RichList, indent: String, into out: inout String) {
        for (n, item) in list.items.enumerated() {
            if n > 0 { out += "\n" + indent }
            let marker = list.ordered ? "\(list.start + n). " : "- "
            out += marker
            let inner = indent + "  "
            for (k, block) in item.enumerated() {
                if k > 0 { out += "\n" + inner }
                if case .list(let nested) = block {
                    self.plain(nested, indent: inner, into: &out)
                } else {
                    self.plain([block], indent: inner, into: &out)
                }
            }
        }
    }

    /// Blocks on one line each, for a table cell.
    static func plainInline(_ blocks: [RichBlock]) -> String {
        var out = ""
        self.plain(blocks, indent: "", into: &out)
        return out.replacingOccurrences(of: "\n\n", with: " ").replacingOccurrences(of: "\n", with: " ")
    }

    static func plain(_ inlines: [RichInline], indent: String) -> String {
        var out = ""
        var link: (url: String, start: String.Index)?
        func closeLink() {
            guard let (url, start) = link else { return }
            if !url.isEmpty, String(out[start...]) != url { out += " (" + url + ")" }
            link = nil
        }
        for inline in inlines {
            let url: String? = if case .text(_, let marks) = inline { marks.link } else { nil }
            if link?.url != url {
                closeLink()
                if let url { link = (url, out.endIndex) }
            }
            switch inline {
            case .text(let s, _): out += s
            case .hardBreak: out += "\n" + indent
            case .mention(_, let text): out += text
            }
        }
        closeLink()
        return out
    }

    // MARK: Normal form

    /// Adjacent text runs with the same marks merged, empty runs dropped: two documents that read the same compare
    /// equal.
    static func normalized(_ inlines: [RichInline]) -> [RichInline] {
        var out: [RichInline] = []
        out.reserveCapacity(inlines.count)
        // Runs gather in one growing string, so merging many stays linear.
        var text = ""
        var marks = RichMarks()
        func flush() {
            if !text.isEmpty { out.append(.text(text, marks)) }
            text = ""
        }
        for inline in inlines {
            guard case .text(let s, let m) = inline else {
                flush()
                out.append(inline)
                continue
            }
            if s.isEmpty { continue }
            if m != marks {
                flush()
                marks = m
            }
            text += s
        }
        flush()
        return out
    }

}
