/// The one error type of the Redis module. Compare by `code`; `message` carries the details and
/// never a password.
public struct RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// The URL or the settings are wrong.
        public static let configuration = Code("configuration")
        /// No connection could be made (refused, unreachable, timed out): the command was not sent.
        public static let connect = Code("connect")
        /// The server rejected the credentials (or demanded some).
        public static let authentication = Code("authentication")
        /// The connection broke during a command: it may or may not have run.
        public static let connectionLost = Code("connectionLost")
        /// The server answered with an error reply.
        public static let server = Code("server")
        /// A reply did not have the shape the caller expected.
        public static let unexpectedReply = Code("unexpectedReply")
        /// The client was closed.
        public static let closed = Code("closed")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "redis \(self.code): \(self.message)" }

    public static func == (lhs: RedisError, rhs: RedisError) -> Bool { lhs.code == rhs.code }
}
