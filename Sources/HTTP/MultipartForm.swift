public import Foundation

/// A `multipart/form-data` body (RFC 7578), for file uploads.
public struct MultipartForm: Sendable {
    public let boundary: String
    private var body = Data()

    public init(boundary: String = "tandem-\(UUID().uuidString)") { self.boundary = boundary }

    public var contentType: String { "multipart/form-data; boundary=\(self.boundary)" }

    public mutating func addField(_ name: String, _ value: String) {
        self.body.append(Data("--\(self.boundary)\r\nContent-Disposition: form-data; name=\"\(Self.quote(name))\"\r\n\r\n".utf8))
        self.body.append(Data(value.utf8))
        self.body.append(Data("\r\n".utf8))
    }

    public mutating func addFile(_ name: String, filename: String, contentType: String, data: Data) {
        self.body.append(Data("--\(self.boundary)\r\n".utf8))
        self.body.append(
            Data("Content-Disposition: form-data; name=\"\(Self.quote(name))\"; filename=\"\(Self.quote(filename))\"\r\n".utf8))
        self.body.append(Data("Content-Type: \(contentType)\r\n\r\n".utf8))
        self.body.append(data)
        self.body.append(Data("\r\n".utf8))
    }

    public func encoded() -> Data { self.body + Data("--\(self.boundary)--\r\n".utf8) }

    private static func quote(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "%22")
            .replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
    }
}
