public import Foundation
public import HTTP

extension HTTPClient {
    /// One call with the tracker policy on top of the transport: the response is classified
    /// (`ResponseClassifier`, refined by the connector's `reclassify`, which may also return nil: the answer is a
    /// success after all); success is returned, a failure thrown as a classified `HTTPError`. Idempotent requests
    /// are retried in process after transient failures (backoff with jitter, per `ConnectionSettings.retry`);
    /// non-idempotent ones never are. A rate limit is never slept on: the error carries `pauseUntil` for the queue.
    public func send(
        _ request: HTTPRequest, settings: ConnectionSettings, classifier: ResponseClassifier = ResponseClassifier(),
        now: @Sendable () -> Date = { Date() },
        reclassify: (@Sendable (_ response: HTTPResponse, _ classified: HTTPError) -> HTTPError?)? = nil
    ) async throws -> HTTPResponse {
        let attempts = request.isIdempotent ? max(1, settings.retry.maxAttempts) : 1
        var attempt = 0
        while true {
            attempt += 1
            var failure: HTTPError
            do {
                let response = try await self.execute(request, settings: settings, attempt: attempt)
                guard var error = classifier.classify(response, request: request.description, now: now()) else {
                    return response
                }
                if let reclassify {
                    guard let refined = reclassify(response, error) else { return response }
                    error = refined
                }
                failure = error
            } catch let error as HTTPError {
                failure = error
            }
            guard failure.kind == .transient, failure.pauseUntil == nil, attempt < attempts else { throw failure }
            try await Task.sleep(for: settings.retry.delay(after: attempt))
        }
    }
}
