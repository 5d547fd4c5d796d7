public import Foundation

/// A complete response (any status; classification is separate, see `ResponseClassifier` in TandemConnectors).
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header fields of the final response, in order, names as sent.
    public var headers: [(name: String, value: String)]
    public var body: Data
    /// 1.1, 2 or 3.
    public var httpVersion: String

    public init(status: Int, headers: [(name: String, value: String)] = [], body: Data = Data(), httpVersion: String = "1.1") {
        self.status = status
        self.headers = headers
        self.body = body
        self.httpVersion = httpVersion
    }

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        self.headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    public var isSuccess: Bool { (200..<300).contains(self.status) }

    /// The media type without parameters, lower-cased (`application/json`).
    public var mediaType: String? {
        self.header("Content-Type")?.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
    }

    /// The repository's own clock, from the `Date` header.
    public var date: Date? { self.header("Date").flatMap(HTTPDate.parse) }
}

/// HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, plus the obsolete RFC 850 and asctime forms.
public enum HTTPDate {
    private static let formats = ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"]

    public static func parse(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in Self.formats {
            formatter.dateFormat = format
            if let date = formatter.date(from: text.trimmingCharacters(in: .whitespaces)) { return date }
        }
        return nil
    }
}
