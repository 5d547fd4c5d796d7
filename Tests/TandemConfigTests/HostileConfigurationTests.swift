import Foundation
import TandemConfig
import TandemTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether `text` holds a character that acts on a terminal (anything below U+0020 but the line feed, DEL, C1, the
/// bidirectional controls): what a message must never echo raw.
func actsOnTerminal(_ text: String) -> Bool {
    text.unicodeScalars.contains { scalar in
        (scalar.value < 0x20 && scalar != "\n") || (0x7F...0x9F).contains(scalar.value) || (0x202A...0x202E).contains(scalar.value)
            || (0x2066...0x2069).contains(scalar.value) || [0x061C, 0x200E, 0x200F, 0x2028, 0x2029].contains(scalar.value)
    }
}

@Suite struct HostileConfigurationTests {
    @Test func thereAreAtLeastFortyKinds() {
        #expect(Set(hostileInputs.map(\.name)).count == hostileInputs.count)
        #expect(hostileInputs.count >= 40)
    }

    /// Refused with the file, a line and the reason; the work done bounded by the bytes read, whatever the file says
    /// it expands to; the message safe to print.
    @Test(arguments: hostileInputs)
    func refusedWithFileLineAndReason(_ input: HostileInput) throws {
        let bytes = input.bytes()
        let outcome = YAMLGuard.check(bytes, file: "hostile.yaml")
        // Every event consumes input: what the scan did is bounded by the file, not by what its aliases stand for.
        #expect(outcome.events <= bytes.count + 4, "\(outcome.events) events from \(bytes.count) bytes")
        #expect(outcome.aliases <= YAMLLimits.standard.maximumAliases + 1)
        do {
            _ = try ConfigParser.parse(bytes: bytes, file: "hostile.yaml")
            Issue.record("\(input.name): accepted")
        } catch {
            let first = try #require(error.issues.first)
            #expect(first.file == "hostile.yaml")
            #expect(first.line != nil, "\(input.name): no line in \(first)")
            if let line = input.line { #expect(first.line == line, "\(input.name): \(first)") }
            #expect(first.reason.contains(input.reason), "\(input.name): \(first)")
            #expect(error.description.hasPrefix("1 problem") || error.description.contains("hostile.yaml:"))
            #expect(
                !actsOnTerminal(error.description), "\(input.name): the message echoes a control character: \(error.description.debugDescription)")
            #expect(error.description.utf8.count < 4000, "\(input.name): a message of \(error.description.utf8.count) bytes")
        }
    }

    /// The bombs are refused after a few thousand events: long before anything they describe is built.
    @Test func bombsStopEarly() {
        for name in ["billion laughs (10^9 from nine levels of ten)", "1,000 x 1,000 x 1,000 aliases (issue 14's 17 KB file)", "recursive alias"] {
            guard let input = hostileInputs.first(where: { $0.name == name }) else {
                Issue.record("no case \(name)")
                continue
            }
            let outcome = YAMLGuard.check(input.bytes(), file: nil)
            #expect(outcome.issue != nil)
            #expect(outcome.events < 5000, "\(name): \(outcome.events) events")
        }
    }

    /// Refused by a real `tandem apply` process in under 100 MB of memory, saying file, line and reason on standard
    /// error and printing nothing that acts on the terminal.
    ///
    /// Memory is the kernel's count of the child's peak resident set (`wait4`). Linux carries the spawning process's
    /// peak into it at `exec` (posix_spawn shares this test process's memory until then), so the figure is an upper
    /// bound: this process's peak or the child's, whichever is larger (about 40 MB for the child, 70 MB for this
    /// process alone, over 150 MB in the whole suite); a case may use 100 MB more than a trivial file's run. Time is the child's CPU time, with a bound far above what any case takes (at most 0.7 s unoptimized,
    /// the bombs 0.1 s): what keeps it short is the work the guard counts and stops (`refusedWithFileLineAndReason`),
    /// not this check, which only catches a case that runs away.
    @Test(arguments: hostileInputs)
    func refusedByTheCommandInBoundedTimeAndMemory(_ input: HostileInput) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-hostile-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("hostile.yaml").path
        try #require(FileManager.default.isExecutableFile(atPath: Self.tandemPath), "no tandem executable at \(Self.tandemPath): swift build")
        try Data(input.bytes()).write(to: URL(fileURLWithPath: file))
        // Through a shell that caps the child (10 s of CPU, 4 GB of address space) and then becomes it (`exec`, the
        // same process): a regression fails here instead of hanging the suite.
        let run = try await Self.apply(file, in: directory)
        #expect(run.status == 1, "\(input.name): exit status \(run.status)")
        // In a large test run this process's peak (carried into the child at exec) exceeds the child's own: the child
        // may then use at most 100 MB more than a trivial file's run, which carries the same figure.
        let allowed = max(100 * 1024, try await Self.trivialRunKilobytes() + 100 * 1024)
        #expect(run.maxResidentKilobytes < allowed, "\(input.name): \(run.maxResidentKilobytes) KB resident (allowed \(allowed))")
        #expect(run.cpuSeconds < 5, "\(input.name): \(run.cpuSeconds) s of CPU")
        #expect(run.stderr.contains("\(file):"), "\(input.name): \(run.stderr)")
        #expect(!actsOnTerminal(run.stderr), "\(input.name): \(run.stderr.debugDescription)")
    }

    static var tandemPath: String { builtExecutable("tandem", overriddenBy: "TANDEM_BIN") }

    /// Waits off the cooperative pool: a test blocked in `wait4` there would stall every test running beside it.
    static func apply(_ file: String, in directory: URL) async throws -> ChildRun {
        let command = "ulimit -t 10 && ulimit -v 4000000 && exec \"$0\" apply -f \"$1\" --database-url postgresql://127.0.0.1:1/unused"
        let tandem = Self.tandemPath
        return try await offThePool {
            try ChildRun("/bin/sh", ["-c", command, tandem, file], stderr: directory.appendingPathComponent("stderr").path)
        }
    }

    /// The peak the kernel reports for `tandem apply` of a one-line file it refuses at once, spawned the same way.
    static func trivialRunKilobytes() async throws -> Int {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-trivial-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("trivial.yaml").path
        try Data("version: 99\n".utf8).write(to: URL(fileURLWithPath: file))
        return try await Self.apply(file, in: directory).maxResidentKilobytes
    }
}

/// A child process run to its end, with what the kernel counted for it (`wait4`): peak resident memory and CPU time.
struct ChildRun {
    var status: Int32
    var maxResidentKilobytes: Int
    var cpuSeconds: Double
    var stderr: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(_ executable: String, _ arguments: [String], stderr path: String) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else { throw Failure(description: "no executable at \(executable)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        // A clean environment: no master key, database or log settings of the test's own.
        let environment: [String] = ["PATH=/usr/bin:/bin", "LOG_LEVEL=info"]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw Failure(description: "posix_spawn failed: \(spawned)") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) == -1 {
            guard errno == EINTR else { throw Failure(description: "wait4 failed: \(errno)") }
        }
        // WIFEXITED / WEXITSTATUS, which Swift does not import.
        self.status = status & 0x7F == 0 ? (status >> 8) & 0xFF : -(status & 0x7F)
        self.maxResidentKilobytes = Int(usage.ru_maxrss)
        self.cpuSeconds =
            Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec)
            / 1e6
        self.stderr =
            (try? String(contentsOfFile: path, encoding: .utf8))
            ?? String(decoding: (FileManager.default.contents(atPath: path) ?? Data()), as: UTF8.self)
    }
}
