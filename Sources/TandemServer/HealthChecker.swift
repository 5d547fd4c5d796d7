public import Postgres
public import Redis
import TandemStore

/// What `/health` reports: each dependency's check, by name.
public struct HealthReport: Sendable, Hashable, Codable {
    /// `ok`, or `unavailable` when a check failed.
    public var status: String
    /// Check name → `ok`, or why it failed.
    public var checks: [String: String]
    /// The failing checks' names, sorted (absent when healthy).
    public var failing: [String]?
    /// The current coordinator leader, when one is present.
    public var leader: String?

    public var isHealthy: Bool { self.failing == nil }

    public init(checks: [String: String], leader: String? = nil) {
        let failing = checks.filter { $0.value != "ok" }.keys.sorted()
        self.status = failing.isEmpty ? "ok" : "unavailable"
        self.checks = checks
        self.failing = failing.isEmpty ? nil : failing
        self.leader = leader
    }
}

/// The readiness checks behind `/health`: PostgreSQL reachable, migrations current, Redis answering PING, and a
/// coordinator leader present (an unexpired lease). They run concurrently; each is bounded by its client's own
/// connect timeouts, so give the server's clients short ones.
public struct HealthChecker: Sendable {
    public let postgres: PostgresClient
    public let redis: RedisClient
    /// The leader lease's name (the coordinator's).
    public let leaseName: String
    private let migrator: Migrator?
    private let migratorError: String?

    public init(postgres: PostgresClient, redis: RedisClient, leaseName: String = "coordinator") {
        self.postgres = postgres
        self.redis = redis
        self.leaseName = leaseName
        do {
            self.migrator = try Migrator.bundled()
            self.migratorError = nil
        } catch {
            self.migrator = nil
            self.migratorError = "\(error)"
        }
    }

    /// Runs every check.
    public func check() async -> HealthReport {
        async let database = self.checkDatabase()
        async let redis = self.checkRedis()
        let databaseResult = await database
        var checks = ["database": databaseResult, "redis": await redis]
        var leader: String?
        if databaseResult == "ok" {
            async let migrations = self.checkMigrations()
            async let lease = self.checkLeader()
            checks["migrations"] = await migrations
            let (leaderCheck, holder) = await lease
            checks["leader"] = leaderCheck
            leader = holder
        } else {
            checks["migrations"] = "unknown: the database is unreachable"
            checks["leader"] = "unknown: the database is unreachable"
        }
        return HealthReport(checks: checks, leader: leader)
    }

    func checkDatabase() async -> String {
        do {
            try await DatabaseHealth.ping(self.postgres)
            return "ok"
        } catch {
            return "unreachable: \(error)"
        }
    }

    func checkMigrations() async -> String {
        guard let migrator = self.migrator else { return "unknown: \(self.migratorError ?? "no migrations bundled")" }
        do {
            let (applied, current) = try await migrator.status(self.postgres)
            if current { return "ok" }
            return "pending: applied \(applied.max() ?? 0), latest \(migrator.latestVersion)"
        } catch {
            return "unknown: \(error)"
        }
    }

    func checkRedis() async -> String {
        do {
            let reply = try await self.redis.send("PING")
            return reply.string == "PONG" ? "ok" : "unexpected reply: \(reply)"
        } catch {
            return "unreachable: \(error)"
        }
    }

    func checkLeader() async -> (String, String?) {
        do {
            guard let current = try await LeaderLease(client: self.postgres, name: self.leaseName, holder: "").current() else {
                return ("no coordinator leads (no unexpired '\(self.leaseName)' lease)", nil)
            }
            return ("ok", "\(current.holder) (token \(current.token), \(Int(current.secondsLeft.rounded())) s left)")
        } catch {
            return ("unknown: \(error)", nil)
        }
    }
}
