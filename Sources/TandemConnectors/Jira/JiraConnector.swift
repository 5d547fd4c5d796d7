public import Foundation
public import HTTP
public import TandemCore

/// Jira, one connector for two flavours: Jira Cloud (REST v3 under `/rest/api/3`, bodies in ADF, users by `accountId`,
/// the feed on `POST /search/jql` paged by `nextPageToken`) and Jira Data Center (REST v2 under `/rest/api/2`, wiki
/// markup, users by `name`, the feed on `POST /search` paged by `startAt`).
///
/// - Projects are keys; artifact types are issue type ids (a name is accepted by `artifactTypeID`); fields are Jira's
///   field ids (`summary`, `customfield_10042`), where a name is accepted too (two fields of that name: an error
///   naming both ids).
/// - Artifacts are issues by numeric id (stable when an issue moves); `formattedID` is the key.
/// - The version of an issue is its `fields.updated` in milliseconds.
/// - Status changes go through the workflow's transitions (`JiraConnector+Transitions.swift`).
/// - The create marker is an issue entity property (`markerProperty`, default `tandem`).
public struct JiraConnector: Connector {
    public enum Flavour: String, Sendable, CaseIterable {
        /// Read `serverInfo.deploymentType` on first use.
        case auto
        case cloud
        case datacenter
    }

    public struct Configuration: Sendable {
        public static let defaultLookback: TimeInterval = 180

        public var baseURL: URL
        public var credentials: Credentials
        public var settings: ConnectionSettings
        public var flavour: Flavour
        /// Values transition screens require, by field id or name.
        public var transitionFields: [String: String]
        /// A field (id or name) that also receives the twin's URL.
        public var linkField: String?
        /// The issue entity property holding the create marker.
        public var markerProperty: String
        /// How far behind its mark the feed reads again.
        public var lookback: TimeInterval
        public var maxTransitionHops: Int
        /// How long a marker search that found nothing waits for the search index before it looks again (seconds).
        public var markerSettle: Double = 5

        public init(
            baseURL: URL, credentials: Credentials, settings: ConnectionSettings, flavour: Flavour = .auto,
            transitionFields: [String: String] = [:], linkField: String? = nil, markerProperty: String = "tandem",
            lookback: TimeInterval = Self.defaultLookback, maxTransitionHops: Int = 6
        ) {
            self.baseURL = baseURL
            self.credentials = credentials
            self.settings = settings
            self.flavour = flavour
            self.transitionFields = transitionFields
            self.linkField = linkField
            self.markerProperty = markerProperty
            self.lookback = lookback
            self.maxTransitionHops = maxTransitionHops
        }
    }

    /// What a connector learns once and shares between its copies.
    struct State: Sendable {
        var flavour: Flavour?
        var timeZone: TimeZone?
        var fields: [JiraField]?
        /// Issue type name (lower case) → id, per project.
        var issueTypes: [String: [String: String]] = [:]
        /// Learned workflow edges, per "project/issue type".
        var graphs: [String: JiraWorkflowGraph] = [:]
    }

    public let tool = "Jira"
    public let configuration: Configuration
    let session: RESTSession
    let state = SharedBox(State())

    public init(_ configuration: Configuration, client: HTTPClient) {
        self.configuration = configuration
        self.session = RESTSession(
            client: client, settings: configuration.settings, base: configuration.baseURL, credentials: configuration.credentials,
            tool: "Jira", reclassify: JiraConnector.reclassify)
        if configuration.flavour != .auto { self.state.withLock { $0.flavour = configuration.flavour } }
    }

    public var capabilities: ConnectorCapabilities { Self.capabilities(lookback: self.configuration.lookback) }

    static func capabilities(lookback: TimeInterval) -> ConnectorCapabilities {
        ConnectorCapabilities(
            comments: true, attachments: true, impersonation: false, relationships: true, transitions: true,
            optimisticConcurrency: false, maxPageSize: 100, timestampPrecision: 0.001, overlapWindow: lookback,
            rateLimitSignals: [
                "429", "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Beta-RateLimit-Policy",
                "X-RateLimit-Interval-Seconds", "X-RateLimit-FillRate",
            ],
            deletion: .notFoundOnRead)
    }

    // MARK: - Flavour and paths

    /// The flavour: configured, or read once from `serverInfo` (`deploymentType` "Cloud" → cloud, else Data Center).
    /// Cloud serves `/rest/api/3`; Data Center has no v3 (404) and is asked at `/rest/api/2`.
    func flavour() async throws -> Flavour {
        if let known = self.state.withLock({ $0.flavour }) { return known }
        var info: JSONValue
        do {
            info = try await self.json(self.session.request(.get, "/rest/api/3/serverInfo"))
        } catch let error as ConnectorError where error.code == .notFound {
            do {
                info = try await self.json(self.session.request(.get, "/rest/api/2/serverInfo"))
            } catch let error as ConnectorError where error.code == .notFound {
                throw ConnectorError(
                    .misconfigured, kind: .needsAttention,
                    message: "no Jira REST API at \(self.configuration.baseURL.absoluteString) (wrong site URL?): \(error.message)",
                    status: error.status, httpCode: error.httpCode)
            }
        }
        let flavour: Flavour = info["deploymentType"]?.string?.lowercased() == "cloud" ? .cloud : .datacenter
        self.state.withLock { $0.flavour = flavour }
        return flavour
    }

    /// `/rest/api/3/<path>` on Cloud, `/rest/api/2/<path>` on Data Center.
    func api(_ path: String) async throws -> String {
        let version = try await self.flavour() == .cloud ? "3" : "2"
        return "/rest/api/\(version)/" + (path.hasPrefix("/") ? String(path.dropFirst()) : path)
    }

    func request(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], json: JSONValue? = nil, idempotent: Bool? = nil
    ) async throws -> HTTPRequest {
        self.session.request(method, try await self.api(path), query: query, json: json, idempotent: idempotent)
    }

    /// Sends and parses JSON; a page that is not JSON (a login page, a proxy's, another site's) is named as such.
    func json(_ request: HTTPRequest) async throws -> JSONValue {
        try await self.exchange(request).json
    }

    func exchange(_ request: HTTPRequest) async throws -> (json: JSONValue, response: HTTPResponse) {
        do {
            let (json, response) = try await self.session.json(request)
            return (json, response)
        } catch let error as ConnectorError {
            throw Self.explained(error, site: self.configuration.baseURL)
        }
    }

    /// An HTML page where JSON was expected (a login page, an SSO proxy, another site) needs attention, and says so.
    static func explained(_ error: ConnectorError, site: URL) -> ConnectorError {
        guard error.code == .invalidResponse, error.message.contains("HTML page") else { return error }
        var explained = error
        explained.kind = .needsAttention
        explained.message =
            "Jira answered an HTML page where JSON was expected; it looks like a login page or a wrong site URL "
            + "(\(site.absoluteString)): \(error.message)"
        return explained
    }

    /// Runs JSON-reading code, turning missing or wrong-typed members into a `ConnectorError`.
    func decode<T>(_ body: () throws(HTTPError) -> T) throws(ConnectorError) -> T { try self.session.decode(body) }

    // MARK: - Connection

    public func testConnection(project: String?) async -> ConnectionTestResult {
        do {
            let user = try await self.myself()
            guard let project else { return ConnectionTestResult(reachable: true, authenticated: true, projectFound: nil, user: user) }
            do {
                _ = try await self.artifactTypes(project: project)
                return ConnectionTestResult(reachable: true, authenticated: true, projectFound: true, user: user)
            } catch let error as ConnectorError where error.code == .projectNotFound {
                return ConnectionTestResult(reachable: true, authenticated: true, projectFound: false, user: user, error: error)
            }
        } catch let error as ConnectorError {
            return .failed(error)
        } catch {
            return .failed(ConnectorError(.unavailable, kind: .transient, message: "\(error)"))
        }
    }

    /// `GET /myself`: who the credentials belong to, and the profile's time zone (JQL times are written in it).
    @discardableResult
    func myself() async throws -> Person {
        let me = try await self.json(try await self.request(.get, "myself"))
        let zone = me["timeZone"]?.string.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
        self.state.withLock { $0.timeZone = zone }
        return Self.person(me) ?? Person()
    }

    func timeZone() async throws -> TimeZone {
        if let zone = self.state.withLock({ $0.timeZone }) { return zone }
        try await self.myself()
        return self.state.withLock { $0.timeZone } ?? TimeZone(identifier: "UTC")!
    }

    public func repositoryTime() async throws -> Date {
        let (_, response) = try await self.exchange(try await self.request(.get, "serverInfo"))
        return response.date ?? Date()
    }

    public func projects() async throws -> [ProjectInfo] {
        if try await self.flavour() == .cloud {
            var paginator = OffsetPaginator(pageSize: 50, offsetParameter: "startAt", limitParameter: "maxResults", totalMember: "total")
            return try await paginator.collect { mark in
                let json = try await self.json(try await self.request(.get, "project/search", query: mark.queryPairs))
                let items = try self.decode { () throws(HTTPError) in try json.requireArray("values", in: "project list") }
                return (PageAnswer(response: HTTPResponse(status: 200), json: json, itemCount: items.count), items.compactMap(Self.project))
            }
        }
        let json = try await self.json(try await self.request(.get, "project"))
        return (json.array ?? []).compactMap(Self.project)
    }

    static func project(_ json: JSONValue) -> ProjectInfo? {
        guard let key = json["key"]?.string else { return nil }
        return ProjectInfo(id: key, name: json["name"]?.string ?? key)
    }

    /// The project's issue types (`createmeta/{project}/issuetypes`); an unknown project is a misconfiguration naming it.
    public func artifactTypes(project: String) async throws -> [ArtifactTypeInfo] {
        var paginator = OffsetPaginator(pageSize: 50, offsetParameter: "startAt", limitParameter: "maxResults", totalMember: "total")
        let types: [ArtifactTypeInfo]
        do {
            types = try await paginator.collect { mark in
                let path = "issue/createmeta/\(RESTSession.encode(project))/issuetypes"
                let json = try await self.json(try await self.request(.get, path, query: mark.queryPairs))
                let items = json["issueTypes"]?.array ?? json["values"]?.array ?? []
                let types = items.compactMap { item in
                    item["id"]?.idString.map { ArtifactTypeInfo(id: $0, name: item["name"]?.string ?? $0) }
                }
                return (PageAnswer(response: HTTPResponse(status: 200), json: json, itemCount: items.count), types)
            }
        } catch let error as ConnectorError where error.code == .notFound {
            throw Self.projectNotFound(project, error)
        }
        self.state.withLock { state in
            state.issueTypes[project] = Dictionary(types.map { ($0.name.lowercased(), $0.id) }, uniquingKeysWith: { a, _ in a })
        }
        return types
    }

    static func projectNotFound(_ project: String, _ cause: ConnectorError? = nil) -> ConnectorError {
        ConnectorError(
            .projectNotFound, kind: .needsAttention,
            message: "Jira project \(project) does not exist or these credentials cannot see it"
                + (cause.map { ": \($0.message)" } ?? ""),
            status: cause?.status, httpCode: cause?.httpCode)
    }

    /// An issue type's id, by id or by name (any case): the names of the projects read so far, read again when the
    /// name is not among them (of `project` when given, else of every project, the first 50).
    public func artifactTypeID(_ configured: String) async throws -> String {
        try await self.issueTypeID(configured, project: nil)
    }

    func issueTypeID(_ configured: String, project: String?) async throws -> String {
        let name = configured.trimmingCharacters(in: .whitespaces)
        if Int(name) != nil { return name }
        func known() -> String? {
            self.state.withLock { state in
                if let project { return state.issueTypes[project]?[name.lowercased()] }
                return state.issueTypes.values.lazy.compactMap { $0[name.lowercased()] }.first
            }
        }
        if let id = known() { return id }
        var projects = project.map { [$0] } ?? []
        if project == nil { projects = try await self.projects().prefix(50).map(\.id) }
        for project in projects { _ = try await self.artifactTypes(project: project) }
        if let id = known() { return id }
        let names = self.state.withLock { state in
            (project.map { state.issueTypes[$0].map { Array($0.keys) } ?? [] } ?? state.issueTypes.values.flatMap(\.keys))
        }
        throw ConnectorError(
            .misconfigured, kind: .needsAttention,
            message: "Jira has no issue type named \"\(name)\"\(project.map { " in project \($0)" } ?? "") "
                + "(its issue types: \(Set(names).sorted().joined(separator: ", ")))")
    }

    /// The markups of descriptions, environments, text custom fields and comments: ADF on Cloud, wiki markup on Data Center.
    public func textMarkups(projects: [String]) async throws -> TextMarkups? {
        let markup: TextMarkup = try await self.flavour() == .cloud ? .adf : .jiraWiki
        let fields = try await self.fieldList().filter(\.isRichText).map(\.id)
        return TextMarkups(markup, fields: Array(Set(fields + ["description", "environment"])).sorted())
    }

    static func person(_ json: JSONValue) -> Person? {
        guard json.object != nil else { return nil }
        let id = json["accountId"]?.string ?? json["name"]?.string ?? json["key"]?.string
        guard let id else { return nil }
        return Person(id: id, username: json["name"]?.string, email: json["emailAddress"]?.string, displayName: json["displayName"]?.string)
    }
}

extension JiraConnector {
    /// The project's assignable users (`Connector.people`).
    public func people(project: String) async throws -> [Person]? { try await self.assignableUsers(project: project) }

    /// The people who may be assigned issues of a project (`/user/assignable/search`): Cloud persons by `accountId`
    /// (with their email where the site shows it), Data Center persons by user `name`. `query` narrows by name or email.
    public func assignableUsers(project: String, query: String = "") async throws -> [Person] {
        let cloud = try await self.flavour() == .cloud
        // Data Center's search has no `startAt`: one page of up to 1000.
        var paginator = OffsetPaginator(pageSize: cloud ? 50 : 1000, offsetParameter: "startAt", limitParameter: "maxResults")
        var parameters = [("project", project)]
        if !query.isEmpty { parameters.append((cloud ? "query" : "username", query)) }
        if !cloud, query.isEmpty { parameters.append(("username", "")) }
        do {
            return try await paginator.collect(limit: 1000) { mark in
                let page = cloud ? mark.queryPairs : [("maxResults", "1000")]
                let json = try await self.json(try await self.request(.get, "user/assignable/search", query: parameters + page))
                let users = json.array ?? []
                // Data Center: never a next page.
                let count = cloud ? users.count : 0
                return (PageAnswer(response: HTTPResponse(status: 200), json: json, itemCount: count), users.compactMap(Self.person))
            }
        } catch let error as ConnectorError where error.code == .notFound {
            throw Self.projectNotFound(project, error)
        }
    }
}
