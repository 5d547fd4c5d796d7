public import Foundation
public import Logging

/// The HTTP client connectors use: libcurl's multi interface on one dedicated thread, async to callers.
///
/// This module is a transport: `execute` performs one exchange and returns any status; it throws only for
/// transport failures (`HTTPError`) and cancellation. What a status means for a tracker, and whether to retry,
/// is policy: `ResponseClassifier` and `HTTPClient.send` in TandemConnectors.
///
/// Logs (when given a logger) at debug level — at notice level for a connection with `verboseLogging` — with the request's
/// method and redacted URL, status, duration and attempt; never header values or bodies.
public final class HTTPClient: Sendable {
    private let transport: CurlTransport
    /// API calls per repository connection.
    public let apiCalls: APICallCounter
    private let logger: Logger?

    public init(logger: Logger? = nil) {
        self.transport = CurlTransport()
        self.apiCalls = APICallCounter()
        self.logger = logger
    }

    /// Ends the transfer thread; running requests fail. Call once, when no request is expected any more.
    public func shutdown() async { await self.transport.shutdown() }

    /// One exchange, any status; logged with its attempt number (1 unless the caller retries).
    public func execute(_ request: HTTPRequest, settings: ConnectionSettings, attempt: Int = 1) async throws -> HTTPResponse {
        try Task.checkCancellation()
        let started = ContinuousClock.now
        do {
            let transfer = try CurlTransfer(request, settings: settings)
            self.apiCalls.record(repository: settings.repository)
            let response = try await self.transport.perform(transfer)
            self.log(request, settings, status: response.status, started: started, attempt: attempt)
            return response
        } catch let error as HTTPError {
            self.log(request, settings, status: nil, started: started, attempt: attempt, error: error)
            throw error
        }
    }

    private func log(
        _ request: HTTPRequest, _ settings: ConnectionSettings, status: Int?, started: ContinuousClock.Instant,
        attempt: Int, error: HTTPError? = nil
    ) {
        guard let logger = self.logger else { return }
        let elapsed = ContinuousClock.now - started
        var metadata: Logger.Metadata = [
            "tandem.repository": "\(settings.repository)",
            "tandem.http.method": "\(request.method)",
            "tandem.http.url": "\(request.redactedURL)",
            "tandem.http.duration_ms": "\(elapsed.milliseconds)",
            "tandem.http.attempt": "\(attempt)",
        ]
        if let status { metadata["tandem.http.status"] = "\(status)" }
        if let error { metadata["tandem.http.error"] = "\(error.code)" }
        logger.log(level: settings.verboseLogging ? .notice : .debug, "HTTP exchange", metadata: metadata)
    }
}
