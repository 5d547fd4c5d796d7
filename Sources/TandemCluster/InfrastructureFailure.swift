import Logging
import Postgres
import Redis
import Synchronization

/// A failure of Tandem's own infrastructure — PostgreSQL or Redis unreachable, restarting or out of connections — as
/// opposed to the tracker's. The job is not at fault: it is retried promptly and without counting an attempt, not
/// with the exponential backoff meant for trackers (which after a few failed attempts waits minutes).
struct InfrastructureFailure: Sendable, CustomStringConvertible {
    enum Service: String, Sendable {
        case postgres = "PostgreSQL"
        case redis = "Redis"
    }

    var service: Service
    var detail: String

    init?(_ error: any Error) {
        switch error {
        case let error as PostgresError:
            if error.kind == .connection {
                self.init(.postgres, error.message)
            } else if error.kind == .server, let state = error.sqlState,
                // 08: connection exception; 57P01–57P03: shutting down, crashed, not yet accepting connections;
                // 53: insufficient resources (too many connections).
                state.hasPrefix("08") || state.hasPrefix("57P") || state.hasPrefix("53")
            {
                self.init(.postgres, "[\(state)] \(error.message)")
            } else {
                return nil
            }
        case let error as RedisError:
            guard
                error.code == .connect || error.code == .connectionLost
                    || (error.code == .server && ["LOADING", "MASTERDOWN", "READONLY", "TRYAGAIN"].contains { error.message.hasPrefix($0) })
            else { return nil }
            self.init(.redis, error.message)
        default:
            return nil
        }
    }

    private init(_ service: Service, _ detail: String) {
        self.service = service
        self.detail = detail
    }

    var description: String { "\(self.service.rawValue) unavailable: \(self.detail)" }
}

/// What one process has seen of infrastructure outages: picks the retry delay of jobs that met one (short at first,
/// longer while it lasts, at most `ceiling`) and says at info level when jobs start and stop waiting for it, and how
/// many wait (at most one line every `reportEvery`).
final class InfrastructureWaits: Sendable {
    private struct Outage {
        var startedAt: ContinuousClock.Instant
        var lastReport: ContinuousClock.Instant?
        var jobs = 0
        var services: Set<String> = []
    }

    private let outage = Mutex<Outage?>(nil)
    let floor: Duration
    let ceiling: Duration
    let reportEvery: Duration

    init(floor: Duration = .milliseconds(500), ceiling: Duration = .seconds(5), reportEvery: Duration = .seconds(5)) {
        self.floor = floor
        self.ceiling = ceiling
        self.reportEvery = reportEvery
    }

    /// A job met `failure`: the delay before it runs again (a quarter of the outage so far, within floor…ceiling, with
    /// jitter), logged at info when the outage starts and every `reportEvery` while it lasts.
    func retryDelay(after failure: InfrastructureFailure, logger: Logger) -> Duration {
        let now = ContinuousClock.now
        let (delay, report) = self.outage.withLock { outage -> (Duration, (jobs: Int, lasting: Duration)?) in
            var current = outage ?? Outage(startedAt: now)
            current.jobs += 1
            current.services.insert(failure.service.rawValue)
            let lasting = current.startedAt.duration(to: now)
            let delay = min(max(lasting / 4, self.floor), self.ceiling) * Double.random(in: 0.75...1.25)
            var report: (Int, Duration)?
            if current.lastReport.map({ $0.duration(to: now) >= self.reportEvery }) ?? true {
                report = (current.jobs, lasting)
                current.lastReport = now
            }
            outage = current
            return (delay, report)
        }
        if let report {
            logger.info(
                "\(failure.service.rawValue) is unavailable: jobs that need it are retried promptly (not counted as attempts) until it answers",
                metadata: [
                    "tandem.error": "\(failure.detail)", "tandem.jobs_waiting": "\(report.jobs)",
                    "tandem.outage_seconds": "\(report.lasting.components.seconds)",
                    "tandem.retry_in_ms": "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)",
                ])
        }
        return delay
    }

    /// A job ran without meeting an outage: one that was going on is over.
    func succeeded(logger: Logger) {
        guard
            let ended = self.outage.withLock({ outage -> Outage? in
                defer { outage = nil }
                return outage
            })
        else { return }
        logger.info(
            "\(ended.services.sorted().joined(separator: " and ")) answers again: jobs run normally",
            metadata: [
                "tandem.outage_seconds": "\(ended.startedAt.duration(to: .now).components.seconds)",
                "tandem.jobs_retried": "\(ended.jobs)",
            ])
    }
}
