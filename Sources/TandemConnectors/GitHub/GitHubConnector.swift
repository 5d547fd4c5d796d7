public import Foundation
public import HTTP
public import TandemCore

/// GitHub issues (REST, `X-GitHub-Api-Version: 2022-11-28`), on github.com or a GitHub Enterprise Server.
///
/// - Projects are repositories, `owner/name`; the one artifact type is `issue` (pull requests, which GitHub lists among
///   the issues, are skipped: read by id they are of type `pull_request`, which no collection takes).
/// - Artifacts are `owner/name#number`, which is also their `formattedID`.
/// - Fields: `title`, `body` (GitHub Markdown), `status` (`open`, `completed`, `not planned`: the state and its
///   reason), `labels` (multi-select, without the prefixed ones), one single-select per configured label prefix
///   (`priority: high` is `priority` = `high`), `milestone` (by title), `assignees` (logins) and `assignee` (the first).
/// - Text is Markdown both in bodies and comments. GitHub has no issue attachments: a file arriving is written as a
///   comment naming it, and the capability says so.
/// - The create marker is an HTML comment at the end of the body, which GitHub does not show; reads strip it.
/// - The version of an issue is its `updated_at` (whole seconds) with a fingerprint of what it shows, so two edits
///   within one second are still two versions.
public struct GitHubConnector: Connector {
    public enum TwinLinkStyle: String, Sendable, CaseIterable {
        /// A comment naming the twin, once.
        case comment
        case none
    }

    public struct Configuration: Sendable {
        public var baseURL: URL
        public var credentials: Credentials
        public var settings: ConnectionSettings
        /// Label prefixes read as single-selects (`priority: ` → field `priority`).
        public var labelPrefixes: [String]
        public var twinLink: TwinLinkStyle
        /// How far behind its mark the feed reads again.
        public var lookback: TimeInterval

        public init(
            baseURL: URL, credentials: Credentials, settings: ConnectionSettings, labelPrefixes: [String] = [],
            twinLink: TwinLinkStyle = .none, lookback: TimeInterval = 5
        ) {
            self.baseURL = Self.apiRoot(baseURL)
            self.credentials = credentials
            self.settings = settings
            self.labelPrefixes = labelPrefixes
            self.twinLink = twinLink
            self.lookback = lookback
        }

        /// `https://github.com` → `https://api.github.com`; any other URL is the API's root as given (a GitHub
        /// Enterprise Server's `https://host/api/v3`).
        static func apiRoot(_ url: URL) -> URL {
            guard let host = url.host?.lowercased(), host == "github.com" || host == "www.github.com" else { return url }
            return URL(string: "https://api.github.com")!
        }
    }

    struct State: Sendable {
        /// Milestone title → number, per repository.
        var milestones: [String: [String: Int]] = [:]
    }

    public let tool = "GitHub"
    public let configuration: Configuration
    let session: RESTSession
    let state = SharedBox(State())

    public init(_ configuration: Configuration, client: HTTPClient) {
        self.configuration = configuration
        self.session = RESTSession(
            client: client, settings: configuration.settings, base: configuration.baseURL, credentials: configuration.credentials,
            tool: "GitHub",
            headers: [HTTPHeader("Accept", "application/vnd.github+json"), HTTPHeader("X-GitHub-Api-Version", "2022-11-28")])
    }

    public var capabilities: ConnectorCapabilities { Self.capabilities(lookback: self.configuration.lookback) }

    static func capabilities(lookback: TimeInterval) -> ConnectorCapabilities {
        ConnectorCapabilities(
            comments: true, attachments: false, impersonation: false, relationships: false, transitions: false,
            optimisticConcurrency: false, maxPageSize: 100, timestampPrecision: 1, overlapWindow: lookback,
            rateLimitSignals: [
                "403", "429", "Retry-After", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-used", "x-ratelimit-reset",
                "x-ratelimit-resource",
            ],
            deletion: .notFoundOnRead)
    }

    // MARK: - Ids and requests

    /// `owner/name#12` → ("owner/name", 12).
    static func split(_ id: String) throws(ConnectorError) -> (repository: String, number: Int) {
        guard let hash = id.lastIndex(of: "#"), let number = Int(id[id.index(after: hash)...]), number > 0,
            Self.isRepository(String(id[..<hash]))
        else { throw ConnectorError.invalidArgument("GitHub issue id '\(id.prefix(200))' is not owner/name#number") }
        return (String(id[..<hash]), number)
    }

    static func isRepository(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("#") && !$0.contains("?") }
    }

    /// `/repos/owner/name` with each part percent-encoded; a project that is not owner/name is a configuration error.
    func repositoryPath(_ repository: String) throws(ConnectorError) -> String {
        guard Self.isRepository(repository) else {
            throw ConnectorError(.misconfigured, kind: .needsAttention, message: "GitHub project '\(repository.prefix(200))' is not owner/name")
        }
        let parts = repository.split(separator: "/").map { RESTSession.encode(String($0)) }
        return "/repos/\(parts[0])/\(parts[1])"
    }

    func issuePath(_ id: String) throws(ConnectorError) -> String {
        let (repository, number) = try Self.split(id)
        return try self.repositoryPath(repository) + "/issues/\(number)"
    }

    func json(_ request: HTTPRequest) async throws -> (JSONValue, HTTPResponse) { try await self.session.json(request) }

    /// Every item of a list, following `Link: rel="next"` (at most `limit` items).
    func list(_ path: String, query: [(String, String)] = [], limit: Int = 10_000) async throws -> [JSONValue] {
        var paginator = LinkHeaderPaginator(origin: self.configuration.baseURL)
        return try await paginator.collect(limit: limit) { mark in
            let request =
                mark.url.map { self.session.request(.get, "", absolute: $0) }
                ?? self.session.request(.get, path, query: query + [("per_page", "100")])
            let (json, response) = try await self.json(request)
            let items = json.array ?? []
            return (PageAnswer(response: response, json: json, itemCount: items.count), items)
        }
    }

    /// A repository that GitHub answers 404 for: missing, or private and not visible to the token.
    func repositoryNotFound(_ repository: String, _ error: ConnectorError) -> ConnectorError {
        ConnectorError(
            .projectNotFound, kind: .needsAttention,
            message: "GitHub repository \(repository) does not exist, or the token may not see it (GitHub answers 404 for a "
                + "private repository the token has no access to): \(error.message)",
            status: error.status, httpCode: error.httpCode)
    }

    // MARK: - Connection and discovery

    public func testConnection(project: String?) async -> ConnectionTestResult {
        do {
            let (me, _) = try await self.json(self.session.request(.get, "/user"))
            let user = Self.person(me)
            guard let project else { return ConnectionTestResult(reachable: true, authenticated: true, projectFound: nil, user: user) }
            do {
                let (repository, _) = try await self.json(self.session.request(.get, try self.repositoryPath(project)))
                if repository["has_issues"]?.bool == false {
                    let error = ConnectorError(.misconfigured, kind: .needsAttention, message: "GitHub repository \(project) has issues turned off")
                    return ConnectionTestResult(reachable: true, authenticated: true, projectFound: false, user: user, error: error)
                }
                return ConnectionTestResult(reachable: true, authenticated: true, projectFound: true, user: user)
            } catch let error as ConnectorError where error.code == .notFound {
                return ConnectionTestResult(
                    reachable: true, authenticated: true, projectFound: false, user: user, error: self.repositoryNotFound(project, error))
            }
        } catch let error as ConnectorError {
            return .failed(error)
        } catch {
            return .failed(ConnectorError(.unavailable, kind: .transient, message: "\(error)"))
        }
    }

    /// GitHub's clock, from `/rate_limit` (which costs no quota).
    public func repositoryTime() async throws -> Date {
        let (_, response) = try await self.json(self.session.request(.get, "/rate_limit"))
        return response.date ?? Date()
    }

    public func projects() async throws -> [ProjectInfo] {
        try await self.list("/user/repos", limit: 1000).compactMap { repository in
            repository["full_name"]?.string.map { ProjectInfo(id: $0, name: $0) }
        }
    }

    public func artifactTypes(project: String) async throws -> [ArtifactTypeInfo] { [ArtifactTypeInfo(id: "issue", name: "Issue")] }

    public func fields(project: String, artifactType: String) async throws -> [FieldDescriptor] {
        let labels = try await self.list(try self.repositoryPath(project) + "/labels").compactMap { $0["name"]?.string }
        var prefixed: [String: [String]] = [:]
        var plain: [String] = []
        for label in labels {
            if let (field, value) = self.prefixedLabel(label) { prefixed[field, default: []].append(value) } else { plain.append(label) }
        }
        let milestones = try await self.milestones(project).keys.sorted()
        var fields = [
            FieldDescriptor(id: "title", name: "Title", type: .string, required: true),
            FieldDescriptor(id: "body", name: "Body", type: .richText),
            FieldDescriptor(
                id: "status", name: "Status", type: .singleSelect,
                options: Self.statuses.map { FieldOption(id: $0, name: $0, isClosed: $0 != "open") }),
            FieldDescriptor(id: "labels", name: "Labels", type: .multiSelect, options: plain.map { FieldOption(id: $0, name: $0) }, multiple: true),
            FieldDescriptor(id: "milestone", name: "Milestone", type: .singleSelect, options: milestones.map { FieldOption(id: $0, name: $0) }),
            FieldDescriptor(id: "assignees", name: "Assignees", type: .persons, multiple: true),
            FieldDescriptor(id: "assignee", name: "Assignee", type: .person),
        ]
        for prefix in self.configuration.labelPrefixes {
            let field = Self.fieldName(prefix)
            fields.append(
                FieldDescriptor(
                    id: field, name: field, type: .singleSelect, options: (prefixed[field] ?? []).map { FieldOption(id: $0, name: $0) }))
        }
        return fields
    }

    public func textMarkups(projects: [String]) async throws -> TextMarkups? { TextMarkups(.markdown, fields: ["body"]) }

    /// The people who may be assigned the repository's issues (`/assignees`), with the name and public e-mail of the
    /// first `profilesRead` (a call each, every 10 minutes: the quota is 5,000 an hour); the others by login only.
    public func people(project: String) async throws -> [Person]? {
        let logins = try await self.list(try self.repositoryPath(project) + "/assignees", limit: 1000).compactMap { $0["login"]?.string }
        var people: [Person] = []
        for login in logins.prefix(Self.profilesRead) {
            let (user, _) = try await self.json(self.session.request(.get, "/users/\(RESTSession.encode(login))"))
            people.append(Self.person(user) ?? Person(id: login, username: login))
        }
        return people + logins.dropFirst(Self.profilesRead).map { Person(id: $0, username: $0) }
    }

    static let profilesRead = 50

    /// A user object as a person: the login is both id and user name (what GitHub's writes take).
    static func person(_ json: JSONValue) -> Person? {
        guard let login = json["login"]?.string else { return nil }
        return Person(id: login, username: login, email: json["email"]?.string, displayName: json["name"]?.string ?? login)
    }

    // MARK: - Labels, statuses, milestones

    static let statuses = ["open", "completed", "not planned"]

    /// `priority: ` → `priority`.
    static func fieldName(_ prefix: String) -> String {
        prefix.trimmingCharacters(in: CharacterSet(charactersIn: ":").union(.whitespaces))
    }

    /// `priority: high` → ("priority", "high") when `priority: ` is a configured prefix.
    func prefixedLabel(_ label: String) -> (field: String, value: String)? {
        for prefix in self.configuration.labelPrefixes where label.count > prefix.count && label.lowercased().hasPrefix(prefix.lowercased()) {
            return (Self.fieldName(prefix), String(label.dropFirst(prefix.count)))
        }
        return nil
    }

    func milestones(_ repository: String) async throws -> [String: Int] {
        if let known = self.state.withLock({ $0.milestones[repository] }) { return known }
        var byTitle: [String: Int] = [:]
        for milestone in try await self.list(try self.repositoryPath(repository) + "/milestones", query: [("state", "all")]) {
            if let title = milestone["title"]?.string, let number = milestone["number"]?.int { byTitle[title] = number }
        }
        self.state.withLock { $0.milestones[repository] = byTitle }
        return byTitle
    }

    func milestoneNumber(_ title: String, repository: String) async throws -> Int {
        if let number = try await self.milestones(repository)[title] { return number }
        self.state.withLock { $0.milestones[repository] = nil }
        if let number = try await self.milestones(repository)[title] { return number }
        throw ConnectorError(.validation, kind: .permanent, message: "GitHub repository \(repository) has no milestone '\(title)'")
    }
}
