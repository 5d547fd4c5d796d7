import Crypto
public import Foundation

/// A problem with the master key or with encrypted data. Messages never contain key material or plaintext.
public struct SecretError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable { case missingKey, malformedKey, wrongKey, tampered, malformedCiphertext }
    public var kind: Kind
    public var description: String
    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}

/// The master key that encrypts credentials at rest (AES-256-GCM).
///
/// Given as 32 bytes in base64 (44 characters) or hex (64 characters), in `TANDEM_MASTER_KEY` or in the file named
/// by `TANDEM_MASTER_KEY_FILE`. `tandem keys generate` prints a new one.
public struct MasterKey: Sendable {
    let key: SymmetricKey
    /// A public fingerprint of the key (not the key): lets Tandem tell a wrong key from tampered data.
    public let id: String

    public init(bytes: [UInt8]) throws(SecretError) {
        guard bytes.count == 32 else {
            throw SecretError(.malformedKey, "the master key must be 32 bytes (AES-256); this one has \(bytes.count)")
        }
        self.key = SymmetricKey(data: bytes)
        let digest = SHA256.hash(data: Array("tandem-master-key-id:".utf8) + bytes)
        self.id = digest.prefix(6).map { String(format: "%02x", $0) }.joined()
    }

    /// Parses base64 or hex text (surrounding whitespace ignored).
    public init(text: String, source: String) throws(SecretError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.count == 64, let bytes = Self.hex(trimmed) {
            try self.init(bytes: bytes)
        } else if let data = Data(base64Encoded: trimmed) {
            do { try self.init(bytes: Array(data)) } catch {
                throw SecretError(.malformedKey, "\(source): \(error.description)")
            }
        } else {
            throw SecretError(.malformedKey, "\(source) is neither base64 nor 64 hex digits; generate a key with `tandem keys generate`")
        }
    }

    /// Reads `TANDEM_MASTER_KEY`, else the file named by `TANDEM_MASTER_KEY_FILE`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(SecretError) -> MasterKey {
        if let text = environment["TANDEM_MASTER_KEY"], !text.isEmpty {
            return try MasterKey(text: text, source: "TANDEM_MASTER_KEY")
        }
        if let path = environment["TANDEM_MASTER_KEY_FILE"], !path.isEmpty {
            return try Self.fromFile(path)
        }
        throw SecretError(
            .missingKey,
            "no master key: set TANDEM_MASTER_KEY or TANDEM_MASTER_KEY_FILE (credentials are encrypted with it; `tandem keys generate` makes one)")
    }

    public static func fromFile(_ path: String) throws(SecretError) -> MasterKey {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw SecretError(.missingKey, "cannot read the master key file '\(path)'")
        }
        return try MasterKey(text: text, source: "the master key file '\(path)'")
    }

    /// A new random key, base64.
    public static func generate() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    static func hex(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let high = iterator.next() {
            guard let low = iterator.next(), let h = Self.nibble(high), let l = Self.nibble(low) else { return nil }
            bytes.append(h << 4 | l)
        }
        return bytes
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Seals and opens secrets. Layout: `TDS1` · key id (6 bytes) · nonce (12) · ciphertext · tag (16). The context
/// (e.g. `repository:redmine`) is authenticated, so ciphertext moved to another row does not open.
public struct SecretBox: Sendable {
    static let magic: [UInt8] = Array("TDS1".utf8)
    public let key: MasterKey

    public init(key: MasterKey) { self.key = key }

    public func seal(_ plaintext: [UInt8], context: String) throws -> [UInt8] {
        let sealed = try AES.GCM.seal(plaintext, using: self.key.key, authenticating: Array(context.utf8))
        guard let combined = sealed.combined else {
            throw SecretError(.malformedCiphertext, "AES-GCM produced no combined output")
        }
        return Self.magic + Self.idBytes(self.key.id) + Array(combined)
    }

    public func open(_ sealed: [UInt8], context: String) throws(SecretError) -> [UInt8] {
        let header = Self.magic.count + 6
        guard sealed.count >= header + 12 + 16, Array(sealed.prefix(4)) == Self.magic else {
            throw SecretError(.malformedCiphertext, "\(context): the stored secret is not in Tandem's format")
        }
        let storedID = sealed[4..<header].map { String(format: "%02x", $0) }.joined()
        guard storedID == self.key.id else {
            throw SecretError(
                .wrongKey,
                "\(context): the secret was encrypted with master key \(storedID), but the key given is \(self.key.id); set the key this database was encrypted with"
            )
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed[header...])
            return Array(try AES.GCM.open(box, using: self.key.key, authenticating: Array(context.utf8)))
        } catch {
            throw SecretError(.tampered, "\(context): the stored secret failed authentication (tampered or corrupted)")
        }
    }

    public func seal(json object: [String: String], context: String) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try self.seal(Array(try encoder.encode(object)), context: context)
    }

    public func openJSON(_ sealed: [UInt8], context: String) throws -> [String: String] {
        let plaintext = try self.open(sealed, context: context)
        do { return try JSONDecoder().decode([String: String].self, from: Data(plaintext)) } catch {
            throw SecretError(.malformedCiphertext, "\(context): the decrypted secret is not a JSON object")
        }
    }

    static func idBytes(_ id: String) -> [UInt8] { MasterKey.hex(id) ?? [] }
}
