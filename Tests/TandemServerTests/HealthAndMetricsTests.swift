import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Postgres
import Redis
import TandemMetrics
import TandemQueue
import TandemServer
import TandemStore
import Testing

/// The server's routes against a real PostgreSQL (a database per test) and Redis (a key prefix per test).
@Suite("Health and metrics over HTTP", .serialized, .timeLimit(.minutes(2)))
struct HealthAndMetricsTests {
    struct Body: Decodable {
        var status: String
        var checks: [String: String]
        var failing: [String]?
        var leader: String?
    }

    func decode(_ response: TestResponse) throws -> Body {
        try JSONDecoder().decode(Body.self, from: Data(String(buffer: response.body).utf8))
    }

    func app(postgres: PostgresClient, redis: RedisClient, prefix: String = "tandem:") -> some ApplicationProtocol {
        let routes = ServerRoutes(
            health: HealthChecker(postgres: postgres, redis: redis),
            queue: JobQueue(client: redis, configuration: .init(prefix: prefix)))
        return Application(router: routes.router(), logger: quiet)
    }

    @Test func healthyWhenDatabaseMigrationsRedisAndLeaderAreAllGood() async throws {
        try await withTestDatabase { postgres in
            try await Migrator.bundled().migrate(postgres, logger: quiet)
            let token = try await LeaderLease(client: postgres, holder: "host-a-1", ttlSeconds: 30).acquireOrRenew()
            #expect(token != nil)
            let redis = try redisClient()
            try await self.app(postgres: postgres, redis: redis).test(.router) { client in
                try await client.execute(uri: "/health", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                    let body = try self.decode(response)
                    #expect(body.status == "ok")
                    #expect(body.checks == ["database": "ok", "migrations": "ok", "redis": "ok", "leader": "ok"])
                    #expect(body.failing == nil)
                    #expect(body.leader?.hasPrefix("host-a-1 (token 1") == true)
                }
                try await client.execute(uri: "/health/live", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
                }
                try await client.execute(uri: "/health", method: .head) { #expect($0.status == .ok) }
            }
            await redis.close()
        }
    }

    @Test func unavailableNamingRedisWhenRedisIsDown() async throws {
        try await withTestDatabase { postgres in
            try await Migrator.bundled().migrate(postgres, logger: quiet)
            _ = try await LeaderLease(client: postgres, holder: "host-a-1").acquireOrRenew()
            let redis = try redisClient(url: "redis://127.0.0.1:\(unusedPort())")
            try await self.app(postgres: postgres, redis: redis).test(.router) { client in
                try await client.execute(uri: "/health", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    let body = try self.decode(response)
                    #expect(body.status == "unavailable")
                    #expect(body.failing == ["redis"])
                    #expect(body.checks["redis"]?.hasPrefix("unreachable") == true)
                    #expect(body.checks["database"] == "ok")
                    #expect(body.checks["leader"] == "ok")
                }
                // Liveness does not depend on Redis; HEAD answers as GET does.
                try await client.execute(uri: "/health/live", method: .get) { #expect($0.status == .ok) }
                try await client.execute(uri: "/health/live", method: .head) { #expect($0.status == .ok) }
                try await client.execute(uri: "/health", method: .head) { #expect($0.status == .serviceUnavailable) }
                // Metrics need Redis: a 503, not a crash.
                try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .serviceUnavailable) }
            }
            await redis.close()
        }
    }

    @Test func unavailableWithoutLeaderOrWithPendingMigrations() async throws {
        try await withTestDatabase { postgres in
            let redis = try redisClient()
            let app = self.app(postgres: postgres, redis: redis)
            try await app.test(.router) { client in
                // A fresh database: no migrations, so no lease table either.
                try await client.execute(uri: "/health", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    let body = try self.decode(response)
                    #expect(body.failing == ["leader", "migrations"])
                    #expect(body.checks["migrations"]?.hasPrefix("pending") == true)
                }
                try await Migrator.bundled().migrate(postgres, logger: quiet)
                // Migrated, but no coordinator leads.
                try await client.execute(uri: "/health", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    let body = try self.decode(response)
                    #expect(body.failing == ["leader"])
                    #expect(body.checks["leader"]?.contains("no coordinator leads") == true)
                }
                // A lease that expired does not count either.
                let lease = LeaderLease(client: postgres, holder: "host-b-1")
                _ = try await lease.acquireOrRenew()
                try await lease.release()
                try await client.execute(uri: "/health", method: .get) { #expect($0.status == .serviceUnavailable) }
            }
            await redis.close()
        }
    }

    @Test func unavailableNamingTheDatabaseWhenItIsDown() async throws {
        let postgres = PostgresClient(
            configuration: .init(connectionString: "postgresql://tandem@127.0.0.1:\(unusedPort())/tandem?connect_timeout=2", maximumConnections: 1),
            logger: quiet)
        let redis = try redisClient()
        try await self.app(postgres: postgres, redis: redis).test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try self.decode(response)
                #expect(body.failing == ["database", "leader", "migrations"])
                #expect(body.checks["redis"] == "ok")
                #expect(body.checks["database"]?.hasPrefix("unreachable") == true)
            }
        }
        await postgres.shutdown()
        await redis.close()
    }

    @Test func metricsServeRecordedCountersAndQueueGauges() async throws {
        try await withTestDatabase { postgres in
            let redis = try redisClient()
            try await withPrefix(redis) { prefix in
                let recorder = MetricsRecorder(redis: redis, prefix: prefix, logger: quiet)
                recorder.jobFinished(kind: "sync", outcome: "ok", seconds: 0.2)
                recorder.apiCalls(repository: "redmine \"main\"", count: 4)
                recorder.syncLag(seconds: 1.5)
                try await recorder.flush()
                let queue = JobQueue(client: redis, configuration: .init(prefix: prefix))
                try await queue.enqueue([
                    Job(kind: .sync, repository: "redmine", integration: "bugs"),
                    Job(kind: .sync, repository: "redmine", integration: "bugs"),
                    Job(kind: .sync, repository: "redmine", integration: "bugs", priority: .low),
                ])
                try await self.app(postgres: postgres, redis: redis, prefix: prefix).test(.router) { client in
                    try await client.execute(uri: "/metrics", method: .get) { response in
                        #expect(response.status == .ok)
                        #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                        let lines = String(buffer: response.body).split(separator: "\n").map(String.init)
                        #expect(lines.contains(#"tandem_jobs_total{kind="sync",outcome="ok"} 1"#))
                        #expect(lines.contains(#"tandem_api_calls_total{repository="redmine \"main\""} 4"#))
                        #expect(lines.contains(#"tandem_sync_lag_seconds_bucket{le="1"} 0"#))
                        #expect(lines.contains(#"tandem_sync_lag_seconds_bucket{le="2"} 1"#))
                        #expect(lines.contains("tandem_sync_lag_seconds_count 1"))
                        #expect(lines.contains(#"tandem_queue_depth{repository="redmine",priority="high"} 2"#))
                        #expect(lines.contains(#"tandem_queue_depth{repository="redmine",priority="low"} 1"#))
                        #expect(lines.contains(#"tandem_jobs_in_flight{repository="redmine"} 0"#))
                        #expect(lines.contains(#"tandem_jobs_dead{repository="redmine"} 0"#))
                        #expect(lines.contains("tandem_workers 0"))
                        #expect(lines.contains { $0.hasPrefix(#"tandem_queue_oldest_job_age_seconds{repository="redmine"} "#) })
                    }
                }
            }
            await redis.close()
        }
    }

    @Test func clientErrorsAreNotServerErrors() async throws {
        let postgres = PostgresClient(configuration: .init(connectionString: "postgresql://127.0.0.1:1/x", maximumConnections: 1), logger: quiet)
        let redis = try redisClient()
        try await self.app(postgres: postgres, redis: redis).test(.router) { client in
            for uri in ["/", "/nope", "/health/deep", "/metrics/x", "/%zz", "/health/live?x=%"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status.code < 500, "\(uri): \(response.status)")
                }
            }
            try await client.execute(uri: "/nope", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/health/live", method: .post) { #expect($0.status.code < 500) }
            try await client.execute(uri: "/health/live", method: .delete, body: ByteBuffer(string: "x")) { #expect($0.status.code < 500) }
        }
        await postgres.shutdown()
        await redis.close()
    }
}
