import TandemStore
import Testing

@Suite struct SecretBoxTests {
    let box = SecretBox(key: try! MasterKey(bytes: Array(0..<32)))

    @Test func roundTrip() throws {
        let sealed = try self.box.seal(Array("p@ss".utf8), context: "repository:a")
        #expect(try self.box.open(sealed, context: "repository:a") == Array("p@ss".utf8))
        #expect(!sealed.contains(UInt8(ascii: "@")) || sealed.count > 40)
        // Fresh nonce every time.
        #expect(try self.box.seal(Array("p@ss".utf8), context: "repository:a") != sealed)
    }

    @Test func wrongKeyIsNamedNotGarbage() throws {
        let sealed = try self.box.seal(Array("hunter2-plain".utf8), context: "c")
        let other = SecretBox(key: try MasterKey(bytes: Array(repeating: 1, count: 32)))
        #expect(throws: SecretError.self) { try other.open(sealed, context: "c") }
        do { _ = try other.open(sealed, context: "c") } catch {
            #expect(error.kind == .wrongKey)
            #expect(!error.description.contains("hunter2"))
        }
    }

    @Test(arguments: [10, 20, 30, 40]) func tamperedCiphertextFails(_ offset: Int) throws {
        var sealed = try self.box.seal(Array("secret value".utf8), context: "c")
        sealed[offset] ^= 0x01
        do {
            _ = try self.box.open(sealed, context: "c")
            Issue.record("tampering at \(offset) was not detected")
        } catch {
            #expect(error.kind == .tampered || error.kind == .wrongKey)
        }
    }

    @Test func contextBindsTheCiphertext() throws {
        let sealed = try self.box.seal(Array("x".utf8), context: "repository:a")
        #expect(throws: SecretError.self) { try self.box.open(sealed, context: "repository:b") }
    }

    @Test func malformedInputs() throws {
        #expect(throws: SecretError.self) { try self.box.open([1, 2, 3], context: "c") }
        #expect(throws: SecretError.self) { try MasterKey(bytes: [1, 2, 3]) }
        #expect(throws: SecretError.self) { try MasterKey(text: "not a key!", source: "test") }
        #expect(throws: SecretError.self) { try MasterKey(text: "AAAA", source: "test") }  // base64 of 3 bytes
        #expect(throws: SecretError.self) { try MasterKey.fromEnvironment([:]) }
        let hex = String(repeating: "ab", count: 32)
        #expect(try MasterKey(text: hex, source: "t").id == MasterKey(bytes: Array(repeating: 0xab, count: 32)).id)
        let generated = MasterKey.generate()
        #expect(try MasterKey(text: generated, source: "t").id.count == 12)
        #expect(try MasterKey.fromEnvironment(["TANDEM_MASTER_KEY": generated]).id == MasterKey(text: generated, source: "t").id)
    }
}
