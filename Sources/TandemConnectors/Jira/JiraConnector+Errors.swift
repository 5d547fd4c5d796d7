import Foundation
import HTTP

/// Jira's answers beyond the HTTP defaults (`ResponseClassifier`, which already reads `errorMessages` with the
/// `errors` map as "field: message", and `Retry-After`).
extension JiraConnector {
    @Sendable static func reclassify(_ response: HTTPResponse, _ classified: HTTPError) -> HTTPError? {
        var error = classified
        let now = Date()
        switch response.status {
        case 403 where classified.code == .forbidden:
            // A 403 with a rate-limit header is a rate limit (Data Center's token bucket, Cloud's beta headers).
            if let pause = Self.rateLimitPause(response, now: now) {
                error.code = .rateLimited
                error.kind = .transient
                error.pauseUntil = pause
            } else if let request = classified.request {
                error.message = "not allowed to \(request): \(classified.message)"
            }
        case 429:
            if response.header("Retry-After") == nil, let pause = Self.rateLimitPause(response, now: now) { error.pauseUntil = pause }
        default:
            break
        }
        return error
    }

    /// When a rate-limited answer may be retried, from Jira's own headers: Cloud's `X-RateLimit-Reset` is an ISO time
    /// (`2024-03-24T11:30Z`), `Beta-RateLimit-Reset` / `RateLimit-Reset` seconds; Data Center's token bucket refills
    /// `X-RateLimit-FillRate` tokens every `X-RateLimit-Interval-Seconds`. nil when no header says it is a rate limit.
    static func rateLimitPause(_ response: HTTPResponse, now: Date) -> Date? {
        if let seconds = response.header("Retry-After").flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }) {
            return now.addingTimeInterval(max(1, seconds))
        }
        if let reset = response.header("X-RateLimit-Reset") {
            if let date = Self.isoMinute(reset) { return max(date, now.addingTimeInterval(1)) }
            if let seconds = Double(reset) {
                return seconds > 1_000_000_000 ? Date(timeIntervalSince1970: seconds) : now.addingTimeInterval(max(1, seconds))
            }
        }
        for name in ["Beta-RateLimit-Reset", "RateLimit-Reset"] {
            if let seconds = response.header(name).flatMap(Double.init) { return now.addingTimeInterval(max(1, seconds)) }
        }
        if response.header("X-RateLimit-Remaining") == "0" {
            let interval = response.header("X-RateLimit-Interval-Seconds").flatMap(Double.init) ?? 60
            return now.addingTimeInterval(max(1, min(interval, 3600)))
        }
        return nil
    }

    /// `2024-03-24T11:30Z` or a full Jira time.
    static func isoMinute(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let date = JiraTime.parse(trimmed) { return date }
        if trimmed.count == 17, trimmed.hasSuffix("Z") { return JiraTime.parse(String(trimmed.dropLast()) + ":00Z") }
        return nil
    }
}
