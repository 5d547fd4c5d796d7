public import Foundation
public import Logging

/// The HTTP client connectors use: libcurl's multi interface on one dedicated thread, async to callers.
///
/// - `execute` performs one exchange and returns any status; it throws only for transport failures
///   (`HTTPError`) and cancellation.
/// - `send` classifies the response (`ResponseClassifier`): success is returned; a failure is thrown as a
///   classified `HTTPError`. Idempotent requests are retried in process after transient failures (with
///   backoff and jitter, per `ConnectionSettings.retry`); non-idempotent ones never are. A rate limit is
///   never slept on: the error carries `pauseUntil` for the queue.
///
/// Logs (when given a logger) at debug level — at notice level for a connection with `verboseLogging` — with the request's
/// method and redacted URL, status, duration and attempt; never header values or bodies.
public final class HTTPClient: Sendable {
    private let transport: CurlTransport
    public let classifier: ResponseClassifier
    /// API calls per repository connection.
    public let apiCalls: APICallCounter
    private let logger: Logger?
    private let now: @Sendable () -> Date

    public init(
        classifier: ResponseClassifier = ResponseClassifier(),
        logger: Logger? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.transport = CurlTransport()
        self.classifier = classifier
        self.apiCalls = APICallCounter()
        self.logger = logger
        self.now = now
    }

    /// Ends the transfer thread; running requests fail. Call once, when no request is expected any more.
    public func shutdown() async { await self.transport.shutdown() }

    /// One exchange, any status.
    public func execute(_ request: HTTPRequest, settings: ConnectionSettings) async throws -> HTTPResponse {
        try Task.checkCancellation()
        let transfer = try CurlTransfer(request, settings: settings)
        self.apiCalls.record(repository: settings.repository)
        return try await self.transport.perform(transfer)
    }

    /// One call with classification and, for idempotent requests, retries of transient failures. `reclassify`, a
    /// connector's own reading of its tool's answers, refines the default classification of a failed response (and
    /// may return nil: the answer is a success after all).
    public func send(
        _ request: HTTPRequest, settings: ConnectionSettings,
        reclassify: (@Sendable (_ response: HTTPResponse, _ classified: HTTPError) -> HTTPError?)? = nil
    ) async throws -> HTTPResponse {
        let attempts = request.isIdempotent ? max(1, settings.retry.maxAttempts) : 1
        var attempt = 0
        while true {
            attempt += 1
            let started = ContinuousClock.now
            var failure: HTTPError
            do {
                let response = try await self.execute(request, settings: settings)
                self.log(request, settings, status: response.status, started: started, attempt: attempt)
                guard var error = self.classifier.classify(response, request: request.description, now: self.now()) else {
                    return response
                }
                if let reclassify {
                    guard let refined = reclassify(response, error) else { return response }
                    error = refined
                }
                failure = error
            } catch let error as HTTPError {
                self.log(request, settings, status: nil, started: started, attempt: attempt, error: error)
                failure = error
            }
            guard failure.kind == .transient, failure.pauseUntil == nil, attempt < attempts else { throw failure }
            try await Task.sleep(for: settings.retry.delay(after: attempt))
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
