import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The sd_notify protocol without libsystemd: one datagram per message to the `AF_UNIX` socket named by
/// `NOTIFY_SOCKET` (a path, or an abstract name starting with `@`). Without `NOTIFY_SOCKET` every call does
/// nothing, so processes run the same under a plain shell, supervisord, Kubernetes or systemd.
///
/// With `Type=notify` systemd waits for `READY=1`; `STOPPING=1` tells it a graceful stop has begun;
/// `WATCHDOG=1` must come at least every `WatchdogSec` (see `watchdogInterval`), from the work loop itself so a
/// stuck loop is restarted.
public struct SystemdNotifier: Sendable {
    /// The socket address from `NOTIFY_SOCKET`; nil when unset (every call is then a no-op).
    public let socketPath: String?
    /// How often systemd expects `WATCHDOG=1` (`WATCHDOG_USEC`); nil when the watchdog is off or meant for another
    /// process (`WATCHDOG_PID` names a different pid).
    public let watchdogTimeout: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from the process's environment.
    public init() {
        self.init(environment: ProcessInfo.processInfo.environment)
    }

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`.
    public init(environment: [String: String]) {
        let socket = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        self.socketPath = socket
        var timeout: Duration?
        if let text = environment["WATCHDOG_USEC"], let micros = Int64(text), micros > 0 {
            let pid = environment["WATCHDOG_PID"].flatMap { Int32($0) }
            if pid == nil || pid == getpid() { timeout = .microseconds(micros) }
        }
        self.watchdogTimeout = timeout
    }

    /// Whether a service manager listens (`NOTIFY_SOCKET` is set).
    public var isEnabled: Bool { self.socketPath != nil }

    /// How often to send `WATCHDOG=1`: half the timeout, as sd_watchdog_enabled(3) advises; nil without a watchdog.
    public var watchdogInterval: Duration? { self.watchdogTimeout.map { $0 / 2 } }

    /// `READY=1` (with an optional `STATUS=`): start-up is complete.
    @discardableResult
    public func ready(status: String? = nil) -> Bool {
        self.notify(["READY=1"] + (status.map { ["STATUS=\($0)"] } ?? []))
    }

    /// `STOPPING=1`: a graceful stop has begun.
    @discardableResult
    public func stopping(status: String? = nil) -> Bool {
        self.notify(["STOPPING=1"] + (status.map { ["STATUS=\($0)"] } ?? []))
    }

    /// `WATCHDOG=1`: the process is alive and its loop turns.
    @discardableResult
    public func watchdog() -> Bool { self.notify(["WATCHDOG=1"]) }

    /// `STATUS=…`: a one-line status shown by `systemctl status`.
    @discardableResult
    public func status(_ text: String) -> Bool { self.notify(["STATUS=\(text)"]) }

    /// Sends the assignments (`NAME=value`) in one datagram. Returns false when nothing was sent (no socket, or
    /// the send failed); a service manager that went away is not an error worth stopping for.
    @discardableResult
    public func notify(_ assignments: [String]) -> Bool {
        guard let path = self.socketPath, !assignments.isEmpty else { return false }
        let message = assignments.map { $0.replacingOccurrences(of: "\n", with: " ") }.joined(separator: "\n")
        return Self.send(message, to: path)
    }

    private static func send(_ message: String, to path: String) -> Bool {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        // A path needs room for its terminating NUL; an abstract name does not have one.
        guard !bytes.isEmpty, bytes.count <= (abstract ? capacity : capacity - 1) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let length = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + bytes.count + (abstract ? 0 : 1)

        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let sent = Array(message.utf8).withUnsafeBytes { buffer in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    sendto(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), socketAddress, socklen_t(length))
                }
            }
        }
        return sent == message.utf8.count
    }
}
