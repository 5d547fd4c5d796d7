import Foundation
import HTTP

/// What every attachment download checks of its answer.
enum AttachmentDownload {
    /// The bytes of a download answer (2xx or 3xx; failures were classified already). Redirects are not followed: one to
    /// a login page means the credentials were rejected; any other answer but 2xx, or a body of another size than the
    /// tool announced, is an invalid response.
    static func bytes(_ response: HTTPResponse, attachment: AttachmentInfo, request: String, tool: String) throws(ConnectorError) -> Data {
        guard response.isSuccess else {
            if let location = response.header("Location"), location.lowercased().contains("/login") {
                throw ConnectorError(
                    .credentialsRejected, kind: .needsAttention,
                    message: "\(tool) rejected the credentials (the attachment download was sent to its login page)", status: response.status)
            }
            throw ConnectorError(
                .invalidResponse, kind: .permanent, message: "\(tool) answered HTTP \(response.status) to \(request)", status: response.status)
        }
        if let size = attachment.size, response.body.count != size {
            throw ConnectorError(
                .invalidResponse, kind: .transient,
                message: "\(tool) attachment \(attachment.id): \(response.body.count) bytes received, \(size) announced")
        }
        return response.body
    }
}
