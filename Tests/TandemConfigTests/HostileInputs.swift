import Foundation
import TandemConfig

/// One hostile configuration file: its bytes, and what its refusal must say and where.
struct HostileInput: Sendable, CustomStringConvertible {
    var name: String
    var bytes: @Sendable () -> [UInt8]
    /// Part of the first issue's reason.
    var reason: String
    /// The first issue's line, when the case pins it (every refusal names a line).
    var line: Int?
    var description: String { self.name }
}

/// A valid file to build on: a repository and a model, so that a hostile part is the only problem.
let hostileBase = """
    version: 1
    repositories:
      - name: r
        type: memory
        url: http://r.invalid
    models:
      - name: M
        fields:
          - name: title
            type: string

    """

func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

/// `hostileBase` with `bytes` inserted right after `marker`: a file that is complete but for them.
func withBytes(_ bytes: [UInt8], after marker: String) -> [UInt8] {
    let parts = hostileBase.components(separatedBy: marker)
    return utf8(parts[0] + marker) + bytes + utf8(parts.dropFirst().joined(separator: marker))
}

/// `levels` anchors, each a list of `width` aliases to the one before: width^levels values from a few hundred bytes.
func aliasBomb(levels: Int, width: Int) -> String {
    var text = "version: 1\nbomb:\n  - &l0 lol\n"
    for level in 1...levels {
        let aliases = Array(repeating: "*l\(level - 1)", count: width).joined(separator: ", ")
        text += "  - &l\(level) [\(aliases)]\n"
    }
    return text
}

/// The files of issue 14 and their kin: alias and size bombs, malformed text, YAML features a configuration has no
/// use for, values the database cannot hold, credentials where they would be shown. Each must be refused with the
/// file, a line and a reason, without building what it describes.
let hostileInputs: [HostileInput] = [
    // Aliases.
    HostileInput(
        name: "billion laughs (10^9 from nine levels of ten)", bytes: { utf8(aliasBomb(levels: 9, width: 10)) }, reason: "values, lists and mappings",
        line: 9),
    HostileInput(
        name: "1,000 x 1,000 x 1,000 aliases (issue 14's 17 KB file)",
        bytes: {
            let first = (0..<1000).map { "x\($0)" }.joined(separator: ", ")
            let second = Array(repeating: "*a", count: 1000).joined(separator: ", ")
            let third = Array(repeating: "*b", count: 1000).joined(separator: ", ")
            return utf8("version: 1\na: &a [\(first)]\nb: &b [\(second)]\nc: [\(third)]\n")
        }, reason: "more than 100 aliases", line: 3),
    HostileInput(
        name: "many aliases of one scalar",
        bytes: { utf8(hostileBase + "x: &s v\ny: [" + Array(repeating: "*s", count: 101).joined(separator: ", ") + "]\n") },
        reason: "more than 100 aliases", line: 12),
    HostileInput(
        name: "one large anchor aliased many times",
        bytes: {
            let items = (0..<100_000).map { "\($0)" }.joined(separator: ",")
            return utf8("version: 1\nbig: &big [\(items)]\nuse: [" + Array(repeating: "*big", count: 20).joined(separator: ", ") + "]\n")
        }, reason: "values, lists and mappings", line: 3),
    HostileInput(name: "recursive alias", bytes: { utf8("version: 1\nloop: &x [a, *x]\n") }, reason: "recursive alias", line: 2),
    HostileInput(name: "undefined alias", bytes: { utf8(hostileBase + "settings: *nowhere\n") }, reason: "refers to no anchor", line: 11),
    HostileInput(
        name: "an alias bomb as a complex key (hashed by the composer)",
        bytes: {
            // 60 x 20 x 20 x 1,000 values to hash, from 100 aliases: 420,000 nodes before the key, within the limits.
            let levels =
                ["a: &a [" + (0..<1000).map { "x\($0)" }.joined(separator: ", ") + "]"]
                + zip(["b", "c"], ["a", "b"]).map { "\($0): &\($0) [" + Array(repeating: "*\($1)", count: 20).joined(separator: ", ") + "]" }
            return utf8(
                "version: 1\n" + levels.joined(separator: "\n") + "\n? [" + Array(repeating: "*c", count: 60).joined(separator: ", ") + "]\n: 1\n")
        }, reason: "keys must be plain text", line: 5),
    HostileInput(name: "alias as a key", bytes: { utf8("version: 1\nk: &k name\n*k : value\n") }, reason: "keys must be plain text", line: 3),
    HostileInput(
        name: "merge key onto an anchor",
        bytes: { utf8(hostileBase + "base: &base {name: x}\nrepositories2:\n  <<: *base\n") }, reason: "merge keys", line: 13),
    HostileInput(
        name: "merge key with a mapping", bytes: { utf8("version: 1\nsettings:\n  <<: {fullScanEnabled: false}\n") }, reason: "merge keys", line: 3),
    // Nesting and sizes.
    HostileInput(
        name: "deep flow nesting",
        bytes: { utf8("version: 1\nx: " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "\n") },
        reason: "deeper than 64", line: 2),
    HostileInput(
        name: "deep block nesting",
        bytes: {
            utf8(
                "version: 1\n" + (0..<100).map { String(repeating: "  ", count: $0) + "k\($0):\n" }.joined() + String(repeating: "  ", count: 100)
                    + "v: 1\n")
        },
        reason: "deeper than 64", line: 66),
    HostileInput(
        name: "ten thousand levels of nesting",
        bytes: { utf8("x: " + String(repeating: "{a: ", count: 10_000) + "1" + String(repeating: "}", count: 10_000)) },
        reason: "deeper than 64", line: 1),
    HostileInput(
        name: "alias that nests too deep",
        bytes: {
            let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
            return utf8("version: 1\nd: &d \(deep)\ne: " + String(repeating: "[", count: 30) + "*d" + String(repeating: "]", count: 30) + "\n")
        }, reason: "deeper than 64", line: 3),
    HostileInput(
        name: "huge plain scalar", bytes: { utf8(hostileBase + "settings:\n  fullScanInterval: " + String(repeating: "9", count: 100_000) + "\n") },
        reason: "values may have at most 65536 bytes", line: 12),
    HostileInput(
        name: "huge literal block", bytes: { utf8("version: 1\nnote: |\n" + String(repeating: "  line of text\n", count: 10_000)) },
        reason: "values may have at most 65536 bytes", line: 2),
    HostileInput(
        name: "huge quoted scalar", bytes: { utf8("version: 1\nnote: \"" + String(repeating: "\\u0041", count: 70_000) + "\"\n") },
        reason: "values may have at most 65536 bytes", line: 2),
    HostileInput(
        name: "very long line (a 200 KB key)", bytes: { utf8("version: 1\n" + String(repeating: "k", count: 200_000) + ": 1\n") },
        reason: "YAML syntax error", line: 2),
    HostileInput(
        name: "very long line (a 200 KB flow list of names)",
        bytes: {
            utf8(
                hostileBase.replacingOccurrences(
                    of: "type: string",
                    with: "type: single-select\n        values: [" + (0..<20_000).map { "value\($0)" }.joined(separator: ", ") + ", "
                        + String(repeating: "x", count: 300) + "]"))
        },
        reason: "at most 255", line: 11),
    HostileInput(
        name: "huge sequence", bytes: { utf8("version: 1\nlist: [" + String(repeating: "0,", count: 600_000) + "0]\n") },
        reason: "values, lists and mappings", line: 2),
    HostileInput(
        name: "huge file", bytes: { utf8("version: 1\n" + String(repeating: "# padding padding padding padding padding padding\n", count: 180_000)) },
        reason: "larger than 8388608 bytes"),
    HostileInput(
        name: "a million documents", bytes: { utf8(String(repeating: "---\nversion: 1\n", count: 1_000_000 / 15)) },
        reason: "one YAML document", line: 3),
    HostileInput(name: "two documents", bytes: { utf8(hostileBase + "...\n---\nversion: 1\n") }, reason: "one YAML document", line: 12),
    // Text.
    HostileInput(name: "invalid UTF-8 byte in a name", bytes: { withBytes([0xFF], after: "name: r") }, reason: "invalid UTF-8", line: 3),
    HostileInput(name: "truncated UTF-8 character", bytes: { utf8(hostileBase + "# caf") + [0xC3] }, reason: "ends inside a character", line: 11),
    HostileInput(name: "overlong UTF-8 encoding", bytes: { withBytes([0xC0, 0xAF], after: "name: title") }, reason: "invalid UTF-8", line: 9),
    HostileInput(name: "UTF-8-encoded surrogate", bytes: { withBytes([0xED, 0xA0, 0x80], after: "name: M") }, reason: "invalid UTF-8", line: 7),
    HostileInput(
        name: "UTF-16 file", bytes: { [0xFF, 0xFE] + Array("version: 1\n".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }) },
        reason: "invalid UTF-8", line: 1),
    HostileInput(
        name: "binary garbage", bytes: { (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) } }, reason: "U+0000", line: 1),
    HostileInput(name: "NUL byte in a name", bytes: { withBytes([0x00], after: "name: r") }, reason: "U+0000", line: 3),
    HostileInput(
        name: "NUL escape in a name", bytes: { utf8(hostileBase.replacingOccurrences(of: "name: r\n", with: "name: \"r\\0x\"\n")) }, reason: "NUL",
        line: 3),
    HostileInput(
        name: "raw ESC in a name", bytes: { utf8(hostileBase.replacingOccurrences(of: "name: r\n", with: "name: r\u{1B}[2J\n")) }, reason: "U+001B",
        line: 3),
    HostileInput(
        name: "ESC escape in a name", bytes: { utf8(hostileBase.replacingOccurrences(of: "name: r\n", with: "name: \"\\e[31mr\"\n")) },
        reason: "U+001B",
        line: 3),
    HostileInput(
        name: "CR escape in a name", bytes: { utf8(hostileBase.replacingOccurrences(of: "name: M\n", with: "name: \"M\\rX\"\n")) }, reason: "U+000D",
        line: 7),
    HostileInput(
        name: "raw bidi override in a name", bytes: { utf8(hostileBase.replacingOccurrences(of: "name: title", with: "name: ti\u{202E}eltt")) },
        reason: "U+202E", line: 9),
    HostileInput(
        name: "bidi isolate escape in a name", bytes: { utf8(hostileBase.replacingOccurrences(of: "name: title", with: "name: \"ti\\u2066tle\"")) },
        reason: "U+2066", line: 9),
    HostileInput(
        name: "raw C1 control", bytes: { utf8(hostileBase.replacingOccurrences(of: "name: r\n", with: "name: r\u{9B}31m\n")) }, reason: "U+009B",
        line: 3),
    HostileInput(
        name: "raw DEL", bytes: { utf8(hostileBase.replacingOccurrences(of: "name: r\n", with: "name: r\u{7F}\n")) }, reason: "U+007F", line: 3),
    HostileInput(
        name: "control character in a free-form key",
        bytes: {
            utf8(hostileBase.replacingOccurrences(of: "url: http://r.invalid\n", with: "url: http://r.invalid\n    options:\n      \"a\\eb\": x\n"))
        },
        reason: "U+001B", line: 7),
    // Numbers and durations the database cannot hold.
    HostileInput(
        name: "integer beyond 64 bits",
        bytes: {
            utf8(
                hostileBase.replacingOccurrences(
                    of: "url: http://r.invalid\n", with: "url: http://r.invalid\n    concurrencyLimit: 99999999999999999999999999\n"))
        },
        reason: "out of range", line: 6),
    HostileInput(
        name: "negative interval", bytes: { utf8(hostileBase + "settings:\n  changeDetectionInterval: -5m\n") }, reason: "not a duration", line: 12),
    HostileInput(
        name: "interval beyond the database's integer", bytes: { utf8(hostileBase + "settings:\n  fullScanInterval: 2147483648s\n") },
        reason: "at most 2147483647s", line: 12),
    HostileInput(
        name: "interval beyond 64 bits", bytes: { utf8(hostileBase + "settings:\n  fullScanInterval: 99999999999999999999d\n") },
        reason: "at most 2147483647s", line: 12),
    HostileInput(
        name: "a name of 100 KB",
        bytes: { utf8(hostileBase.replacingOccurrences(of: "name: M\n", with: "name: \(String(repeating: "M", count: 100_000))\n")) },
        reason: "at most 65536 bytes", line: 7),
    HostileInput(
        name: "a name of 300 characters",
        bytes: { utf8(hostileBase.replacingOccurrences(of: "name: M\n", with: "name: \(String(repeating: "é", count: 300))\n")) },
        reason: "at most 255", line: 7),
    // Keys and YAML features.
    HostileInput(name: "duplicate top-level key", bytes: { utf8(hostileBase + "version: 2\n") }, reason: "appears twice", line: 11),
    HostileInput(
        name: "duplicate nested key", bytes: { utf8(hostileBase.replacingOccurrences(of: "type: memory\n", with: "type: memory\n    type: jira\n")) },
        reason: "appears twice", line: 5),
    HostileInput(name: "complex key", bytes: { utf8("version: 1\n? [a, b]\n: c\n") }, reason: "keys must be plain text", line: 2),
    HostileInput(
        name: "python object tag", bytes: { utf8("version: 1\nx: !!python/object/apply:os.system [\"rm -rf /\"]\n") }, reason: "YAML tags", line: 2),
    HostileInput(name: "custom tag", bytes: { utf8(hostileBase + "settings: !tandem/exec {cmd: sh}\n") }, reason: "YAML tags", line: 11),
    HostileInput(name: "binary tag", bytes: { utf8("version: 1\nblob: !!binary aGVsbG8=\n") }, reason: "YAML tags", line: 2),
    HostileInput(name: "tag directive", bytes: { utf8("%TAG !e! tag:example.com,2000:\n---\nversion: !e!int 1\n") }, reason: "YAML tags", line: 3),
    HostileInput(name: "unsupported YAML version", bytes: { utf8("%YAML 2.0\n---\nversion: 1\n") }, reason: "YAML syntax error", line: 1),
    HostileInput(
        name: "unterminated quote", bytes: { utf8(hostileBase + "settings:\n  fullScanInterval: \"5m\n") }, reason: "YAML syntax error", line: nil),
    HostileInput(name: "tab indentation", bytes: { utf8("version: 1\nsettings:\n\tfullScanEnabled: true\n") }, reason: "YAML syntax error", line: 3),
    HostileInput(name: "empty file", bytes: { [] }, reason: "empty", line: 1),
    HostileInput(name: "only comments", bytes: { utf8("# nothing here\n# at all\n") }, reason: "empty", line: 1),
    // Credentials in URLs.
    HostileInput(
        name: "credentials in a repository URL",
        bytes: { utf8(hostileBase.replacingOccurrences(of: "url: http://r.invalid", with: "url: http://user:s3cr3t@r.invalid")) },
        reason: "use `auth`", line: 5),
    HostileInput(
        name: "credentials in a proxy URL",
        bytes: {
            utf8(
                hostileBase.replacingOccurrences(
                    of: "url: http://r.invalid\n", with: "url: http://r.invalid\n    proxy:\n      url: http://proxy:pw@p.invalid:3128\n"))
        }, reason: "proxy's `username` and `password`", line: 7),
    HostileInput(
        name: "API key in a URL's query",
        bytes: { utf8(hostileBase.replacingOccurrences(of: "url: http://r.invalid", with: "url: http://r.invalid/?key=abcdef0123")) },
        reason: "query parameter 'key'",
        line: 5),
]
