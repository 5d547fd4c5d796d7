import Foundation
import HTTP

/// One issue as the site stores it. Field values are kept in a canonical form (option ids, user ids, ADF or wiki
/// text as given) and rendered per flavour on the way out.
struct JiraIssue: Sendable {
    struct Comment: Sendable {
        var id: Int
        var author: String
        var body: JSONValue
        var created: Date
        var updated: Date
    }

    struct Attachment: Sendable {
        var id: Int
        var filename: String
        var mimeType: String
        var size: Int
        var created: Date
        var author: String
    }

    struct RemoteLink: Sendable {
        var id: Int
        var globalID: String?
        var request: JSONValue
    }

    var id: Int
    var key: String
    var projectKey: String
    var typeID: String
    var statusID: String
    var resolutionID: String?
    var resolutionDate: Date?
    var created: Date
    var updated: Date
    var creator: String
    /// Settable fields by id (summary, description, priority, labels, assignee, reporter, duedate, custom fields).
    var fields: [String: JSONValue]
    var comments: [Comment] = []
    var attachments: [Attachment] = []
    var remoteLinks: [RemoteLink] = []
    var properties: [String: JSONValue] = [:]

    var summary: String { self.fields["summary"]?.string ?? "" }

    func subject(_ catalog: JiraCatalog) -> JQLSubject {
        JQLSubject(
            id: self.id, key: self.key, projectKey: self.projectKey, created: self.created, updated: self.updated,
            status: catalog.status(self.statusID).name, issueType: catalog.issueType(self.typeID)?.name ?? "", summary: self.summary,
            labels: self.fields["labels"]?.array?.compactMap(\.string) ?? [], properties: self.properties)
    }
}

/// A request Jira refuses, with the body it answers.
struct JiraFailure: Error, Sendable {
    var status: Int
    var body: JSONValue?
    var text: String?
    var headers: [(String, String)] = []

    init(status: Int, messages: [String] = [], errors: [String: String] = [:]) {
        self.status = status
        self.body = ["errorMessages": .array(messages.map(JSONValue.string)), "errors": .object(errors.mapValues(JSONValue.string))]
    }

    init(status: Int, text: String) {
        self.status = status
        self.text = text
    }

    static func bad(_ errors: [String: String]) -> JiraFailure { JiraFailure(status: 400, errors: errors) }
    static func bad(message: String) -> JiraFailure { JiraFailure(status: 400, messages: [message]) }
    static let issueNotFound = JiraFailure(status: 404, messages: ["Issue does not exist or you do not have permission to see it."])
    static func notFound(_ message: String) -> JiraFailure { JiraFailure(status: 404, messages: [message]) }
    static func cannotSet(_ field: String) -> String { "Field '\(field)' cannot be set. It is not on the appropriate screen, or unknown." }
}
