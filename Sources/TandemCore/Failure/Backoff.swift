import Foundation

/// Retry delays: exponential backoff with jitter, honouring a server's `Retry-After`.
///
/// The guide retries failed activity "approximately 30 seconds after they are first encountered, and then on a
/// gradually decreasing interval" (L11250–11253, read as backoff); the defaults follow it. Pure: the jitter comes from
/// the random number generator the caller passes in.
public struct Backoff: Sendable, Hashable {
    /// The delay before the first retry, in seconds.
    public var initial: Double
    /// The factor between successive delays.
    public var multiplier: Double
    /// The longest delay, in seconds.
    public var maximum: Double
    /// The fraction of the delay that is randomised: 0.2 spreads a 30 s delay over 24–36 s.
    public var jitter: Double

    public init(initial: Double = 30, multiplier: Double = 2, maximum: Double = 3_600, jitter: Double = 0.2) {
        self.initial = initial
        self.multiplier = multiplier
        self.maximum = maximum
        self.jitter = jitter
    }

    /// Checks the parameters; the reason names the first one that is wrong.
    public func validate() throws(SyncError) {
        func fail(_ reason: String) -> SyncError { SyncError(.invalidSchedule, subject: "backoff", reason: reason) }
        guard self.initial > 0, self.initial.isFinite else { throw fail("initial delay \(self.initial) must be positive") }
        guard self.multiplier >= 1, self.multiplier.isFinite else { throw fail("multiplier \(self.multiplier) must be at least 1") }
        guard self.maximum >= self.initial, self.maximum.isFinite else {
            throw fail("maximum delay \(self.maximum) must be at least the initial delay \(self.initial)")
        }
        guard (0...1).contains(self.jitter) else { throw fail("jitter \(self.jitter) must be between 0 and 1") }
    }

    /// The delay without jitter before retry number `attempt` (1 for the first retry), capped at `maximum`.
    public func baseDelay(attempt: Int) -> Double {
        let exponent = Double(max(0, attempt - 1))
        let raw = self.initial * pow(self.multiplier, exponent)
        return raw.isFinite ? min(raw, self.maximum) : self.maximum
    }

    /// The delay before retry number `attempt`, jittered by `random`; never shorter than `retryAfter` (seconds) when
    /// the server named one.
    public func delay(attempt: Int, retryAfter: Double? = nil, using random: inout some RandomNumberGenerator) -> Double {
        let base = self.baseDelay(attempt: attempt)
        let spread = base * self.jitter
        // Unvalidated parameters (negative, infinite, NaN) give no jitter rather than a trap.
        let jittered = spread > 0 && spread.isFinite ? base - spread + Double.random(in: 0...(2 * spread), using: &random) : base
        let capped = jittered.isNaN ? 0 : min(max(jittered, 0), self.maximum)
        if let retryAfter, retryAfter.isFinite, retryAfter > capped { return retryAfter }
        return capped
    }
}

/// Classifies what a connector saw into our error codes.
public enum FailureClassifier {
    /// An HTTP status from a tracker's API.
    public static func classify(httpStatus: Int) -> ErrorCode {
        switch httpStatus {
        case 401: .credentialsRejected
        case 403: .credentialsRejected
        case 404, 410: .targetArtifactRemoved
        case 408: .repositoryTemporary
        case 409, 423: .artifactLocked
        case 429: .repositoryOverloaded
        case 400, 422: .valueNotAccepted
        case 500...599: httpStatus == 503 ? .repositoryOverloaded : .repositoryTemporary
        default: .unexpected
        }
    }

    /// A transport failure (no HTTP response at all: refused, reset, timed out, name not resolved).
    public static let transport: ErrorCode = .repositoryUnreachable
}
