import Foundation
import HTTP
import Synchronization

extension JiraSite {
    static let unbounded = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."

    /// Cloud `/search/jql` (pages by opaque `nextPageToken`, no `total`, bounded JQL only) and DC `/search` (`startAt`,
    /// `maxResults`, `total`). Both read the search index: a write shows there only after the index lag.
    func search(_ call: JiraCall, post: Bool) throws(JiraFailure) -> JiraReply {
        let body = call.body ?? [:]
        func strings(_ name: String) -> [String]? {
            post ? body[name]?.array?.compactMap(\.string) : call.list(name)
        }
        let jql = (post ? body["jql"]?.string : call.query("jql")) ?? ""
        let fields = strings("fields")
        let properties = strings("properties") ?? []
        let expandText = post ? (body["expand"]?.string ?? body["expand"]?.array?.compactMap(\.string).joined(separator: ",")) : call.query("expand")
        let expand = Set((expandText ?? "").split(separator: ",").map(String.init))
        let requested = post ? body["maxResults"]?.int : call.query("maxResults").flatMap { Int($0) }
        let query: JQLQuery
        do {
            query = try JQLQuery.parse(jql)
        } catch {
            throw JiraFailure(status: 400, messages: [error.message])
        }
        if self.flavour == .cloud, !query.isBounded { throw JiraFailure(status: 400, messages: [Self.unbounded]) }
        let zone = self.zone
        let (catalog, projects) = (self.catalog, Set(self.catalog.projects.map(\.key)))
        let matches: (JQLSubject) -> Bool
        do {
            matches = try query.predicate(projects: projects, zone: zone, now: call.now)
        } catch {
            throw JiraFailure(status: 400, messages: [error.message])
        }
        let indexed = self.state.withLock { Self.indexed($0, now: call.now) }
        let byID = Dictionary(uniqueKeysWithValues: indexed.map { ($0.id, $0) })
        var subjects = indexed.map { $0.subject(catalog) }.filter(matches)
        query.order(&subjects)
        let r = call.render
        switch self.flavour {
        case .cloud:
            let idOnly = fields == nil || fields!.allSatisfy { $0 == "id" || $0 == "key" }
            let maxResults = min(max(requested ?? 50, 1), idOnly ? 5000 : 100)
            let token = post ? body["nextPageToken"]?.string : call.query("nextPageToken")
            var offset = 0
            // FNV-1a of the JQL: a token only pages the query it came from.
            let fingerprint = String(jql.utf8.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 }, radix: 36)
            if let token {
                let decoded = Data(base64Encoded: token).map { String(decoding: $0, as: UTF8.self) } ?? ""
                let parts = decoded.split(separator: ":")
                guard parts.count == 2, let at = Int(parts[0]), parts[1] == fingerprint else {
                    throw JiraFailure(status: 400, messages: ["The provided next page token is invalid or expired."])
                }
                offset = at
            }
            let page = subjects.dropFirst(offset).prefix(maxResults)
            let issues: [JSONValue] = page.compactMap { subject in
                guard let issue = byID[subject.id] else { return nil }
                if idOnly && properties.isEmpty && expand.isEmpty {
                    return fields?.contains("key") == true
                        ? ["id": .string(String(issue.id)), "key": .string(issue.key)] : ["id": .string(String(issue.id))]
                }
                return r.issue(issue, fields: fields, properties: properties, expand: expand)
            }
            var result: [String: JSONValue] = ["issues": .array(issues)]
            let next = offset + page.count
            if next < subjects.count {
                result["nextPageToken"] = .string(Data("\(next):\(fingerprint)".utf8).base64EncodedString())
                result["isLast"] = false
            } else {
                result["isLast"] = true
            }
            return .ok(.object(result))
        case .dataCenter:
            let startAt = max((post ? body["startAt"]?.int : call.query("startAt").flatMap { Int($0) }) ?? 0, 0)
            let maxResults = min(max(requested ?? 50, 0), 1000)
            let page = subjects.dropFirst(startAt).prefix(maxResults)
            return .ok([
                "expand": "schema,names", "startAt": .number(Double(startAt)), "maxResults": .number(Double(maxResults)),
                "total": .number(Double(subjects.count)),
                "issues": .array(
                    page.compactMap { subject in
                        byID[subject.id].map { r.issue($0, fields: fields ?? ["*navigable"], properties: properties, expand: expand) }
                    }),
            ])
        }
    }
}

/// `multipart/form-data` bodies (attachment uploads), parsed enough to find the `file` parts.
enum Multipart {
    struct Part {
        var name: String?
        var filename: String?
        var contentType: String?
        var data: Data
    }

    static func boundary(_ contentType: String) -> String? {
        guard contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].lowercased() == "boundary" { return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        }
        return nil
    }

    static func parts(_ body: Data, boundary: String) -> [Part] {
        let delimiter = Data("--\(boundary)".utf8)
        var parts: [Part] = []
        var searchStart = body.startIndex
        var ranges: [Range<Data.Index>] = []
        while let found = body.range(of: delimiter, in: searchStart..<body.endIndex) {
            ranges.append(found)
            searchStart = found.upperBound
        }
        for (current, next) in zip(ranges, ranges.dropFirst()) {
            var chunk = body[current.upperBound..<next.lowerBound]
            if chunk.starts(with: Data("\r\n".utf8)) { chunk = chunk.dropFirst(2) }
            if chunk.suffix(2) == Data("\r\n".utf8) { chunk = chunk.dropLast(2) }
            guard let split = chunk.range(of: Data("\r\n\r\n".utf8)) else { continue }
            let head = String(decoding: chunk[chunk.startIndex..<split.lowerBound], as: UTF8.self)
            var part = Part(data: Data(chunk[split.upperBound...]))
            for line in head.split(separator: "\r\n") {
                let lower = line.lowercased()
                if lower.hasPrefix("content-disposition:") {
                    part.name = Self.attribute("name", in: String(line))
                    part.filename = Self.attribute("filename", in: String(line))
                } else if lower.hasPrefix("content-type:") {
                    part.contentType = line.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
                }
            }
            parts.append(part)
        }
        return parts
    }

    private static func attribute(_ name: String, in line: String) -> String? {
        guard let range = line.range(of: "; \(name)=\"") ?? line.range(of: ";\(name)=\"") else { return nil }
        let rest = line[range.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end]).removingPercentEncoding ?? String(rest[..<end])
    }
}
