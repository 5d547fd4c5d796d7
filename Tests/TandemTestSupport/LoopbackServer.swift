import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A TCP listener on a free port of 127.0.0.1 for tests' fake servers: each accepted connection gets a thread of its
/// own running `handle` with the connection's descriptor, which `handle` closes.
public final class LoopbackServer: Sendable {
    public let port: Int
    private let listener: Int32
    private let accepted = Atomic<Int>(0)
    /// Connections accepted so far.
    public var connections: Int { self.accepted.load(ordering: .relaxed) }

    public init(backlog: Int32 = 64, handle: @escaping @Sendable (Int32) -> Void) throws {
        let (fd, port) = Self.socket(listening: backlog)
        guard port > 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        self.listener = fd
        self.port = port
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(self.listener, nil, nil)
                if client < 0 { return }
                self.accepted.add(1, ordering: .relaxed)
                Thread.detachNewThread { handle(client) }
            }
        }
    }

    public func stop() {
        shutdown(self.listener, Int32(SHUT_RDWR))
        close(self.listener)
    }

    /// A port nothing listens on now (bound, read back, released).
    public static func unusedPort() -> Int {
        let (fd, port) = Self.socket(listening: nil)
        close(fd)
        return port
    }

    /// A TCP socket bound to a free port of 127.0.0.1, and that port (0 when binding failed); listening when `backlog`
    /// is given.
    static func socket(listening backlog: Int32?) -> (fd: Int32, port: Int) {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound != 0 || (backlog.map { listen(fd, $0) } ?? 0) != 0 { return (fd, 0) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}
