import Foundation

/// Plain text ↔ Markdown (CommonMark, as Redmine, GitHub and GitLab store it), line by line and byte-faithful.
///
/// Plain → Markdown escapes only what Markdown would otherwise read as syntax (a `*` that could start emphasis, a `#`
/// that would make a heading, `&copy;` that would become ©, a `<b>` that would become a tag), so `Tom & Jerry say
/// 2 < 3` is stored as it is, with its line ends and trailing whitespace. Markdown → plain removes the syntax and keeps
/// the text, line ends and whitespace: `**bold**` reads `bold`, `[docs](https://x)` reads `docs (https://x)`, a fenced
/// code block keeps its lines. Plain → Markdown → plain gives back the same text, whatever it holds.
enum MarkdownText {
    // MARK: Plain → Markdown

    /// Plain text as Markdown that reads (and renders) as the same text.
    static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { Self.mayNeedEscape.contains($0) }) || Self.startsBlock(text) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        var first = true
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if !first { out += "\n" }
            first = false
            self.escapeLine(Array(line.unicodeScalars), into: &out)
        }
        return out
    }

    /// Scalars that can start inline or block syntax somewhere.
    static let mayNeedEscape: Set<Unicode.Scalar> = [
        "\\", "*", "_", "`", "[", "]", "<", "&", "#", ">", "-", "+", "=", "~", "|", ".", ")", "!",
    ]

    static func startsBlock(_ text: String) -> Bool {
        text.unicodeScalars.first.map { ("0"..."9").contains($0) } ?? false
    }

    static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
        c.isASCII && (("!"..."/").contains(c) || (":"..."@").contains(c) || ("["..."`").contains(c) || ("{"..."~").contains(c))
    }

    static func isAlphanumeric(_ c: Unicode.Scalar) -> Bool { c.properties.isAlphabetic || c.properties.numericType != nil }

    static func escapeLine(_ s: [Unicode.Scalar], into out: inout String) {
        // Block syntax at the start of the line (after up to three spaces): headings, quotes, lists, rules, fences,
        // setext underlines, ordered-list numbers. A backslash before the marker keeps it text.
        var i = 0
        while i < s.count, i < 3, s[i] == " " { i += 1 }
        for k in 0..<i { out.unicodeScalars.append(s[k]) }
        var escapeAt: Int?
        if i < s.count {
            let c = s[i]
            let next: Unicode.Scalar? = i + 1 < s.count ? s[i + 1] : nil
            switch c {
            case "#", ">", "=": escapeAt = i
            case "-", "+", "*": if next == nil || next == " " || next == "\t" || next == c { escapeAt = i }
            case "`", "~": if next == c { escapeAt = i }
            case "0"..."9":
                var j = i
                while j < s.count, ("0"..."9").contains(s[j]) { j += 1 }
                if j < s.count, s[j] == "." || s[j] == ")", j + 1 == s.count || s[j + 1] == " " || s[j + 1] == "\t" { escapeAt = j }
            default: break
            }
        }
        // Inline syntax.
        let hasLinkTail = Self.contains(s, "](") || Self.contains(s, "][") || Self.contains(s, "]:")
        // Strikethrough (GitHub, GitLab, Redmine's CommonMark) pairs tildes, one or two.
        let tildes = s.lazy.filter { $0 == "~" }.count
        var k = i
        while k < s.count {
            let c = s[k]
            let prev: Unicode.Scalar? = k > 0 ? s[k - 1] : nil
            let next: Unicode.Scalar? = k + 1 < s.count ? s[k + 1] : nil
            var escape = k == escapeAt
            switch c {
            case "\\": escape = next == nil || Self.isPunctuation(next!)
            case "*", "`": escape = true
            case "_":
                // Intraword underscores are text in CommonMark (snake_case stays as it is).
                escape = !(prev.map(Self.isAlphanumeric) ?? false) || !(next.map(Self.isAlphanumeric) ?? false)
            case "~": escape = escape || tildes > 1
            case "[": escape = hasLinkTail
            case "!": escape = next == "[" && hasLinkTail
            case "<": escape = next.map { $0.properties.isAlphabetic || $0 == "/" || $0 == "!" || $0 == "?" } ?? false
            case "&": escape = Self.entityFollows(s, k)
            default: break
            }
            if escape { out += "\\" }
            out.unicodeScalars.append(c)
            k += 1
        }
    }

    static func contains(_ s: [Unicode.Scalar], _ pattern: String) -> Bool {
        let p = Array(pattern.unicodeScalars)
        guard s.count >= p.count else { return false }
        for start in 0...(s.count - p.count) where s[start] == p[0] && s[start..<(start + p.count)].elementsEqual(p) { return true }
        return false
    }

    /// Whether `&` at `k` starts an entity reference (`&amp;`, `&#38;`, `&#x26;`) that Markdown would decode.
    static func entityFollows(_ s: [Unicode.Scalar], _ k: Int) -> Bool {
        var j = k + 1
        if j < s.count, s[j] == "#" {
            j += 1
            if j < s.count, s[j] == "x" || s[j] == "X" { j += 1 }
        }
        let start = j
        while j < s.count, j - start < 32, s[j].isASCII, s[j].properties.isAlphabetic || ("0"..."9").contains(s[j]) { j += 1 }
        return j > start && j < s.count && s[j] == ";"
    }

    // MARK: Markdown → plain

    /// Markdown as the plain text it reads as: syntax removed, text, line ends and whitespace kept.
    static func plain(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var fence: Substring?
        var first = true
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop(while: { $0 == " " })
            if let open = fence {
                if trimmed.hasPrefix(open), trimmed.dropFirst(open.count).allSatisfy({ $0 == open.first || $0 == " " }) {
                    fence = nil
                    continue
                }
                if !first { out += "\n" }
                first = false
                out += line
                continue
            }
            if line.count - trimmed.count < 4, let marker = Self.fenceMarker(trimmed) {
                fence = marker
                continue
            }
            if !first { out += "\n" }
            first = false
            out += self.plainLine(Array(line.unicodeScalars))
        }
        return out
    }

    static func fenceMarker(_ line: Substring) -> Substring? {
        for c: Character in ["`", "~"] {
            let run = line.prefix(while: { $0 == c })
            if run.count >= 3 { return run }
        }
        return nil
    }

    static func plainLine(_ s: [Unicode.Scalar]) -> String {
        var out = ""
        var i = 0
        // Leading indentation is kept; a heading's hashes go.
        while i < s.count, i < 3, s[i] == " " {
            out.unicodeScalars.append(s[i])
            i += 1
        }
        var hashes = 0
        while i + hashes < s.count, s[i + hashes] == "#" { hashes += 1 }
        if (1...6).contains(hashes), i + hashes == s.count || s[i + hashes] == " " {
            i += hashes
            while i < s.count, s[i] == " " { i += 1 }
            var end = s.count
            while end > i, s[end - 1] == "#" || s[end - 1] == " " { end -= 1 }
            if end < s.count, end > i { return out + self.inline(Array(s[i..<end])) }
        }
        return out + self.inline(Array(s[i...]))
    }

    /// Inline Markdown → text: backslash escapes, emphasis, code spans, links, autolinks, entities.
    static func inline(_ s: [Unicode.Scalar]) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            let c = s[i]
            let next: Unicode.Scalar? = i + 1 < s.count ? s[i + 1] : nil
            if c == "\\", let n = next, Self.isPunctuation(n) {
                out.unicodeScalars.append(n)
                i += 2
                continue
            }
            if c == "`" {
                var run = 0
                while i + run < s.count, s[i + run] == "`" { run += 1 }
                if let close = Self.findRun("`", run, in: s, from: i + run) {
                    out.unicodeScalars.append(contentsOf: s[(i + run)..<close])
                    i = close + run
                    continue
                }
                out.unicodeScalars.append(contentsOf: s[i..<(i + run)])
                i += run
                continue
            }
            if c == "*" || c == "_" || c == "~" {
                var run = 0
                while i + run < s.count, s[i + run] == c { run += 1 }
                let opens = i + run < s.count && s[i + run] != " "
                let intraword = c == "_" && i > 0 && Self.isAlphanumeric(s[i - 1])
                if opens, !intraword, c != "~" || run <= 2, let close = Self.findRun(c, run, in: s, from: i + run), close > i + run,
                    s[close - 1] != " "
                {
                    out += self.inline(Array(s[(i + run)..<close]))
                    i = close + run
                    continue
                }
                out.unicodeScalars.append(contentsOf: s[i..<(i + run)])
                i += run
                continue
            }
            if c == "[" || (c == "!" && next == "["), let (label, url, end) = Self.link(s, at: c == "!" ? i + 1 : i) {
                let text = self.inline(label)
                out += text
                if !url.isEmpty, url != text { out += " (" + url + ")" }
                i = end
                continue
            }
            if c == "<", let close = s[(i + 1)...].firstIndex(of: ">") {
                let inner = String(String.UnicodeScalarView(s[(i + 1)..<close]))
                if inner.contains("://") || inner.hasPrefix("mailto:") || (inner.contains("@") && !inner.contains(" ")) {
                    out += inner
                    i = close + 1
                    continue
                }
            }
            if c == "&", Self.entityFollows(s, i), let semicolon = s[i...].firstIndex(of: ";"),
                let decoded = Markup.entity(Substring(String(String.UnicodeScalarView(s[(i + 1)..<semicolon]))))
            {
                out.append(decoded)
                i = semicolon + 1
                continue
            }
            out.unicodeScalars.append(c)
            i += 1
        }
        return out
    }

    /// The index of the next run of exactly `count` `c` at or after `from` that is not escaped.
    static func findRun(_ c: Unicode.Scalar, _ count: Int, in s: [Unicode.Scalar], from: Int) -> Int? {
        var k = from
        while k < s.count {
            if s[k] == "\\", c != "`" {
                k += 2
                continue
            }
            if s[k] == c {
                var run = 0
                while k + run < s.count, s[k + run] == c { run += 1 }
                if run == count { return k }
                k += run
                continue
            }
            k += 1
        }
        return nil
    }

    /// `[label](url)` at `i`: the label, the URL (without a title) and the index after it.
    static func link(_ s: [Unicode.Scalar], at i: Int) -> ([Unicode.Scalar], String, Int)? {
        guard i < s.count, s[i] == "[" else { return nil }
        var depth = 0
        var k = i
        var close: Int?
        while k < s.count {
            if s[k] == "\\" {
                k += 2
                continue
            }
            if s[k] == "[" { depth += 1 }
            if s[k] == "]" {
                depth -= 1
                if depth == 0 {
                    close = k
                    break
                }
            }
            k += 1
        }
        guard let close, close + 1 < s.count, s[close + 1] == "(", let end = s[(close + 2)...].firstIndex(of: ")") else { return nil }
        var url = String(String.UnicodeScalarView(s[(close + 2)..<end])).trimmingCharacters(in: .whitespaces)
        if let space = url.firstIndex(of: " ") { url = String(url[..<space]) }
        if url.hasPrefix("<"), url.hasSuffix(">") { url = String(url.dropFirst().dropLast()) }
        return (Array(s[(i + 1)..<close]), url, end + 1)
    }
}
