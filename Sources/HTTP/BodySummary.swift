public import Foundation

/// What a body looked like, in one short line: an HTML page's title and first heading, or the first line of a
/// text body; used in error messages so that a login page or a proxy's error page is recognisable.
public enum BodySummary {
    /// A short, single-line summary of a non-JSON body (HTML title/heading or the first text line).
    public static func summarize(body text: String, mediaType: String?) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return nil }
        let looksHTML =
            mediaType?.contains("html") == true || trimmed.lowercased().hasPrefix("<!doctype html")
            || trimmed.lowercased().hasPrefix("<html")
        if looksHTML {
            let parts = ["title", "h1"].compactMap { Self.element($0, in: trimmed) }
            var unique: [String] = []
            for part in parts where !unique.contains(part) { unique.append(part) }
            return Self.clip(unique.isEmpty ? "HTML page" : "HTML page: " + unique.joined(separator: " — "))
        }
        let firstLine = trimmed.split(whereSeparator: \.isNewline).first.map(String.init) ?? trimmed
        return Self.clip(firstLine)
    }

    private static func element(_ tag: String, in html: String) -> String? {
        guard let open = html.range(of: "<\(tag)", options: .caseInsensitive),
            let openEnd = html.range(of: ">", range: open.upperBound..<html.endIndex),
            let close = html.range(of: "</\(tag)>", options: .caseInsensitive, range: openEnd.upperBound..<html.endIndex)
        else { return nil }
        var inner = String(html[openEnd.upperBound..<close.lowerBound])
        while let tagRange = inner.range(of: "<[^>]*>", options: .regularExpression) { inner.replaceSubrange(tagRange, with: " ") }
        let words = inner.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return words.isEmpty ? nil : words
    }

    public static func reasonPhrase(_ status: Int) -> String {
        let phrases = [
            400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 407: "Proxy Authentication Required",
            408: "Request Timeout", 409: "Conflict", 410: "Gone", 412: "Precondition Failed", 422: "Unprocessable Content",
            429: "Too Many Requests", 500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout",
        ]
        return phrases[status] ?? "HTTP \(status)"
    }

    public static func clip(_ text: String, to limit: Int = 300) -> String {
        let single = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return single.count <= limit ? single : String(single.prefix(limit)) + "…"
    }
}
