import CHiredis

#if canImport(Glibc)
import Glibc
#endif

/// One blocking hiredis connection. Not thread-safe and deliberately not `Sendable`: it belongs to
/// the thread that runs it (a `RedisClient` lane). After any I/O error it is `isBroken` and must be
/// replaced (hiredis contexts cannot be reused after an error).
public final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>

    /// hiredis writes with `write()`: a reset socket would raise SIGPIPE and kill the process.
    private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    /// Connects, authenticates, selects the database and checks the server answers. Errors are
    /// `RedisError` with code `.connect`, `.authentication` or `.configuration`.
    public init(configuration: RedisConfiguration) throws {
        _ = Self.ignoreSIGPIPE
        guard
            let context = redisConnectWithTimeout(
                configuration.host, Int32(configuration.port), Self.timeval(configuration.connectTimeout))
        else { throw RedisError(.connect, "cannot allocate a hiredis context") }
        if context.pointee.err != 0 {
            let message = Self.errorMessage(of: context)
            redisFree(context)
            throw RedisError(.connect, "\(configuration.host):\(configuration.port): \(message)")
        }
        self.context = context
        _ = redisEnableKeepAlive(context)
        // The connect timeout is also the socket timeout until now: AUTH/SELECT/PING run under it.
        if let password = configuration.password {
            var auth: [any RedisArgument] = ["AUTH"]
            if let username = configuration.username { auth.append(username) }
            auth.append(password)
            if case .error(let message) = try self.command(auth) {
                throw RedisError(.authentication, "\(configuration): \(message)")
            }
        }
        if configuration.database != 0,
            case .error(let message) = try self.command(["SELECT", configuration.database])
        {
            throw RedisError(.configuration, "\(configuration): SELECT \(configuration.database): \(message)")
        }
        switch try self.command(["PING"]) {
        case .error(let message) where message.hasPrefix("NOAUTH") || message.hasPrefix("WRONGPASS"):
            throw RedisError(.authentication, "\(configuration): \(message)")
        case .error(let message):
            throw RedisError(.server, "\(configuration): PING: \(message)")
        default:
            break
        }
        _ = redisSetTimeout(context, Self.timeval(configuration.commandTimeout))
    }

    deinit { redisFree(self.context) }

    /// The socket, for `shutdown(2)` from another thread to wake a blocked read.
    public var fileDescriptor: Int32 { self.context.pointee.fd }

    /// True after any I/O or protocol error: make a new connection.
    public var isBroken: Bool { self.context.pointee.err != 0 }

    /// True when the idle socket is readable: with no request outstanding that can only be the
    /// server's close (restart, timeout, `CLIENT KILL`), so a command sent now would be lost.
    public var isClosedByServer: Bool {
        var descriptor = pollfd(fd: self.fileDescriptor, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0
    }

    /// Sends one command and reads its reply. An error reply is returned as `.error`, not thrown;
    /// a broken connection throws `RedisError.connectionLost`.
    public func command(_ arguments: [any RedisArgument]) throws -> RedisValue {
        let raw = Self.withArgv(arguments) { argc, argv, lengths in
            redisCommandArgv(self.context, argc, argv, lengths)
        }
        guard let raw else { throw self.lostError() }
        defer { freeReplyObject(raw) }
        return RedisValue(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Sends all commands in one write and reads all replies (pipelining): one round trip.
    public func pipeline(_ commands: [[any RedisArgument]]) throws -> [RedisValue] {
        for arguments in commands {
            let status = Self.withArgv(arguments) { argc, argv, lengths in
                redisAppendCommandArgv(self.context, argc, argv, lengths)
            }
            if status != REDIS_OK { throw self.lostError() }
        }
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(self.context, &raw) == REDIS_OK, let reply = raw else { throw self.lostError() }
            replies.append(RedisValue(reply.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(reply)
        }
        return replies
    }

    private func lostError() -> RedisError {
        RedisError(.connectionLost, Self.errorMessage(of: self.context))
    }

    private static func errorMessage(of context: UnsafeMutablePointer<redisContext>) -> String {
        let text = withUnsafeBytes(of: context.pointee.errstr) {
            String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return text.isEmpty ? "hiredis error \(context.pointee.err)" : text
    }

    private static func timeval(_ duration: Duration) -> timeval {
        let (seconds, attoseconds) = duration.components
        return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }

    /// Packs the arguments into one buffer; argv[i] points into it and lengths[i] is its size.
    private static func withArgv<R>(
        _ arguments: [any RedisArgument],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        var total = 0
        for argument in arguments { total += argument.withRedisBytes { $0.count } }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(total, 1), alignment: 1)
        let argv = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(arguments.count, 1))
        let lengths = UnsafeMutablePointer<Int>.allocate(capacity: max(arguments.count, 1))
        defer {
            buffer.deallocate()
            argv.deallocate()
            lengths.deallocate()
        }
        var offset = 0
        for (index, argument) in arguments.enumerated() {
            let count = argument.withRedisBytes { bytes -> Int in
                if let base = bytes.baseAddress, bytes.count > 0 {
                    (buffer + offset).copyMemory(from: base, byteCount: bytes.count)
                }
                return bytes.count
            }
            argv[index] = UnsafePointer((buffer + offset).assumingMemoryBound(to: CChar.self))
            lengths[index] = count
            offset += count
        }
        return body(Int32(arguments.count), argv, lengths)
    }
}

extension RedisValue {
    /// Deep-copies a hiredis reply tree (the caller frees the C reply).
    init(_ pointer: UnsafePointer<redisReply>) {
        let reply = pointer.pointee
        func text() -> String {
            String(decoding: UnsafeRawBufferPointer(start: reply.str, count: reply.len), as: UTF8.self)
        }
        switch reply.type {
        case REDIS_REPLY_STATUS: self = .status(text())
        case REDIS_REPLY_ERROR: self = .error(text())
        case REDIS_REPLY_INTEGER: self = .integer(Int64(reply.integer))
        case REDIS_REPLY_STRING: self = .bulk(Array(UnsafeRawBufferPointer(start: reply.str, count: reply.len)))
        case REDIS_REPLY_ARRAY:
            self = .array((0..<reply.elements).map { index in reply.element[index].map { RedisValue($0) } ?? .null })
        case REDIS_REPLY_NIL: self = .null
        default: self = .error("unknown hiredis reply type \(reply.type)")
        }
    }
}
