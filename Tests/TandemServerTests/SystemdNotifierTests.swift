import Foundation
import TandemSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket standing in for systemd's notification socket.
final class NotifySocket: @unchecked Sendable {  // the descriptor is only read by the test that owns it
    let fd: Int32
    /// What NOTIFY_SOCKET would hold: a path, or an abstract name starting with '@'.
    let address: String
    private let path: String?

    init(abstract: Bool) throws {
        let name = "tandem-test-\(UUID().uuidString.prefix(8))"
        self.address = abstract ? "@" + name : NSTemporaryDirectory() + name + ".sock"
        self.path = abstract ? nil : self.address
        self.fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(self.address.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + bytes.count + (abstract ? 0 : 1)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(self.fd, $0, socklen_t(length)) }
        }
        guard result == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EINVAL) }
    }

    deinit {
        close(self.fd)
        if let path { unlink(path) }
    }

    /// The next datagram, waiting up to `timeout`; nil if none came.
    func receive(timeout: Duration = .seconds(5)) async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            let count = recv(self.fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count >= 0 { return String(decoding: buffer[..<count], as: UTF8.self) }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }
}

@Suite("sd_notify over a real datagram socket")
struct SystemdNotifierTests {
    @Test(arguments: [false, true])
    func sendsReadyStatusWatchdogAndStopping(abstract: Bool) async throws {
        let socket = try NotifySocket(abstract: abstract)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address])
        #expect(notifier.isEnabled)
        #expect(notifier.ready(status: "listening"))
        #expect(try await socket.receive() == "READY=1\nSTATUS=listening")
        #expect(notifier.watchdog())
        #expect(try await socket.receive() == "WATCHDOG=1")
        #expect(notifier.status("two\nlines"))
        #expect(try await socket.receive() == "STATUS=two lines")
        #expect(notifier.stopping())
        #expect(try await socket.receive() == "STOPPING=1")
    }

    @Test func isANoOpWithoutNotifySocket() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(!notifier.ready())
        #expect(!notifier.watchdog())
        #expect(notifier.watchdogInterval == nil)
    }

    @Test func aMissingSocketIsNotAnError() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent/tandem/notify.sock"])
        #expect(!notifier.ready())
    }

    @Test func watchdogIntervalComesFromWatchdogUsec() {
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000"]).watchdogTimeout == .seconds(30))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000"]).watchdogInterval == .seconds(15))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid())"]).watchdogTimeout == .seconds(30))
        // Meant for another process, unset, or nonsense: no watchdog.
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"]).watchdogTimeout == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "abc"]).watchdogTimeout == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "0"]).watchdogTimeout == nil)
    }
}
