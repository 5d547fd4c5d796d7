public import Foundation
public import HTTP

/// Where the next page of a list is: query parameters to set on the same request, an absolute URL (a `Link` header's
/// `rel="next"`), or an opaque token the request carries in its body (Jira's `nextPageToken`).
public struct PageMark: Sendable, Hashable {
    /// Parameters that replace those of the same name in the list request's query.
    public var query: [QueryItem]
    /// The next page's address, as the repository gave it (same origin as the request).
    public var url: URL?
    /// An opaque continuation token, for a request body.
    public var token: String?

    public struct QueryItem: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(query: [QueryItem] = [], url: URL? = nil, token: String? = nil) {
        self.query = query
        self.url = url
        self.token = token
    }

    /// `query` as the (name, value) pairs `RESTSession.request` takes.
    public var queryPairs: [(String, String)] { self.query.map { ($0.name, $0.value) } }
}

/// The answer to one page request, as a paginator reads it: the response (headers) and its JSON body, and how many
/// items the connector took from it.
public struct PageAnswer: Sendable {
    public var response: HTTPResponse
    public var json: JSONValue?
    public var itemCount: Int

    public init(response: HTTPResponse, json: JSONValue?, itemCount: Int) {
        self.response = response
        self.json = json
        self.itemCount = itemCount
    }
}

/// Walks the pages of a list: `first` is the mark of the first request; `next(after:)` reads an answer and gives the
/// next mark, or nil after the last page. A paginator that would ask for the same page twice throws instead of
/// looping (an API that answers every page with the same token or link).
public protocol Paginator: Sendable {
    var first: PageMark { get }
    mutating func next(after answer: PageAnswer) throws(ConnectorError) -> PageMark?
}

extension Paginator {
    /// Every page's items, in order, from `fetch` (one request per mark), at most `limit` items and `maxPages` pages.
    /// `fetch` returns the page's answer and the items it holds.
    public mutating func collect<Item: Sendable>(
        limit: Int = .max, maxPages: Int = 10_000, _ fetch: (PageMark) async throws -> (PageAnswer, [Item])
    ) async throws -> [Item] {
        var items: [Item] = []
        var mark: PageMark? = self.first
        var pages = 0
        while let current = mark, items.count < limit {
            pages += 1
            guard pages <= maxPages else {
                throw ConnectorError(.invalidResponse, kind: .permanent, message: "a list went on for more than \(maxPages) pages")
            }
            let (answer, pageItems) = try await fetch(current)
            items += pageItems.prefix(limit - items.count)
            mark = try self.next(after: answer)
        }
        return items
    }
}

/// `offset` and `limit` parameters (Redmine's `offset`/`limit`, Jira Data Center's `startAt`/`maxResults`). The list
/// ends at a short or empty page, or when the offset reaches the total the answer states.
public struct OffsetPaginator: Paginator {
    public var pageSize: Int
    public var offsetParameter: String
    public var limitParameter: String
    /// The answer's member holding the total count, when it has one (`total_count`, `total`).
    public var totalMember: String?
    private var offset: Int

    public init(pageSize: Int, start: Int = 0, offsetParameter: String = "offset", limitParameter: String = "limit", totalMember: String? = nil) {
        self.pageSize = max(1, pageSize)
        self.offset = max(0, start)
        self.offsetParameter = offsetParameter
        self.limitParameter = limitParameter
        self.totalMember = totalMember
    }

    private var mark: PageMark {
        PageMark(query: [.init(self.offsetParameter, String(self.offset)), .init(self.limitParameter, String(self.pageSize))])
    }

    public var first: PageMark { self.mark }

    public mutating func next(after answer: PageAnswer) throws(ConnectorError) -> PageMark? {
        guard answer.itemCount > 0 else { return nil }
        self.offset += answer.itemCount
        if let member = self.totalMember, let total = answer.json?[member]?.int, self.offset >= total { return nil }
        if self.totalMember == nil, answer.itemCount < self.pageSize { return nil }
        return self.mark
    }
}

/// A page number and a page size (`page`/`per_page` of GitLab and Request Tracker). GitLab's `X-Next-Page` header,
/// when the repository sends it, decides: empty means the last page.
public struct PageNumberPaginator: Paginator {
    public var pageSize: Int
    public var pageParameter: String
    public var sizeParameter: String
    public var nextPageHeader: String?
    private var page: Int

    public init(
        pageSize: Int, firstPage: Int = 1, pageParameter: String = "page", sizeParameter: String = "per_page", nextPageHeader: String? = nil
    ) {
        self.pageSize = max(1, pageSize)
        self.page = firstPage
        self.pageParameter = pageParameter
        self.sizeParameter = sizeParameter
        self.nextPageHeader = nextPageHeader
    }

    private var mark: PageMark { PageMark(query: [.init(self.pageParameter, String(self.page)), .init(self.sizeParameter, String(self.pageSize))]) }

    public var first: PageMark { self.mark }

    public mutating func next(after answer: PageAnswer) throws(ConnectorError) -> PageMark? {
        if let header = self.nextPageHeader, let value = answer.response.header(header) {
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { return nil }
            guard let next = Int(trimmed) else {
                throw ConnectorError(.invalidResponse, kind: .permanent, message: "\(header) '\(trimmed.prefix(40))' is not a page number")
            }
            guard next > self.page else {
                throw ConnectorError(.invalidResponse, kind: .permanent, message: "\(header) \(next) does not follow page \(self.page)")
            }
            self.page = next
            return self.mark
        }
        guard answer.itemCount >= self.pageSize else { return nil }
        self.page += 1
        return self.mark
    }
}

/// An opaque continuation token read from the answer (Jira Cloud's `nextPageToken`, Azure DevOps' `continuationToken`
/// member or `x-ms-continuationtoken` header), sent back as a query parameter or in the body. No token, an empty one,
/// or `isLast: true` ends the list.
public struct TokenPaginator: Paginator {
    public enum Source: Sendable, Hashable {
        /// A member of the JSON answer.
        case member(String)
        /// A response header.
        case header(String)
    }

    public var source: Source
    /// The query parameter that carries the token (nil: the request's body carries `PageMark.token`).
    public var parameter: String?
    /// A boolean member that marks the last page (`isLast`).
    public var lastPageMember: String?
    private var previous: String?

    public init(source: Source, parameter: String? = nil, lastPageMember: String? = nil) {
        self.source = source
        self.parameter = parameter
        self.lastPageMember = lastPageMember
    }

    public var first: PageMark { PageMark() }

    public mutating func next(after answer: PageAnswer) throws(ConnectorError) -> PageMark? {
        if let member = self.lastPageMember, answer.json?[member]?.bool == true { return nil }
        let token: String?
        switch self.source {
        case .member(let name): token = answer.json?[name]?.string
        case .header(let name): token = answer.response.header(name)
        }
        guard let token, !token.isEmpty else { return nil }
        guard token != self.previous else {
            throw ConnectorError(.invalidResponse, kind: .permanent, message: "the list answered the same continuation token twice")
        }
        self.previous = token
        return PageMark(query: self.parameter.map { [.init($0, token)] } ?? [], token: token)
    }
}

/// RFC 8288 `Link` headers (GitHub, GitLab): the next page is the `rel="next"` link; none ends the list. A link to
/// another origin than the list's own is refused, so credentials never follow it elsewhere.
public struct LinkHeaderPaginator: Paginator {
    /// The origin (scheme, host, port) the links must keep.
    public var origin: URL
    private var visited: Set<String> = []

    public init(origin: URL) { self.origin = origin }

    public var first: PageMark { PageMark() }

    public mutating func next(after answer: PageAnswer) throws(ConnectorError) -> PageMark? {
        guard let header = answer.response.headers.filter({ $0.name.lowercased() == "link" }).map(\.value).joined(separator: ",").nilIfEmpty,
            let next = Self.links(in: header)["next"]
        else { return nil }
        guard let url = URL(string: next), url.scheme?.lowercased() == self.origin.scheme?.lowercased(),
            url.host?.lowercased() == self.origin.host?.lowercased(), url.port == self.origin.port
        else {
            throw ConnectorError(
                .invalidResponse, kind: .permanent,
                message: "the next page's link leaves \(self.origin.host ?? "the repository"): \(next.prefix(200))")
        }
        guard self.visited.insert(url.absoluteString).inserted else {
            throw ConnectorError(.invalidResponse, kind: .permanent, message: "the list links back to a page it gave before")
        }
        return PageMark(url: url)
    }

    /// `<url>; rel="next", <url>; rel="last"` → ["next": url, "last": url]; a `rel` may name several relations.
    public static func links(in header: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = Substring(header)
        while let open = rest.firstIndex(of: "<") {
            guard let close = rest[open...].firstIndex(of: ">") else { break }
            let target = String(rest[rest.index(after: open)..<close])
            let paramsEnd = rest[close...].firstIndex(of: "<") ?? rest.endIndex
            let params = rest[rest.index(after: close)..<paramsEnd]
            for param in params.split(separator: ";") {
                let pair = param.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2, pair[0].lowercased() == "rel" else { continue }
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\","))
                for relation in value.split(separator: " ") where result[relation.lowercased()] == nil {
                    result[relation.lowercased()] = target
                }
            }
            rest = rest[paramsEnd...]
        }
        return result
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { self.isEmpty ? nil : self }
}
