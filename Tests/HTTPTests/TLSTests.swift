import Foundation
import HTTP
import TandemConnectors
import TandemTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// TLS is validated by default; "allow insecure" switches it off per connection; a client certificate
/// (held in memory) is presented when the server asks. The server is `openssl s_server` on loopback,
/// with a throwaway CA made for the test.
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs openssl"))
struct TLSTests {
    let directory: URL
    let port: Int
    let server: Process

    init() async throws {
        self.directory = FileManager.default.temporaryDirectory.appending(path: "tandem-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        let script = """
            set -e
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=TandemTestCA
            printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext
            openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext
            openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=tandem-client
            openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2
            """
        // Key generation runs off the cooperative pool, like every wait below: a blocked pool thread stalls other tests.
        _ = try await runProcess(URL(filePath: "/bin/sh"), ["-c", script], directory: self.directory)
        self.port = try FaultServer.freePort()
        let server = Process()
        server.executableURL = URL(filePath: "/usr/bin/openssl")
        server.arguments = [
            "s_server", "-accept", "127.0.0.1:\(self.port)", "-cert", "server.pem", "-key", "server.key", "-CAfile", "ca.pem",
            "-Verify", "1", "-www", "-quiet",
        ]
        server.currentDirectoryURL = self.directory
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        self.server = server
        // Ready when it accepts connections (a loaded machine may take a while to start openssl).
        let deadline = Date().addingTimeInterval(60)
        while !Self.accepts(port: self.port), Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
    }

    private static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private func file(_ name: String) throws -> Data { try Data(contentsOf: self.directory.appending(path: name)) }

    private func get(_ settings: ConnectionSettings) async throws -> HTTPResponse {
        try await ConnectorClient.shared.send(HTTPRequest(.get, URL(string: "https://127.0.0.1:\(self.port)/")!), settings: settings)
    }

    @Test func tlsBehaviour() async throws {
        defer {
            // SIGKILL: a child spawned from a dispatch thread inherits its blocked SIGTERM.
            kill(self.server.processIdentifier, SIGKILL)
            try? FileManager.default.removeItem(at: self.directory)
        }
        let certificate = ConnectionSettings.ClientCertificate(
            certificate: try self.file("client.pem"), format: .pem, privateKey: try self.file("client.key"))

        // Validated by default: an unknown CA is refused, as needing attention.
        do {
            _ = try await self.get(ConnectionSettings(repository: "tls", clientCertificate: certificate, retry: .none))
            Issue.record("untrusted certificate accepted")
        } catch let error as HTTPError {
            #expect(error.code == .insecureConnection)
            #expect(error.kind == .needsAttention)
        }

        // Trusted CA + client certificate from memory.
        let trusted = ConnectionSettings(
            repository: "tls", caBundlePath: self.directory.appending(path: "ca.pem").path, clientCertificate: certificate, retry: .none)
        #expect(try await self.get(trusted).status == 200)

        // "Allow insecure" skips validation (the client certificate is still needed by this server).
        let insecure = ConnectionSettings(repository: "tls", allowInsecure: true, clientCertificate: certificate, retry: .none)
        #expect(try await self.get(insecure).status == 200)

        // Without the client certificate the server refuses the handshake.
        await #expect(throws: HTTPError.self) {
            _ = try await self.get(ConnectionSettings(repository: "tls", allowInsecure: true, retry: .none))
        }
    }
}

enum ConnectorClient {
    static let shared = HTTPClient()
}
