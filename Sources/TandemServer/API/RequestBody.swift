import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// Reading a request's body, for the API and the web UI. A body that cannot be read — malformed chunked encoding, or
/// cut short by the client (fewer bytes than its `Content-Length`, then the connection closed) — is the client's doing:
/// a 400 naming why, logged at debug level only. Never a 5xx, and never an error-level line that any anonymous client
/// could write at will (issue 14 §7).
enum RequestBody {
    /// Why a body could not be read, in words for the client.
    struct Unreadable: Error, Sendable, CustomStringConvertible {
        var reason: String
        var description: String { "the request body could not be read: \(self.reason)" }
    }

    /// The whole body, at most `limit` bytes (`NIOTooManyBytesError` beyond); `Unreadable` when it cannot be read.
    static func collect(_ request: Request, upTo limit: Int, logger: Logger) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: limit)
        } catch let error as NIOTooManyBytesError {
            throw error
        } catch let error as HTTPParserError {
            logger.debug("Request body malformed", metadata: ["tandem.error": "\(error)"])
            throw Unreadable(reason: "it is malformed (\(error.debugDescription))")
        } catch {
            logger.debug("Request body cut short", metadata: ["tandem.error": "\(error)"])
            throw Unreadable(reason: "it ended early (the connection closed before the length it announced)")
        }
    }
}
