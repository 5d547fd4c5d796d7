public import Foundation
import Synchronization

/// Runs blocking calls (sockets, child processes, `sleep`) on a thread of their own, off Swift's cooperative pool: it has
/// two threads on two cores, and a test waiting there starves the servers it talks to and every test running beside it.
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

/// What a child process printed and how it ended.
public struct ProcessOutcome: Sendable {
    public let status: Int32
    public let output: String
    public let error: String
}

/// Runs `executable` to its end off the cooperative pool, feeding it `input` and collecting both output streams.
public func runProcess(
    _ executable: URL, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil,
    directory: URL? = nil
) async throws -> ProcessOutcome {
    try await offThePool {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe()
        let error = Pipe()
        let standardInput = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = standardInput
        try process.run()
        if let input { standardInput.fileHandleForWriting.write(Data(input.utf8)) }
        try standardInput.fileHandleForWriting.close()
        // stderr is drained on a thread of its own, so a child filling that pipe cannot stall against our stdout read.
        let errorData = Mutex<Data>(Data())
        let drained = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let data = error.fileHandleForReading.readDataToEndOfFile()
            errorData.withLock { $0 = data }
            drained.signal()
        }
        let out = output.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        return ProcessOutcome(
            status: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
            error: String(decoding: errorData.withLock { $0 }, as: UTF8.self))
    }
}
