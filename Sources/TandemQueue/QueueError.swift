/// The one error type of the queue. Compare by `code`.
public struct QueueError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// A job cannot be enqueued as given (a tab in an id, ...).
        public static let invalidJob = Code("invalidJob")
        /// A stored job cannot be read (bad record or payload); it goes to the dead set.
        public static let malformedJob = Code("malformedJob")
        /// No handler for the job's kind; it goes to the dead set.
        public static let unknownKind = Code("unknownKind")
        /// A script answered in an unexpected shape.
        public static let unexpectedReply = Code("unexpectedReply")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "queue \(self.code): \(self.message)" }

    public static func == (lhs: QueueError, rhs: QueueError) -> Bool { lhs.code == rhs.code }
}

/// What a handler throws to steer what happens to its job (any other error is a retryable failure).
public struct JobOutcome: Error, Sendable, CustomStringConvertible {
    enum Action: Sendable, Hashable {
        case permanent
        case retryAfter(Duration)
        case pauseRepository(Duration)
    }

    let action: Action
    public let message: String
    /// The repository a pause is for, when it is not the job's own (a sync's target rejected the credentials).
    public var repository: String?

    /// The job cannot succeed: bury it now with this error.
    public static func permanent(_ message: String) -> JobOutcome { JobOutcome(action: .permanent, message: message) }

    /// Try again after `delay`, without counting an attempt (a `Retry-After`).
    public static func retry(after delay: Duration, _ message: String = "") -> JobOutcome {
        JobOutcome(action: .retryAfter(delay), message: message)
    }

    /// The repository is overloaded or rate-limited us: pause the whole repository for `duration`
    /// and run this job again when it ends, without counting an attempt.
    public static func pauseRepository(for duration: Duration, _ message: String = "") -> JobOutcome {
        JobOutcome(action: .pauseRepository(duration), message: message)
    }

    /// Pauses `repository` (not necessarily the job's) for `duration`. The job runs again after `retry` when that is
    /// another repository: its handler then waits for the pause to end without calling the paused repository.
    public static func pauseRepository(_ repository: String, for duration: Duration, retry: Duration, _ message: String = "") -> JobOutcome {
        var outcome = JobOutcome(action: .pauseRepository(duration), message: message)
        outcome.repository = repository
        outcome.retry = retry
        return outcome
    }

    /// When the job runs again after pausing another repository.
    var retry: Duration?

    public var description: String { self.message }
}
