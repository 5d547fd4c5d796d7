import CCurl
import Foundation
import Synchronization

/// One request on its own easy handle. Configured on the caller's thread, then owned by the transport's
/// loop thread until `finish`; the continuation is resumed exactly once (guarded by `resumed`).
final class CurlTransfer: @unchecked Sendable {
    private static let nextID = Atomic<UInt64>(0)

    let id: UInt64
    let easy: UnsafeMutableRawPointer
    let requestDescription: String
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let limit: Int
    // Written by libcurl callbacks on the loop thread only.
    fileprivate var body = Data()
    fileprivate var headerLines: [(name: String, value: String)] = []
    fileprivate var tooLarge = false
    var continuation: CheckedContinuation<HTTPResponse, any Error>?
    private let resumed = Atomic<Bool>(false)

    init(_ request: HTTPRequest, settings: ConnectionSettings) throws(HTTPError) {
        CurlGlobal.ensureInitialized()
        guard let easy = curl_easy_init() else {
            throw HTTPError(.transport, kind: .transient, message: "curl_easy_init failed")
        }
        self.id = Self.nextID.add(1, ordering: .relaxed).newValue
        self.easy = easy
        self.requestDescription = request.description
        self.limit = settings.maxResponseBytes
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        try self.configure(request, settings)
    }

    deinit {
        curl_easy_cleanup(self.easy)
        curl_slist_free_all(self.headerList)
        self.errorBuffer.deallocate()
    }

    private func check(_ code: CURLcode, _ what: String) throws(HTTPError) {
        guard code == CURLE_OK else {
            throw HTTPError(.invalidSettings, kind: .needsAttention, message: "\(what): \(String(cString: curl_easy_strerror(code)))")
        }
    }

    private func configure(_ request: HTTPRequest, _ settings: ConnectionSettings) throws(HTTPError) {
        let h = self.easy
        try check(tandem_easy_setopt_string(h, CURLOPT_URL, request.url.absoluteString), "URL")
        _ = tandem_easy_setopt_string(h, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = tandem_easy_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = tandem_easy_setopt_ptr(h, CURLOPT_ERRORBUFFER, self.errorBuffer)
        _ = tandem_easy_setopt_long(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS)
        _ = tandem_easy_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, settings.connectTimeout.milliseconds)
        _ = tandem_easy_setopt_long(h, CURLOPT_TIMEOUT_MS, settings.requestTimeout.milliseconds)
        _ = tandem_easy_setopt_string(h, CURLOPT_USERAGENT, settings.userAgent)
        _ = tandem_easy_setopt_string(h, CURLOPT_ACCEPT_ENCODING, "")  // whatever libcurl can decode
        _ = tandem_easy_setopt_long(h, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0)
        _ = tandem_easy_setopt_long(h, CURLOPT_MAXREDIRS, 5)
        _ = tandem_easy_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1)

        // TLS: validated unless this connection allows insecure connections.
        _ = tandem_easy_setopt_long(h, CURLOPT_SSL_VERIFYPEER, settings.allowInsecure ? 0 : 1)
        _ = tandem_easy_setopt_long(h, CURLOPT_SSL_VERIFYHOST, settings.allowInsecure ? 0 : 2)
        if let path = settings.caBundlePath { try check(tandem_easy_setopt_string(h, CURLOPT_CAINFO, path), "CA bundle") }
        if let certificate = settings.clientCertificate {
            try check(tandem_easy_setopt_string(h, CURLOPT_SSLCERTTYPE, certificate.format.rawValue), "certificate type")
            let certCode = certificate.certificate.withUnsafeBytes { raw in
                tandem_easy_setopt_blob(h, CURLOPT_SSLCERT_BLOB, raw.baseAddress, raw.count)
            }
            try check(certCode, "client certificate")
            if let key = certificate.privateKey {
                let keyCode = key.withUnsafeBytes { raw in
                    tandem_easy_setopt_blob(h, CURLOPT_SSLKEY_BLOB, raw.baseAddress, raw.count)
                }
                try check(keyCode, "client key")
            }
            if let password = certificate.password { _ = tandem_easy_setopt_string(h, CURLOPT_KEYPASSWD, password.revealed) }
        }

        // Proxy: per connection; "" disables libcurl's use of proxy environment variables.
        if let proxy = settings.proxy {
            try check(tandem_easy_setopt_string(h, CURLOPT_PROXY, proxy.url), "proxy")
            if let user = proxy.username {
                _ = tandem_easy_setopt_string(h, CURLOPT_PROXYUSERNAME, user)
                _ = tandem_easy_setopt_string(h, CURLOPT_PROXYPASSWORD, proxy.password?.revealed ?? "")
                _ = tandem_easy_setopt_long(h, CURLOPT_PROXYAUTH, tandem_auth_any)
            }
        } else {
            _ = tandem_easy_setopt_string(h, CURLOPT_PROXY, "")
        }

        // Method and body.
        switch request.method {
        case .get: _ = tandem_easy_setopt_long(h, CURLOPT_HTTPGET, 1)
        case .head: _ = tandem_easy_setopt_long(h, CURLOPT_NOBODY, 1)
        default:
            _ = tandem_easy_setopt_string(h, CURLOPT_CUSTOMREQUEST, request.method.rawValue)
        }
        if let body = request.body ?? (request.method == .post || request.method == .put || request.method == .patch ? Data() : nil) {
            // COPYPOSTFIELDS copies the bytes (binary-safe, size set first); an empty body still sends
            // Content-Length: 0 (Roundup waits for a body otherwise).
            _ = tandem_easy_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            body.withUnsafeBytes { raw in
                _ = tandem_easy_setopt_ptr(
                    h, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
            }
            if request.method == .post, request.body == nil { _ = tandem_easy_setopt_long(h, CURLOPT_POST, 1) }
        }

        var list: UnsafeMutablePointer<curl_slist>?
        var names = Set<String>()
        for header in request.headers {
            names.insert(header.name.lowercased())
            list = curl_slist_append(list, "\(header.name): \(header.value)")
        }
        if !names.contains("expect") { list = curl_slist_append(list, "Expect:") }  // no 100-continue round trip
        if request.body != nil, !names.contains("content-type") {
            list = curl_slist_append(list, "Content-Type: application/octet-stream")
        }
        self.headerList = list
        _ = tandem_easy_setopt_ptr(h, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(list))

        let me = Unmanaged.passUnretained(self).toOpaque()
        _ = tandem_easy_setopt_writefn(h, CURLOPT_WRITEFUNCTION, curlWrite)
        _ = tandem_easy_setopt_ptr(h, CURLOPT_WRITEDATA, me)
        _ = tandem_easy_setopt_writefn(h, CURLOPT_HEADERFUNCTION, curlHeader)
        _ = tandem_easy_setopt_ptr(h, CURLOPT_HEADERDATA, me)
    }

    /// Called on the loop thread when libcurl reports the transfer done.
    func complete(_ code: CURLcode) {
        if code == CURLE_OK {
            var status = 0
            _ = tandem_easy_getinfo_long(self.easy, CURLINFO_RESPONSE_CODE, &status)
            var version = 0
            _ = tandem_easy_getinfo_long(self.easy, CURLINFO_HTTP_VERSION, &version)
            let versionText = version == CURL_HTTP_VERSION_2_0 ? "2" : version == CURL_HTTP_VERSION_3 ? "3" : "1.1"
            self.finish(.success(HTTPResponse(status: status, headers: self.headerLines, body: self.body, httpVersion: versionText)))
        } else {
            self.finish(.failure(self.transportError(code)))
        }
    }

    func finish(_ result: Result<HTTPResponse, any Error>) {
        guard !self.resumed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        self.continuation?.resume(with: result)
        self.continuation = nil
    }

    private func transportError(_ code: CURLcode) -> HTTPError {
        let detail = String(cString: self.errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        var connectCode = 0
        _ = tandem_easy_getinfo_long(self.easy, CURLINFO_HTTP_CONNECTCODE, &connectCode)
        func error(_ c: HTTPError.Code, _ kind: FailureKind, _ text: String = message) -> HTTPError {
            HTTPError(c, kind: kind, message: text, request: self.requestDescription)
        }
        if connectCode == 407 { return error(.proxyAuthentication, .needsAttention, "proxy authentication failed: \(message)") }
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_PROXY:
            return error(.unreachable, .transient)
        case CURLE_OPERATION_TIMEDOUT:
            return error(.timeout, .transient)
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM,
            CURLE_WEIRD_SERVER_REPLY, CURLE_BAD_CONTENT_ENCODING:
            return error(.connectionLost, .transient)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            return error(.insecureConnection, .needsAttention, "TLS validation failed: \(message)")
        case CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER:
            return error(.clientCertificate, .needsAttention)
        case CURLE_UNSUPPORTED_PROTOCOL where message.contains("HTTP/0.9"):
            return error(.invalidResponse, .transient, "the server did not answer in HTTP: \(message)")
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return error(.invalidSettings, .needsAttention)
        case CURLE_WRITE_ERROR where self.tooLarge:
            return error(.responseTooLarge, .permanent, "response larger than \(self.limit) bytes")
        default:
            return error(.transport, .transient)
        }
    }

    fileprivate func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if self.body.count + bytes.count > self.limit {
            self.tooLarge = true
            return false
        }
        self.body.append(contentsOf: bytes)
        return true
    }

    fileprivate func header(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") {
            self.headerLines.removeAll()  // a new response (redirect, 100-continue): keep only the last one's
            return
        }
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        let name = String(trimmed[..<colon]).trimmingCharacters(in: .whitespaces)
        let value = String(trimmed[trimmed.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        self.headerLines.append((name, value))
    }
}

private let curlWrite: tandem_write_cb = { data, size, count, context in
    guard let context, let data else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    return transfer.append(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

private let curlHeader: tandem_write_cb = { data, size, count, context in
    guard let context, let data else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    transfer.header(String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self))
    return length
}

extension Duration {
    var milliseconds: Int {
        let (seconds, attoseconds) = self.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
