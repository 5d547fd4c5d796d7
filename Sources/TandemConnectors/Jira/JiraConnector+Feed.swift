public import Foundation
import HTTP
public import TandemCore

/// The change feed and the marker search.
///
/// Jira's search answers are eventually consistent: an issue written a moment ago may be missing from a search (the
/// index lags a few seconds), and JQL times have whole minutes in the API user's zone. The feed therefore re-reads the
/// lookback window (default 3 minutes) behind its high-water mark every time, from the start of that minute: an issue
/// the index shows late, with an `updated` older than the mark, is still inside the window on the next read and is
/// delivered then, while what was delivered is recognised by (id, updated) and not repeated. The other choice, holding
/// the mark at the repository's clock minus a lag allowance, would delay every change by that allowance; re-reading
/// costs one page of already-seen keys instead. What the cursor can never pass is an issue whose index entry is later
/// than the lookback: that bound is the `lookbackMinutes` option.
extension JiraConnector {
    public func cursor(startingAt time: Date) -> FeedCursor { ChangeFeedWindow.cursor(startingAt: time) }

    public func changes(project: String, since cursor: FeedCursor?, pageSize: Int) async throws -> ChangePage {
        let zone = try await self.timeZone()
        let cloud = try await self.flavour() == .cloud
        var tokens: [Int: String] = [:]
        return try await ChangeFeedWindow.read(
            cursor: cursor, pageSize: pageSize, overlap: self.configuration.lookback, remotePageSize: 100, tool: self.tool
        ) { from, offset, limit in
            let jql = JiraTime.feedJQL(project: project, from: from, zone: zone)
            let page = try await self.search(
                jql: jql, fields: ["updated"], offset: offset, token: tokens[offset], limit: limit, cloud: cloud, project: project)
            if let next = page.nextToken { tokens[offset + page.issues.count] = next }
            let entries = try page.issues.map { issue throws(ConnectorError) in try self.decode { () throws(HTTPError) in try Self.feedEntry(issue) }
            }
            return ChangeFeedWindow.RemotePage(entries: entries, isLast: page.isLast, repositoryTime: page.date)
        }
    }

    static func feedEntry(_ issue: JSONValue) throws(HTTPError) -> ChangedArtifact {
        let id = try issue.requireID("id", in: "issue")
        let text = try issue.require("fields", in: "issue \(id)").requireString("updated", in: "issue \(id) fields")
        guard let updated = JiraTime.parse(text) else { throw .invalidResponse("issue \(id): updated '\(text.prefix(40))' is not a Jira time") }
        return ChangedArtifact(id: id, updated: updated, version: JiraTime.version(updated))
    }

    struct SearchPage {
        var issues: [JSONValue]
        var isLast: Bool
        var nextToken: String?
        var date: Date?
    }

    /// One page of a JQL search: Cloud `POST /search/jql` (continuation token), Data Center `POST /search` (`startAt`).
    /// Jira answers an unknown project with 400 "does not exist for the field 'project'": a misconfiguration naming it.
    func search(
        jql: String, fields: [String], offset: Int, token: String?, limit: Int, cloud: Bool, project: String, properties: [String] = []
    ) async throws -> SearchPage {
        // Both flavours search by POST (read-only, so repeatable): Data Center's description types GET's `fields`
        // parameter as a list of objects, which `fields=updated` is not; its POST body takes a list of names.
        var body: [String: JSONValue] = [
            "jql": .string(jql), "maxResults": .number(Double(limit)), "fields": .array(fields.map { .string($0) }),
        ]
        if cloud {
            if !properties.isEmpty { body["properties"] = .array(properties.map { .string($0) }) }
            if let token { body["nextPageToken"] = .string(token) }
        } else {
            body["startAt"] = .number(Double(offset))
        }
        let request = try await self.request(.post, cloud ? "search/jql" : "search", json: .object(body), idempotent: true)
        let json: JSONValue
        let response: HTTPResponse
        do {
            (json, response) = try await self.exchange(request)
        } catch let error as ConnectorError where error.code == .validation && error.message.contains("'project'") {
            throw Self.projectNotFound(project, error)
        }
        let issues = try self.decode { () throws(HTTPError) in try json.requireArray("issues", in: "search answer") }
        if cloud {
            let next = json["nextPageToken"]?.string
            return SearchPage(issues: issues, isLast: json["isLast"]?.bool ?? (next == nil), nextToken: next, date: response.date)
        }
        let total = json["total"]?.int ?? 0
        return SearchPage(issues: issues, isLast: issues.isEmpty || offset + issues.count >= total, nextToken: nil, date: response.date)
    }

    /// The issues of a project created with this marker: the project's issues created since the first attempt (from the
    /// minute before it, less `markerSlack` for the two clocks; every page), or without that time the last 30 days'
    /// newest 200, with their marker property, filtered here. Entity properties are searchable by JQL only when an
    /// app declares them, so the filter cannot be JQL. Cloud's search returns the property; Data Center's does not,
    /// so each candidate's property is read (`GET /issue/{id}/properties/{key}`).
    /// Searches the project's recent issues for the marker. Jira's search index is eventually consistent: a create the
    /// index does not show yet looks like a create that never happened, and the engine would create the twin again.
    /// So a search that finds nothing waits `markerSettle` and looks once more before answering (only an unrecorded
    /// create asks, after a crash: the wait is rare). The end-to-end run with workers killed every 4 s made one
    /// duplicate twin in 200 before this.
    public func findByMarker(project: String, marker: String, createdSince: Date?) async throws -> [String] {
        let found = try await self.searchMarker(project: project, marker: marker, createdSince: createdSince)
        guard found.isEmpty else { return found }
        try await Task.sleep(for: .seconds(self.configuration.markerSettle))
        return try await self.searchMarker(project: project, marker: marker, createdSince: createdSince)
    }

    /// How far before the first attempt the search starts: the difference Jira's clock and the database's may have.
    static let markerSlack: TimeInterval = 600

    func searchMarker(project: String, marker: String, createdSince: Date?) async throws -> [String] {
        let cloud = try await self.flavour() == .cloud
        var jql = "project = \(JiraTime.quoted(project)) AND created >= -30d ORDER BY created DESC"
        var limit = 200
        if let createdSince {
            let from = JiraTime.jqlMinute(createdSince.addingTimeInterval(-Self.markerSlack), in: try await self.timeZone())
            jql = "project = \(JiraTime.quoted(project)) AND created >= \(from) ORDER BY created DESC"
            limit = 100_000
        }
        var found: [String] = []
        var offset = 0
        var token: String?
        while offset < limit {
            let page = try await self.search(
                jql: jql, fields: ["created"], offset: offset, token: token, limit: 50, cloud: cloud, project: project,
                properties: [self.configuration.markerProperty])
            for issue in page.issues {
                guard let id = issue["id"]?.idString else { continue }
                let value: String?
                if cloud {
                    value = Self.marker(in: issue["properties"]?[self.configuration.markerProperty])
                } else {
                    value = try await self.markerProperty(of: id)
                }
                if value == marker { found.append(id) }
            }
            offset += page.issues.count
            token = page.nextToken
            if page.isLast || page.issues.isEmpty { break }
        }
        return found
    }

    /// `{"marker": "…"}`, the property's value.
    static func marker(in property: JSONValue?) -> String? { property?["marker"]?.string ?? property?["value"]?["marker"]?.string }

    func markerProperty(of id: String) async throws -> String? {
        do {
            let json = try await self.json(
                try await self.request(.get, "issue/\(RESTSession.encode(id))/properties/\(RESTSession.encode(self.configuration.markerProperty))"))
            return Self.marker(in: json["value"])
        } catch let error as ConnectorError where error.code == .notFound {
            return nil
        }
    }
}
