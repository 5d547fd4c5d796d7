public import Foundation
import HTTP
public import TandemCore

/// The workflow edges learned from `GET /transitions` answers, per project and issue type: which transitions leave a
/// status and where they lead. A path is searched breadth-first over what is known.
struct JiraWorkflowGraph: Sendable, Hashable {
    struct Edge: Sendable, Hashable {
        var id: String
        var name: String
        /// The status it leads to.
        var to: String
    }

    /// Status (lower case) → the transitions that leave it, as last read.
    private(set) var edges: [String: [Edge]] = [:]

    mutating func learn(from status: String, _ edges: [Edge]) { self.edges[status.lowercased()] = edges }

    func isExplored(_ status: String) -> Bool { self.edges[status.lowercased()] != nil }

    /// The shortest known path of transitions from `from` to `to` (nil: none known; empty: already there).
    func path(from: String, to: String) -> [Edge]? {
        let goal = to.lowercased()
        if from.lowercased() == goal { return [] }
        return self.shortestPath(from: from, avoiding: []) { $0 == goal }
    }

    /// Breadth-first over the known edges from `from`, through none of `avoiding` (lower case), to the first status
    /// (lower case) that `isGoal` accepts.
    private func shortestPath(from: String, avoiding: Set<String>, isGoal: (String) -> Bool) -> [Edge]? {
        var previous: [String: (status: String, edge: Edge)] = [:]
        var queue = [from.lowercased()]
        var seen = Set(queue).union(avoiding)
        var index = 0
        while index < queue.count {
            let status = queue[index]
            index += 1
            for edge in self.edges[status] ?? [] {
                let next = edge.to.lowercased()
                guard seen.insert(next).inserted else { continue }
                previous[next] = (status, edge)
                if isGoal(next) {
                    var path: [Edge] = []
                    var at = next
                    while let step = previous[at] {
                        path.insert(step.edge, at: 0)
                        at = step.status
                    }
                    return path
                }
                queue.append(next)
            }
        }
        return nil
    }

    /// The next transition from `current` (whose transitions are `available`) towards `target`: a direct one, the first
    /// step of a known path, else the first step towards the nearest status whose transitions are not known yet
    /// (exploration over known ground, never through a status this move has left). nil: no way on.
    func next(from current: String, available: [Edge], to target: String, left: Set<String>) -> Edge? {
        if let direct = available.first(where: { $0.to.caseInsensitiveCompare(target) == .orderedSame }) { return direct }
        if let step = self.path(from: current, to: target)?.first, available.contains(step) { return step }
        guard let step = self.pathToUnexplored(from: current, avoiding: left)?.first else { return nil }
        return available.first { $0.id == step.id && $0.to.caseInsensitiveCompare(step.to) == .orderedSame }
    }

    /// The shortest known path from `from` to a status whose transitions were never read, through none of `avoiding`
    /// (lower case). An issue at In Progress whose way on (In Review) was seen but never left has its Done found so,
    /// where looking one step ahead found nothing new and gave up.
    func pathToUnexplored(from: String, avoiding: Set<String>) -> [Edge]? {
        self.shortestPath(from: from, avoiding: avoiding) { !self.isExplored($0) }
    }
}

extension JiraConnector {
    /// Moves the issue to `status` through its workflow: each hop reads the transitions available (with their screens'
    /// fields), learns them, and takes a direct transition, the next step of a known path, or one towards a status
    /// not explored yet; at most `maxTransitionHops` hops. A screen's required field comes from `transitionFields`,
    /// else the error names it.
    public func applyTransition(id: String, to status: String) async throws -> WriteResult {
        var left: Set<String> = []
        for _ in 0...self.configuration.maxTransitionHops {
            let issue = try await self.readIssue(id, query: [("fields", "status,project,issuetype")])
            let current = issue["fields"]?["status"]?["name"]?.string ?? ""
            if current.caseInsensitiveCompare(status) == .orderedSame { return try await self.written(id) }
            let graphKey = "\(issue["fields"]?["project"]?["key"]?.string ?? "")/\(issue["fields"]?["issuetype"]?["id"]?.idString ?? "")"
            // Data Center 10.3's description declares no `expand` on GET transitions (it documents
            // `expand=transitions.fields` in prose only): there a screen's required field is named by the POST's 400.
            let expand: [(String, String)] = try await self.flavour() == .cloud ? [("expand", "transitions.fields")] : []
            let answer = try await self.json(try await self.request(.get, self.issuePath(id) + "/transitions", query: expand))
            let transitions = answer["transitions"]?.array ?? []
            let available = transitions.compactMap { t -> JiraWorkflowGraph.Edge? in
                guard let tid = t["id"]?.idString, let to = t["to"]?["name"]?.string else { return nil }
                return JiraWorkflowGraph.Edge(id: tid, name: t["name"]?.string ?? to, to: to)
            }
            let graph = self.state.withLock { state in
                state.graphs[graphKey, default: JiraWorkflowGraph()].learn(from: current, available)
                return state.graphs[graphKey]!
            }
            // A transition named like the status ("Done") is taken when no transition leads to a status of that name.
            let named = available.first { $0.name.caseInsensitiveCompare(status) == .orderedSame }
            guard left.count < self.configuration.maxTransitionHops,
                let edge = graph.next(from: current, available: available, to: status, left: left) ?? named
            else {
                throw Self.noTransition(issue["key"]?.string ?? id, from: current, to: status, available: available, hops: left.count)
            }
            let screen = transitions.first { $0["id"]?.idString == edge.id }?["fields"]?.object ?? [:]
            var body: [String: JSONValue] = ["transition": ["id": .string(edge.id)]]
            let values = try await self.transitionValues(screen, transition: edge, issue: issue["key"]?.string ?? id)
            if !values.isEmpty { body["fields"] = .object(values) }
            let screenKnown = transitions.first { $0["id"]?.idString == edge.id }?["fields"] != nil
            try await self.transition(id, body, configuredOnRefusal: !screenKnown, edge: edge, issue: issue["key"]?.string ?? id)
            left.insert(current.lowercased())
            if edge.name.caseInsensitiveCompare(status) == .orderedSame, edge.to.caseInsensitiveCompare(status) != .orderedSame {
                return try await self.written(id)
            }
        }
        throw ConnectorError(
            .validation, kind: .permanent,
            message: "Jira issue \(id) did not reach status \"\(status)\" within \(self.configuration.maxTransitionHops) transitions")
    }

    /// `POST /transitions`. Where the screen's fields were not read (Data Center), a refusal is tried once more with every
    /// configured `transitionFields` value; a refusal that remains names the option.
    func transition(_ id: String, _ body: [String: JSONValue], configuredOnRefusal: Bool, edge: JiraWorkflowGraph.Edge, issue: String) async throws {
        do {
            _ = try await self.session.send(try await self.request(.post, self.issuePath(id) + "/transitions", json: .object(body)))
        } catch let error as ConnectorError where error.code == .validation {
            let configured = self.configuration.transitionFields
            if configuredOnRefusal, !configured.isEmpty, body["fields"] == nil {
                var retry = body
                var fields: [String: JSONValue] = [:]
                for (given, value) in configured { fields[try await self.field(given).id] = Self.transitionValue(value, meta: .null) }
                retry["fields"] = .object(fields)
                return try await self.transition(id, retry, configuredOnRefusal: false, edge: edge, issue: issue)
            }
            var named = error
            named.message =
                "Jira refused the transition \"\(edge.name)\" of issue \(issue) to \(edge.to): \(error.message) "
                + "(values a transition screen requires go in the repository option transitionFields, e.g. resolution=Done)"
            throw named
        }
    }

    static func noTransition(
        _ issue: String, from current: String, to status: String, available: [JiraWorkflowGraph.Edge], hops: Int
    ) -> ConnectorError {
        let list = available.isEmpty ? "none" : available.map { "\($0.name) → \($0.to)" }.joined(separator: ", ")
        return ConnectorError(
            .validation, kind: .permanent,
            message: "Jira issue \(issue) cannot reach status \"\(status)\" from \"\(current)\""
                + (hops > 0 ? " after \(hops) transition\(hops == 1 ? "" : "s")" : "") + " (transitions available: \(list))")
    }

    /// The values a transition's screen gets: every screen field that `transitionFields` names (by id or name); a
    /// required field without a value or a default is an error naming it.
    func transitionValues(_ screen: [String: JSONValue], transition: JiraWorkflowGraph.Edge, issue: String) async throws -> [String: JSONValue] {
        var values: [String: JSONValue] = [:]
        for (fieldID, meta) in screen.sorted(by: { $0.key < $1.key }) {
            let name = meta["name"]?.string ?? fieldID
            let given = self.configuration.transitionFields.first {
                $0.key == fieldID || $0.key.caseInsensitiveCompare(name) == .orderedSame
            }?.value
            guard let given else {
                if meta["required"]?.bool == true, meta["hasDefaultValue"]?.bool != true {
                    throw ConnectorError(
                        .misconfigured, kind: .needsAttention,
                        message: "Jira transition \"\(transition.name)\" of issue \(issue) requires the field \(name) (\(fieldID)): "
                            + "give it in the repository option transitionFields, e.g. \(fieldID)=<value>")
                }
                continue
            }
            values[fieldID] = Self.transitionValue(given, meta: meta)
        }
        return values
    }

    /// A configured text as the screen field's value: an allowed value by name (its id), else by the field's schema.
    static func transitionValue(_ given: String, meta: JSONValue) -> JSONValue {
        if let allowed = meta["allowedValues"]?.array,
            let match = allowed.first(where: { ($0["name"]?.string ?? $0["value"]?.string)?.caseInsensitiveCompare(given) == .orderedSame }),
            let id = match["id"]?.idString
        {
            return ["id": .string(id)]
        }
        let schema = meta["schema"]
        let type = schema?["type"]?.string == "array" ? schema?["items"]?.string : schema?["type"]?.string
        let one: JSONValue =
            switch type {
            case "string": .string(given)
            case "number": Double(given).map { .number($0) } ?? .string(given)
            case "option": ["value": .string(given)]
            default: ["name": .string(given)]
            }
        return schema?["type"]?.string == "array" ? [one] : one
    }
}
