extension Unicode.Scalar {
    /// Characters that change how a terminal or a page shows text rather than being text: the C0 and C1 controls and
    /// DEL (ESC starts terminal sequences, CR rewrites a line), the bidirectional marks, embeddings, overrides and
    /// isolates (they reorder what follows them: "Trojan Source", CVE-2021-42574), and the line and paragraph
    /// separators.
    var isDisplayControl: Bool {
        switch self.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0x2028, 0x2029: true
        default: false
        }
    }

    /// The bidirectional embeddings, overrides and isolates, which a configuration file may not contain anywhere.
    var isBidiOverride: Bool { (0x202A...0x202E).contains(self.value) || (0x2066...0x2069).contains(self.value) }

    /// `U+001B`: how messages name a character.
    var codePoint: String {
        let hex = String(self.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}

extension String {
    /// The text as it may be shown in a message, a log line or a terminal: display controls written as `\u{1B}`
    /// escapes instead of acting, and at most `limit` characters (then `…`).
    public func escapedForDisplay(limit: Int = 200) -> String {
        var result = ""
        var count = 0
        for scalar in self.unicodeScalars {
            if count >= limit {
                result += "…"
                break
            }
            if scalar.isDisplayControl {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return result
    }

    /// The first display control in the text, if any (see `Unicode.Scalar.isDisplayControl`).
    var firstDisplayControl: Unicode.Scalar? { self.unicodeScalars.first { $0.isDisplayControl } }
}
