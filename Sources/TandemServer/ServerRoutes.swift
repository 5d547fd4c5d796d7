import Foundation
public import Hummingbird
import Logging
import Redis
import TandemMetrics
public import TandemQueue

/// What the routes read: the health checks, the queue (for gauges) and the metrics recorded in Redis.
public struct ServerRoutes: Sendable {
    public let health: HealthChecker
    public let queue: JobQueue
    /// The REST API under `/api/v1` (and its OpenAPI document); nil serves only health and metrics.
    public let api: AdminAPI?
    /// The installation's Redis key prefix (the queue's and the metrics').
    public var prefix: String { self.queue.configuration.prefix }

    public init(health: HealthChecker, queue: JobQueue, api: AdminAPI? = nil) {
        self.health = health
        self.queue = queue
        self.api = api
    }

    /// The router: `GET /health`, `GET /health/live`, `GET /metrics` (and HEAD for the first two), the API and the web UI
    /// (`/ui`, `GET /` redirects there) when there is an API; anything else is 404.
    public func router() -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        if var api = self.api {
            if api.queue == nil { api.queue = self.queue }
            api.register(on: router)
            WebUI(api: api, queue: self.queue).register(on: router)
        }
        router.get("/health") { _, context in
            let report = await self.health.check()
            if !report.isHealthy {
                context.logger.debug("Health check failed", metadata: ["tandem.health.failing": "\(report.failing ?? [])"])
            }
            return Self.json(report, status: report.isHealthy ? .ok : .serviceUnavailable)
        }
        router.get("/health/live") { _, _ in
            Self.json(["status": "ok"], status: .ok)
        }
        // Load balancers that probe with HEAD (HAProxy's `option httpchk HEAD`) get the same status, no body.
        router.head("/health") { _, _ -> HTTPResponse.Status in
            await self.health.check().isHealthy ? .ok : .serviceUnavailable
        }
        router.head("/health/live") { _, _ -> HTTPResponse.Status in .ok }
        router.get("/metrics") { _, context in
            try await self.metrics(logger: context.logger)
        }
        return router
    }

    func metrics(logger: Logger) async throws -> Response {
        var snapshot: MetricsSnapshot
        do {
            snapshot = try await MetricsSnapshot.read(redis: self.queue.client, prefix: self.prefix)
            snapshot.queue = try await QueueGauges.read(from: self.queue)
        } catch {
            logger.debug("Metrics unavailable", metadata: ["tandem.error": "\(error)"])
            throw HTTPError(.serviceUnavailable, message: "metrics are unavailable: Redis did not answer")
        }
        return Response(
            status: .ok, headers: [.contentType: MetricsSnapshot.prometheusContentType],
            body: .init(byteBuffer: ByteBuffer(string: snapshot.prometheusText())))
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data(#"{"status":"error"}"#.utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
