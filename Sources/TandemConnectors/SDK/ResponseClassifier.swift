public import Foundation
public import HTTP

/// Turns a response into success or a classified `HTTPError`: what failed (code), what to do (kind), the
/// repository's own message, and when to resume calling the repository (`pauseUntil`).
///
/// | status | kind | code |
/// |---|---|---|
/// | 400 | permanent | bad-request |
/// | 401 | needs-attention | unauthorized (credentials rejected) |
/// | 403 | needs-attention | forbidden; rate-limited (transient) when `X-RateLimit-Remaining: 0` or `Retry-After` |
/// | 404, 410 | permanent | not-found |
/// | 407 | needs-attention | proxy-authentication |
/// | 408 | transient | timeout |
/// | 409 | transient | conflict (locked or concurrently changed: re-read and retry) |
/// | 412 | transient | precondition-failed (stale ETag: re-read and retry) |
/// | 422 | permanent | validation, with the tool's messages |
/// | 429 | transient | rate-limited, pause from the headers (default 60 s) |
/// | 5xx | transient | server-error (501, 505: permanent); pause when `Retry-After` is given |
public struct ResponseClassifier: Sendable {
    /// Pause after a 429 that names no time.
    public var defaultRateLimitPause: TimeInterval
    /// Longest pause honoured; a repository asking for more is paused this long and asked again.
    public var maxPause: TimeInterval

    public init(defaultRateLimitPause: TimeInterval = 60, maxPause: TimeInterval = 3600) {
        self.defaultRateLimitPause = defaultRateLimitPause
        self.maxPause = maxPause
    }

    /// nil for 1xx–3xx; otherwise the classified error.
    public func classify(_ response: HTTPResponse, request: String? = nil, now: Date) -> HTTPError? {
        let status = response.status
        if status < 400 { return nil }
        let message = Self.toolMessage(from: response) ?? BodySummary.reasonPhrase(status)
        let pause = self.pauseUntil(headers: response, now: now)
        func error(_ code: HTTPError.Code, _ kind: FailureKind, pause: Date? = nil) -> HTTPError {
            HTTPError(code, kind: kind, status: status, message: message, request: request, pauseUntil: pause)
        }
        switch status {
        case 400: return error(.badRequest, .permanent)
        case 401: return error(.unauthorized, .needsAttention)
        case 403:
            if response.header("X-RateLimit-Remaining") == "0" || pause != nil {
                return error(.rateLimited, .transient, pause: pause ?? now.addingTimeInterval(self.defaultRateLimitPause))
            }
            return error(.forbidden, .needsAttention)
        case 404, 410: return error(.notFound, .permanent)
        case 407: return error(.proxyAuthentication, .needsAttention)
        case 408: return error(.timeout, .transient)
        case 409: return error(.conflict, .transient)
        case 412: return error(.preconditionFailed, .transient)
        case 422: return error(.validation, .permanent)
        case 429: return error(.rateLimited, .transient, pause: pause ?? now.addingTimeInterval(self.defaultRateLimitPause))
        case 501, 505: return error(.serverError, .permanent)
        case 500..<600: return error(.serverError, .transient, pause: pause)
        default: return error(.unexpectedStatus, .permanent)
        }
    }

    /// The time named by `Retry-After` (seconds or HTTP-date), `X-RateLimit-Reset`, `RateLimit-Reset` or
    /// `X-Rate-Limit-Reset` (epoch seconds or seconds from now), on the local clock: an absolute time is
    /// shifted by the difference between the repository's `Date` header and `now`. Clamped to `maxPause`.
    public func pauseUntil(headers response: HTTPResponse, now: Date) -> Date? {
        let skew = response.date.map { now.timeIntervalSince($0) } ?? 0  // local minus repository clock
        var until: Date?
        if let value = response.header("Retry-After")?.trimmingCharacters(in: .whitespaces) {
            if let seconds = Double(value) {
                until = now.addingTimeInterval(max(0, seconds))
            } else if let date = HTTPDate.parse(value) {
                until = date.addingTimeInterval(skew)
            }
        }
        if until == nil {
            for name in ["X-RateLimit-Reset", "RateLimit-Reset", "X-Rate-Limit-Reset"] {
                guard let value = response.header(name).flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) })
                else { continue }
                // Epoch seconds (GitHub, GitLab) or a delta (IETF RateLimit fields).
                until =
                    value > 1_000_000_000
                    ? Date(timeIntervalSince1970: value).addingTimeInterval(skew)
                    : now.addingTimeInterval(value)
                break
            }
        }
        guard let until else { return nil }
        return min(max(until, now.addingTimeInterval(1)), now.addingTimeInterval(self.maxPause))
    }

    /// The repository's own error message: JSON error bodies of the common shapes (Redmine `errors`, Roundup
    /// `error.msg`, Jira `errorMessages`, GitHub `message`, RFC 9457 `detail`), an HTML page's title and first
    /// heading, or the first line of a text body.
    public static func toolMessage(from response: HTTPResponse) -> String? {
        guard !response.body.isEmpty else { return nil }
        let text = String(decoding: response.body.prefix(64 * 1024), as: UTF8.self)
        if let json = try? JSONDecoder().decode(JSONValue.self, from: response.body),
            let message = Self.jsonMessage(json)
        {
            return BodySummary.clip(message)
        }
        return BodySummary.summarize(body: text, mediaType: response.mediaType)
    }

    static func jsonMessage(_ json: JSONValue) -> String? {
        func strings(_ value: JSONValue?) -> [String] {
            switch value {
            case .string(let s)?: return [s]
            case .array(let items)?: return items.flatMap { strings($0) }
            case .object?: return strings(value?["message"] ?? value?["msg"] ?? value?["detail"])
            default: return []
            }
        }
        for key in ["errors", "errorMessages", "error", "message", "detail", "title", "error_description"] {
            var found = strings(json[key])
            if key == "errorMessages", let fieldErrors = json["errors"]?.object {
                found += fieldErrors.sorted { $0.key < $1.key }.compactMap { k, v in v.string.map { "\(k): \($0)" } }
            }
            if !found.isEmpty { return found.joined(separator: "; ") }
        }
        return nil
    }
}
