import Foundation
import TandemConfig
import TandemCore
import Testing

/// The API's OpenAPI document describes configuration text with `ConfigLimits`' patterns; a request the document
/// allows must be accepted (Schemathesis' positive data acceptance). Each sample the pattern matches, the parser takes.
@Suite struct ConfigPatternTests {
    static func matches(_ pattern: String, _ text: String) throws -> Bool {
        let regex = try NSRegularExpression(pattern: pattern)
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    static let controls: [String] = [
        "\u{0}", "\u{1B}", "\r", "\n", "\t", "\u{7F}", "\u{85}", "\u{9B}", "\u{200E}", "\u{202E}", "\u{2066}", "\u{2028}",
    ]

    @Test func namesThePatternAllowsAreAccepted() throws {
        let samples =
            ["a", "Bug", "In Progress", "ä €", "名前", String(repeating: "x", count: 255), String(repeating: "é", count: 256)]
            + Self.controls.flatMap { ["a\($0)b", $0] }
        var refused = 0
        for sample in samples {
            let allowed = try Self.matches(ConfigLimits.namePattern, sample) && sample.unicodeScalars.count <= ConfigLimits.maximumNameLength
            let body: JSONNode = .object(["name": .string(sample), "fields": .array([.object(["name": .string("f"), "type": .string("string")])])])
            let accepted = (try? ConfigJSON.model(body)) != nil
            if allowed { #expect(accepted, "\(sample.debugDescription) matches the pattern but is refused") }
            if !accepted { refused += 1 }
        }
        #expect(refused == Self.controls.count * 2 + 1, "each control character and the long name are refused")
    }

    @Test func textThePatternAllowsIsAccepted() throws {
        for sample in ["a", "line one\nline two\tend", String(repeating: "x", count: 1000)] + Self.controls.map { "a\($0)b" } {
            let allowed = try Self.matches(ConfigLimits.textPattern, sample)
            let body: JSONNode = .object([
                "name": .string("c"), "repository": .string("r"), "artifactType": .string("a"), "projects": .array([.string("p")]),
                "model": .string("m"), "fields": .array([.object(["field": .string("f"), "modelField": .string("g"), "constant": .string(sample)])]),
            ])
            let accepted = (try? ConfigJSON.collection(body)) != nil
            if allowed { #expect(accepted, "\(sample.debugDescription) matches the pattern but is refused") }
            #expect(allowed == (sample.unicodeScalars.allSatisfy { $0 == "\n" || $0 == "\t" || !Self.controls.contains(String($0)) }))
        }
    }

    @Test func urlsThePatternAllowsAreAccepted() throws {
        let samples = [
            "http://host", "https://host:8443/path?q=1#f", "HTTPS://Host/x", "http://a.invalid/?keys=1", "http://user:pw@host", "http://host@evil",
            "https://host/?key=abc", "https://host/?x=1&Token=abc", "https://host/?api_key", "ftp://host", "http://", "http://ho st",
            "http://host/a\u{1B}b", "http:///path",
        ]
        for sample in samples {
            let allowed = try Self.matches(ConfigLimits.urlPattern, sample)
            let body: JSONNode = .object(["name": .string("r"), "type": .string("redmine"), "url": .string(sample)])
            let accepted = (try? ConfigJSON.repository(body, stored: nil)) != nil
            if allowed { #expect(accepted, "\(sample) matches the pattern but is refused") }
        }
        for good in ["http://host", "https://host:8443/path?q=1#f", "http://a.invalid/?keys=1"] {
            #expect(try Self.matches(ConfigLimits.urlPattern, good))
        }
        for bad in ["http://user:pw@host", "https://host/?key=abc", "https://host/?x=1&Token=abc"] {
            #expect(try !Self.matches(ConfigLimits.urlPattern, bad))
        }
    }

    @Test func durationsThePatternAllowsAreAccepted() throws {
        let samples = [
            "1", "90s", "5m", "24h", "7d", "+5m", "0005m", "999999999s", "9999999m", "99999h", "9999d", "2147483647s", "2147483648s", "0s", "-5m",
        ]
        for sample in samples {
            let allowed = try Self.matches(ConfigLimits.durationPattern, sample)
            let accepted = (try? ConfigJSON.settings(.object(["fullScanInterval": .string(sample)]), current: Settings())) != nil
            if allowed { #expect(accepted, "\(sample) matches the pattern but is refused") }
        }
        #expect(try !Self.matches(ConfigLimits.durationPattern, "2147483648s"))
    }
}
