public import Foundation
import HTTP
public import TandemCore

/// Attachments: multipart upload (`file` part, `X-Atlassian-Token: no-check`); downloads from the repository's own host.
extension JiraConnector {
    public func uploadAttachment(id: String, filename: String, contentType: String, data: Data) async throws -> WriteResult {
        var form = MultipartForm()
        form.addFile("file", filename: filename, contentType: contentType, data: data)
        let request = self.session.request(
            .post, try await self.api(self.issuePath(id) + "/attachments"), body: form.encoded(), contentType: form.contentType,
            headers: [HTTPHeader("X-Atlassian-Token", "no-check")])
        let answer: JSONValue
        do {
            answer = try await self.json(request)
        } catch let error as ConnectorError where error.code == .notFound {
            throw ConnectorError.gone(id, tool: self.tool)
        }
        let attachment = answer.array?.first(where: { $0["filename"]?.string == filename }) ?? answer.array?.first
        return try await self.written(id, itemID: attachment?["id"]?.idString)
    }

    /// Cloud: `GET /rest/api/3/attachment/content/{id}?redirect=false` (the bytes, no redirect to the media host).
    /// Data Center: `/secure/attachment/{id}/{filename}` on the configured base URL. A redirect to another host is
    /// followed without credentials (a pre-signed address); credentials go only to the repository's host.
    public func attachmentContent(artifactID: String, attachment: AttachmentInfo) async throws -> Data {
        guard Int(attachment.id) != nil else { throw ConnectorError.invalidArgument("Jira attachment ids are numbers: \(attachment.id)") }
        let request: HTTPRequest
        let accept = [HTTPHeader("Accept", "*/*")]
        if try await self.flavour() == .cloud {
            request = self.session.request(
                .get, try await self.api("attachment/content/\(attachment.id)"), query: [("redirect", "false")], headers: accept)
        } else {
            request = self.session.request(
                .get, "/secure/attachment/\(attachment.id)/\(RESTSession.encode(attachment.filename))", headers: accept)
        }
        var response: HTTPResponse
        do {
            response = try await self.session.send(request)
            if (300..<400).contains(response.status), let location = response.header("Location").flatMap({ URL(string: $0, relativeTo: request.url) })
            {
                let sameHost =
                    location.host?.lowercased() == self.configuration.baseURL.host?.lowercased()
                    && location.port == self.configuration.baseURL.port && location.scheme == self.configuration.baseURL.scheme
                var next =
                    sameHost
                    ? self.session.request(.get, "", headers: accept, absolute: location.absoluteURL)
                    : HTTPRequest(.get, location.absoluteURL, headers: accept)
                next.idempotent = true
                response = try await self.session.send(next)
            }
        } catch let error as ConnectorError where error.code == .notFound {
            throw ConnectorError(
                .artifactGone, kind: .permanent, message: "Jira attachment \(attachment.id) of issue \(artifactID) no longer exists")
        }
        return try AttachmentDownload.bytes(response, attachment: attachment, request: request.description, tool: self.tool)
    }
}
