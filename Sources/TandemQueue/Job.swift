public import Foundation

/// What a job does. An extensible set: the cluster registers a handler per kind, and a job whose
/// kind has no handler goes to the dead set.
public struct JobKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { self.rawValue }

    /// Read a repository's change feed from the cursor.
    public static let detect = JobKind("detect")
    /// Walk an integration's pairs for differences (the full scan).
    public static let scan = JobKind("scan")
    /// Synchronise one artifact.
    public static let sync = JobKind("sync")
    /// Housekeeping (retention, rollups).
    public static let maintenance = JobKind("maintenance")
}

/// The priority class of a job: within one repository, high-priority work is handed out first.
public enum JobPriority: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Detection and change-triggered sync.
    case high
    /// Scan-triggered sync.
    case low

    public var description: String { self.rawValue }
    var code: String { self == .high ? "h" : "l" }
    init?(code: Substring) {
        switch code {
        case "h": self = .high
        case "l": self = .low
        default: return nil
        }
    }
}

/// One unit of work for one repository.
public struct Job: Sendable, Hashable, Codable {
    public var id: String
    public var kind: JobKind
    /// The repository connection whose limits the job runs under.
    public var repository: String
    public var integration: String
    public var priority: JobPriority
    /// JSON text; checked when the job is handed out (a malformed payload goes to the dead set).
    public var payload: String
    /// Attempts made so far (0 before the first run).
    public var attempt: Int
    public var maxAttempts: Int
    public var enqueuedAt: Date
    /// An identical pending job with the same key is not added twice (sync jobs for one artifact
    /// coalesce into one). The key is released when the job is handed out.
    public var uniqueKey: String?

    public init(
        id: String = UUID().uuidString.lowercased(),
        kind: JobKind,
        repository: String,
        integration: String,
        priority: JobPriority = .high,
        payload: String = "{}",
        attempt: Int = 0,
        maxAttempts: Int = 25,
        enqueuedAt: Date = Date(),
        uniqueKey: String? = nil
    ) {
        self.id = id
        self.kind = kind
        self.repository = repository
        self.integration = integration
        self.priority = priority
        self.payload = payload
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.enqueuedAt = enqueuedAt
        self.uniqueKey = uniqueKey
    }

    /// The unique key that makes sync jobs for one artifact coalesce.
    public static func syncKey(integration: String, repository: String, artifact: String) -> String {
        "sync:\(integration):\(repository):\(artifact)"
    }

    // MARK: The record stored in Redis

    /// `id⇥kind⇥repository⇥integration⇥h|l⇥attempt⇥maxAttempts⇥enqueuedAtMs⇥uniqueKey⇥payload`: the
    /// Lua scripts read the first fields with one pattern; the payload is last and may hold anything.
    func record() throws(QueueError) -> String {
        func check(_ name: String, _ value: String) throws(QueueError) {
            if value.isEmpty || value.utf8.contains(where: { $0 == 9 || $0 == 10 || $0 == 13 }) {
                throw QueueError(.invalidJob, "the job's \(name) '\(value)' is empty or holds a tab or line break")
            }
        }
        try check("id", self.id)
        try check("kind", self.kind.rawValue)
        try check("repository", self.repository)
        try check("integration", self.integration)
        if let key = self.uniqueKey { try check("unique key", key) }
        guard self.attempt >= 0, self.maxAttempts >= 1 else {
            throw QueueError(.invalidJob, "attempt \(self.attempt) / max \(self.maxAttempts) out of range")
        }
        let millis = Int64((self.enqueuedAt.timeIntervalSince1970 * 1000).rounded())
        return [
            self.id, self.kind.rawValue, self.repository, self.integration, self.priority.code,
            String(self.attempt), String(self.maxAttempts), String(max(millis, 0)), self.uniqueKey ?? "",
            self.payload,
        ].joined(separator: "\t")
    }

    init(record: String) throws(QueueError) {
        // Split on the UTF-8 bytes (a tab is one byte): much cheaper than splitting Characters.
        let fields = record.utf8.split(separator: 9, maxSplits: 9, omittingEmptySubsequences: false)
            .map { Substring($0) }
        guard fields.count == 10, let priority = JobPriority(code: fields[4]), let attempt = Int(fields[5]),
            let maxAttempts = Int(fields[6]), let millis = Int64(fields[7])
        else { throw QueueError(.malformedJob, "malformed job record") }
        self.init(
            id: String(fields[0]), kind: JobKind(String(fields[1])), repository: String(fields[2]),
            integration: String(fields[3]), priority: priority, payload: String(fields[9]), attempt: attempt,
            maxAttempts: maxAttempts, enqueuedAt: Date(timeIntervalSince1970: Double(millis) / 1000),
            uniqueKey: fields[8].isEmpty ? nil : String(fields[8]))
    }

    /// Throws `.malformedJob` unless the payload is JSON.
    func checkPayload() throws(QueueError) {
        if self.payload == "{}" { return }  // the common empty payload
        do {
            _ = try JSONSerialization.jsonObject(with: Data(self.payload.utf8), options: [.fragmentsAllowed])
        } catch {
            throw QueueError(.malformedJob, "malformed payload: not JSON (\(error.localizedDescription))")
        }
    }
}

/// A job handed to a worker under a lease.
public struct Delivery: Sendable, Hashable {
    public var job: Job
    /// When the dequeue script admitted it (the Redis server's clock).
    public var admittedAt: Date
    public var leaseExpiresAt: Date
    /// The worker holding the lease (acks are fenced by it).
    public var worker: String
    /// The record as stored: it names the lease in Redis.
    var record: String

    public var id: String { self.job.id }
}
