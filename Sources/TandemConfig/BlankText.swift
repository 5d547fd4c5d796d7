extension String {
    /// Nothing but white space: what neither JSON Schema's `\S` (ECMA-262, which counts U+FEFF as space) nor Python's
    /// (which counts the separators U+001C–U+001F) matches. The API document says `pattern: "\\S"` where the server
    /// refuses blank text, and this keeps the two in agreement whichever regex engine reads the document.
    public var isBlank: Bool {
        self.unicodeScalars.allSatisfy { scalar in
            scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value) || scalar.value == 0xFEFF
                || (0x09...0x0D).contains(scalar.value) || scalar.value == 0x85
        }
    }
}
