public import Foundation
public import Postgres
import TandemCore
public import TandemQueue
public import TandemStore

/// The operator's actions on activity, carried out: the store changes the rows, and a retry queues a sync of each
/// artifact (high priority, coalesced with a sync already pending for it) or lifts the pause of a blocker's repository.
/// The REST API and the web UI both act through this.
public struct OperatorActions: Sendable {
    public let activity: ActivityStore
    /// Without a queue, retried artifacts go back to `open` and are reported as skipped.
    public let queue: JobQueue?

    public init(client: PostgresClient, queue: JobQueue?) {
        self.activity = ActivityStore(client: client)
        self.queue = queue
    }

    public func perform(_ action: ActivityAction, ids: [Int64], actor: String) async throws -> ActivityActionResult {
        try await self.queueRetries(try await self.activity.perform(action, ids: ids, actor: actor))
    }

    public func perform(_ action: ActivityAction, matching filter: ActivityFilter, actor: String) async throws -> ActivityActionResult {
        try await self.queueRetries(try await self.activity.perform(action, matching: filter, actor: actor))
    }

    /// The sync job that retries one artifact.
    /// `asOf`: the database's time of the action, so the sync reads the configuration as it was then or later.
    public static func syncJob(for target: RetryTarget, asOf: Date?) -> Job? {
        guard let artifact = target.artifactID, let repository = target.repository, let side = target.side.flatMap(Side.init(rawValue:))
        else { return nil }
        return Job(
            kind: .sync, repository: repository, integration: target.integration, priority: .high,
            payload: JobPayload(side: side, artifact: artifact, configuredAsOf: asOf).json,
            uniqueKey: Job.syncKey(integration: target.integration, repository: repository, artifact: artifact))
    }

    func queueRetries(_ result: ActivityActionResult) async throws -> ActivityActionResult {
        guard result.action == .retry, !result.retries.isEmpty else { return result }
        var result = result
        var jobs: [(Int64, Job)] = []
        var unqueued: [(Int64, String)] = []
        var repositories: Set<String> = []
        // An operator who fixed a mapping and then retried expects the fix to apply, however recently the workers read
        // the configuration.
        let asOf = try? await DatabaseClock.now(self.activity.client)
        for target in result.retries {
            if target.artifactID == nil {
                if let repository = target.repository { repositories.insert(repository) }
            } else if let job = Self.syncJob(for: target, asOf: asOf) {
                jobs.append((target.activityID, job))
            } else {
                unqueued.append((target.activityID, "its repository is unknown"))
            }
        }
        if let queue = self.queue {
            if !jobs.isEmpty {
                do {
                    _ = try await queue.enqueue(jobs.map(\.1))
                } catch {
                    unqueued += jobs.map { ($0.0, "the queue is unavailable: \(error)") }
                }
            }
            // A blocker's repository may be paused (rejected credentials pause it for an hour): resume it now.
            for repository in repositories.sorted() { try? await queue.resume(repository: repository) }
        } else {
            unqueued += jobs.map { ($0.0, "this server has no queue") }
        }
        if !unqueued.isEmpty {
            let ids = unqueued.map(\.0)
            try await self.activity.requeueFailed(ids, reason: unqueued[0].1)
            let failed = Set(ids)
            result.changed.removeAll { failed.contains($0) }
            result.retries.removeAll { failed.contains($0.activityID) }
            result.skipped += unqueued.map { ActivityActionResult.Skipped(id: $0.0, reason: "not retried: \($0.1)") }
            result.skipped.sort { $0.id < $1.id }
        }
        return result
    }
}
