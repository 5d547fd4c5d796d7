import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawnp` and reaped with `waitpid`: Foundation's `Process`
/// busy-waits in `waitUntilExit` on Linux when called from Swift concurrency.
public struct ChildProcess: Sendable {
    public let pid: Int32

    /// Starts `executable` (looked up on PATH when it has no slash), with stdout and stderr sent
    /// to `outputPath` (default /dev/null).
    public init(_ executable: String, _ arguments: [String], outputPath: String = "/dev/null") throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        // The child starts with no blocked signals and default handlers (Dispatch's threads block
        // signals, and a parent may ignore SIGPIPE): otherwise SIGTERM would not stop it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: Int32 = 0
        let status = posix_spawnp(&pid, executable, &actions, &attributes, argv, environ)
        guard status == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EINVAL, userInfo: [NSLocalizedDescriptionKey: executable])
        }
        self.pid = pid
    }

    /// Sends a signal (SIGTERM by default).
    public func signal(_ signal: Int32 = 15) {  // SIGTERM
        _ = kill(self.pid, signal)
    }

    /// True while the process has not exited (and has not been reaped).
    public var isRunning: Bool {
        var status: Int32 = 0
        return waitpid(self.pid, &status, WNOHANG) == 0
    }

    /// Waits for the exit without blocking a cooperative thread; returns the exit status
    /// (128 + signal when killed).
    @discardableResult
    public func wait() async -> Int32 {
        while true {
            var status: Int32 = 0
            let result = waitpid(self.pid, &status, WNOHANG)
            if result == self.pid {
                let signalled = status & 0x7f
                return signalled == 0 ? (status >> 8) & 0xff : 128 + signalled
            }
            if result < 0 { return -1 }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits for the exit, blocking the calling thread (for synchronous code).
    @discardableResult
    public func waitBlocking() -> Int32 {
        var status: Int32 = 0
        guard waitpid(self.pid, &status, 0) == self.pid else { return -1 }
        let signalled = status & 0x7f
        return signalled == 0 ? (status >> 8) & 0xff : 128 + signalled
    }
}
