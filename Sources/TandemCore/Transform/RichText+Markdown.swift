import Foundation

/// `RichDocument` → Markdown, as GitHub and GitLab render it and as `Markup` reads it back: a line end for each hard
/// break, `- ` and `1. ` lists indented under their item, fenced code with its language, `> ` quotes, `---` rules,
/// pipe tables, `**strong**`, `*emphasis*`, `~~strike~~`, `` `code` `` and `[text](url)`. Underline, superscript and
/// subscript have no Markdown: their text stays. Text is escaped as `Markup` escapes Markdown.
extension RichDocument {
    var markdown: String {
        var out = ""
        Self.markdown(self.blocks, indent: "", into: &out)
        return out
    }

    static func markdown(_ blocks: [RichBlock], indent: String, into out: inout String) {
        self.join(blocks, indent: indent, into: &out) { self.markdown($0, indent: indent, into: &$1) }
    }

    static func markdown(_ block: RichBlock, indent: String, into out: inout String) {
        switch block {
        case .paragraph(let inlines): out += self.markdown(inlines, indent: indent)
        case .heading(let level, let inlines):
            out += String(repeating: "#", count: level) + " " + self.markdown(inlines.map { $0 == .hardBreak ? .text(" ") : $0 }, indent: indent)
        case .list(let list):
            for (n, item) in list.items.enumerated() {
                if n > 0 { out += "\n" + indent }
                let marker = list.ordered ? "\(list.start + n). " : "- "
                out += marker
                let inner = indent + String(repeating: " ", count: marker.count)
                for (k, block) in item.enumerated() {
                    if k > 0 {
                        if case .list = block { out += "\n" + inner } else { out += "\n" + self.blank(inner) + "\n" + inner }
                    }
                    self.markdown(block, indent: inner, into: &out)
                }
            }
        case .code(let language, let text):
            let info = (language ?? "").filter { !$0.isWhitespace && $0 != "`" }
            out += "```" + info + "\n" + indent + text.replacingOccurrences(of: "\n", with: "\n" + indent) + "\n" + indent + "```"
        case .quote(let inner):
            out += "> "
            self.markdown(inner, indent: indent + "> ", into: &out)
        case .rule: out += "---"
        case .table(let rows):
            let width = rows.map(\.count).max() ?? 0
            func row(_ cells: [RichCell]) -> String {
                "| "
                    + (0..<width).map {
                        $0 < cells.count ? Dialect.markdown.escape(self.plainInline(cells[$0].blocks)).replacingOccurrences(of: "|", with: "\\|") : ""
                    }
                    .joined(separator: " | ") + " |"
            }
            out += rows.enumerated().map { n, cells in
                n == 0 ? row(cells) + "\n" + indent + "|" + String(repeating: " --- |", count: width) : row(cells)
            }.joined(separator: "\n" + indent)
        }
    }

    static let markdownDelimiters: [(RichMarks.Style, String)] = [(.strong, "**"), (.emphasis, "*"), (.strike, "~~")]

    /// Inline content; emphasis and links close before a line end (`Markup` reads Markdown emphasis within a line).
    static func markdown(_ inlines: [RichInline], indent: String) -> String {
        var out = ""
        var open: [(RichMarks.Style, String)] = []
        var link: String?
        func close(from k: Int) {
            guard k < open.count else { return }
            for (_, delimiter) in open[k...].reversed() { out += delimiter }
            open.removeSubrange(k...)
        }
        func closeLink() {
            close(from: 0)
            if let url = link { out += "](" + url.replacingOccurrences(of: ")", with: "%29").replacingOccurrences(of: " ", with: "%20") + ")" }
            link = nil
        }
        for inline in self.normalized(inlines) {
            guard case .text(let s, let marks) = inline else {
                closeLink()
                switch inline {
                case .mention(_, let text): out += Dialect.markdown.escape(text)
                default: out += "\n" + indent
                }
                continue
            }
            if marks.link != link {
                closeLink()
                if let url = marks.link {
                    out += "["
                    link = url
                }
            }
            if let k = open.firstIndex(where: { !marks.style.contains($0.0) }) { close(from: k) }
            for (style, delimiter) in self.markdownDelimiters where marks.style.contains(style) && !open.contains(where: { $0.0 == style }) {
                out += delimiter
                open.append((style, delimiter))
            }
            out += marks.style.contains(.code) ? "`" + s + "`" : Dialect.markdown.escape(s)
        }
        closeLink()
        return out
    }
}
