import Crypto
import CryptoExtras
import Dispatch
import Foundation

/// Salted, slow password hashes: scrypt, with its parameters kept in the hash string so that they can be raised later
/// (`needsRehash` tells when a stored hash is weaker than the current parameters; it is re-hashed at the next login).
///
/// Format: `$scrypt$ln=15,r=8,p=1$<salt, base64>$<32-byte key, base64>` (N = 2^ln).
public struct PasswordHasher: Sendable {
    public struct Parameters: Sendable, Hashable {
        /// log2 of scrypt's cost N.
        public var logN: Int
        public var blockSize: Int
        public var parallelism: Int
        public init(logN: Int = 15, blockSize: Int = 8, parallelism: Int = 1) {
            self.logN = logN
            self.blockSize = blockSize
            self.parallelism = parallelism
        }
        /// N = 2^15, r = 8, p = 1: 32 MiB and about 0.1 s per hash (OWASP's scrypt minimum is N = 2^17 with r = 8 and
        /// p = 1, or equivalently lower N with higher p; raise it here and stored hashes follow at their next login).
        public static let standard = Parameters()
    }

    public static let maximumPasswordBytes = 1024
    public static let minimumPasswordLength = 8

    public let parameters: Parameters
    public init(parameters: Parameters = .standard) { self.parameters = parameters }

    /// Why a password is not acceptable, or nil.
    public static func weakness(of password: String) -> String? {
        if password.count < Self.minimumPasswordLength { return "must be at least \(Self.minimumPasswordLength) characters long" }
        if password.utf8.count > Self.maximumPasswordBytes { return "must be at most \(Self.maximumPasswordBytes) bytes long" }
        if Set(password).count < 3 { return "is too easy to guess (use at least 3 different characters)" }
        return nil
    }

    /// A new hash of `password` with a fresh 16-byte salt.
    public func hash(_ password: String) async throws -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let key = try await Self.derive(password, salt: salt, parameters: self.parameters)
        let p = self.parameters
        return "$scrypt$ln=\(p.logN),r=\(p.blockSize),p=\(p.parallelism)$\(Data(salt).base64EncodedString())$\(Data(key).base64EncodedString())"
    }

    /// Whether `password` matches `encoded` (constant-time comparison). A malformed hash never matches.
    public func verify(_ password: String, against encoded: String) async -> Bool {
        guard let (parameters, salt, expected) = Self.parse(encoded),
            let key = try? await Self.derive(password, salt: salt, parameters: parameters, length: expected.count)
        else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(key, expected) { difference |= a ^ b }
        return difference == 0 && key.count == expected.count
    }

    /// Whether `encoded` was made with weaker parameters than the current ones (or cannot be read).
    public func needsRehash(_ encoded: String) -> Bool {
        guard let (parameters, _, _) = Self.parse(encoded) else { return true }
        return parameters.logN < self.parameters.logN || parameters.blockSize < self.parameters.blockSize
            || parameters.parallelism < self.parameters.parallelism
    }

    /// Spends as long as a real verification, so that an unknown user name takes as long to reject as a wrong password.
    public func burn(_ password: String) async {
        _ = try? await Self.derive(password, salt: Array(repeating: 0, count: 16), parameters: self.parameters)
    }

    static func parse(_ encoded: String) -> (Parameters, [UInt8], [UInt8])? {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty, parts[1] == "scrypt" else { return nil }
        var values: [String: Int] = [:]
        for item in parts[2].split(separator: ",") {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let value = Int(pair[1]) else { return nil }
            values[String(pair[0])] = value
        }
        guard let logN = values["ln"], let r = values["r"], let p = values["p"], (1...24).contains(logN), (1...64).contains(r),
            (1...16).contains(p), let salt = Data(base64Encoded: String(parts[3])), let key = Data(base64Encoded: String(parts[4])),
            !salt.isEmpty, (16...64).contains(key.count)
        else { return nil }
        return (Parameters(logN: logN, blockSize: r, parallelism: p), Array(salt), Array(key))
    }

    /// At most this many hashes are computed at once (each takes 32 MiB and a core for ~0.1 s); more wait their turn,
    /// so a burst of logins cannot exhaust memory.
    public static let concurrentHashes = 2
    static let gate = HashGate(limit: PasswordHasher.concurrentHashes)

    /// scrypt off Swift's cooperative pool, through the gate.
    static func derive(_ password: String, salt: [UInt8], parameters: Parameters, length: Int = 32) async throws -> [UInt8] {
        await Self.gate.acquire()
        do {
            let key = try await Self.compute(password, salt: salt, parameters: parameters, length: length)
            await Self.gate.release()
            return key
        } catch {
            await Self.gate.release()
            throw error
        }
    }

    static func compute(_ password: String, salt: [UInt8], parameters: Parameters, length: Int) async throws -> [UInt8] {
        // BoringSSL is handed the buffer's base address: never an empty one.
        let bytes = Array(password.utf8) + [0x00]
        let input = bytes.count == 1 ? bytes : Array(bytes.dropLast())
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    let key = try KDF.Scrypt.deriveKey(
                        from: input, salt: salt, outputByteCount: length, rounds: 1 << parameters.logN, blockSize: parameters.blockSize,
                        parallelism: parameters.parallelism)
                    continuation.resume(returning: key.withUnsafeBytes { Array($0) })
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}

/// A counting semaphore for async code: `acquire` waits (in arrival order) while `limit` holders are inside.
actor HashGate {
    let limit: Int
    var holders = 0
    var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = limit }

    func acquire() async {
        if self.holders < self.limit {
            self.holders += 1
            return
        }
        await withCheckedContinuation { self.waiters.append($0) }
    }

    /// Hands the place to the first waiter, if any.
    func release() {
        if self.waiters.isEmpty {
            self.holders -= 1
        } else {
            self.waiters.removeFirst().resume()
        }
    }
}
