/// Conversions between text markups: plain text, HTML, Markdown (CommonMark subset) and Textile (subset).
///
/// The subset covers what trackers put in descriptions and comments: paragraphs, line breaks, headings, bullet lists,
/// bold, italic, inline code, code blocks and links; other HTML tags are dropped and their text kept. Plain → HTML →
/// plain is lossless; plain → Markdown → plain is lossless for text without blank lines.
public enum Markup {
    /// Converts `text` written in `from` into `to`.
    public static func convert(_ text: String, from: TextMarkup, to: TextMarkup) -> String {
        if from == to { return text }
        let html: String
        switch from {
        case .html: html = text
        case .plain: if to == .markdown { return Dialect.markdown.escape(text) } else { html = self.plainToHTML(text) }
        case .markdown: html = self.lightToHTML(text, .markdown)
        case .textile: html = self.lightToHTML(text, .textile)
        }
        switch to {
        case .html: return html
        case .plain: return self.render(html, .plain)
        case .markdown: return self.render(html, .markdown)
        case .textile: return self.render(html, .textile)
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

    // MARK: Light markups → HTML

    /// Markdown or Textile → HTML, block by block.
    static func lightToHTML(_ text: String, _ dialect: Dialect) -> String {
        var out = ""
        var paragraph: [Substring] = []
        var inList = false
        var fence: [Substring]?
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
                    out += "<pre><code>" + self.escapeHTML(Substring(code.joined(separator: "\n"))) + "</code></pre>"
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
        if let code = fence { out += "<pre><code>" + self.escapeHTML(Substring(code.joined(separator: "\n"))) + "</code></pre>" }
        flush()
        // A single paragraph stays inline, as trackers store one-line descriptions.
        if out.hasPrefix("<p>"), out.hasSuffix("</p>"), out.utf8.count > 7, !out.dropFirst(3).contains("<p>") {
            return String(out.dropFirst(3).dropLast(4))
        }
        return out
    }

    /// Inline syntax → HTML: escapes, bold, italic, code, links.
    static func inlineToHTML(_ text: Substring, _ dialect: Dialect) -> String {
        var out = ""
        var i = text.startIndex
        var open: [String] = []
        while i < text.endIndex {
            let c = text[i]
            if c == "\\", dialect.usesBackslash, text.index(after: i) < text.endIndex {
                out += self.escapeHTML(text[text.index(after: i)...text.index(after: i)])
                i = text.index(i, offsetBy: 2)
                continue
            }
            if let (tag, length) = dialect.delimiter(text, at: i) {
                let after = text.index(i, offsetBy: length)
                if tag == "code" {
                    let close = text[after...].firstIndex(of: text[i]) ?? text.endIndex
                    if close < text.endIndex {
                        out += "<code>" + self.escapeHTML(text[after..<close]) + "</code>"
                        i = text.index(after: close)
                        continue
                    }
                } else if open.last == tag {
                    out += "</\(tag)>"
                    open.removeLast()
                    i = after
                    continue
                } else if !open.contains(tag), text[after...].firstRange(of: text[i..<after]) != nil {
                    out += "<\(tag)>"
                    open.append(tag)
                    i = after
                    continue
                }
            }
            if let (label, url, end) = dialect.link(text, at: i) {
                out += "<a href=\"\(self.escapeHTML(url))\">\(self.inlineToHTML(label, dialect))</a>"
                i = end
                continue
            }
            out += self.escapeHTML(text[i...i])
            i = text.index(after: i)
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
                    emit(dialect.fence.isEmpty ? "" : dialect.fence + "\n")
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

    /// An inline delimiter at `i`: the HTML tag it stands for and its length.
    func delimiter(_ text: Substring, at i: Substring.Index) -> (String, Int)? {
        let rest = text[i...]
        switch self.kind {
        case .markdown:
            if rest.hasPrefix("**") { return ("strong", 2) }
            if rest.hasPrefix("*") || rest.hasPrefix("_") { return ("em", 1) }
            if rest.hasPrefix("`") { return ("code", 1) }
        case .textile:
            if rest.hasPrefix("*") { return ("strong", 1) }
            if rest.hasPrefix("_") { return ("em", 1) }
            if rest.hasPrefix("@") { return ("code", 1) }
        default: break
        }
        return nil
    }

    /// A link at `i`: `[label](url)` in Markdown, `"label":url` in Textile.
    func link(_ text: Substring, at i: Substring.Index) -> (Substring, String, Substring.Index)? {
        switch self.kind {
        case .markdown:
            guard text[i] == "[", let close = text[i...].firstIndex(of: "]") else { return nil }
            let paren = text.index(after: close)
            guard paren < text.endIndex, text[paren] == "(", let end = text[paren...].firstIndex(of: ")") else { return nil }
            return (text[text.index(after: i)..<close], String(text[text.index(after: paren)..<end]), text.index(after: end))
        case .textile:
            guard text[i] == "\"", let close = text[text.index(after: i)...].firstIndex(of: "\"") else { return nil }
            let colon = text.index(after: close)
            guard colon < text.endIndex, text[colon] == ":" else { return nil }
            let urlStart = text.index(after: colon)
            let end = text[urlStart...].firstIndex(where: { $0 == " " }) ?? text.endIndex
            guard urlStart < end else { return nil }
            return (text[text.index(after: i)..<close], String(text[urlStart..<end]), end)
        default:
            return nil
        }
    }
}
