import TandemConfig
import TandemCore

/// OpenAPI links: which answer supplies the name or id that another operation's path needs (a created entity's
/// `name`, the first listed pair's `id`, …). Clients and tools such as schemathesis follow them to reach existing
/// resources instead of guessing identifiers.
extension OpenAPIDocument {
    struct Link {
        /// The operation whose success answer supplies the value.
        var from: String
        /// The operation that takes it.
        var to: String
        /// Its parameter, and the runtime expression that gives the value.
        var parameter: String
        var expression: String
    }

    static var links: [Link] {
        var links: [Link] = []
        func link(_ from: String, to targets: [String], _ parameter: String, _ expression: String) {
            links += targets.map { Link(from: from, to: $0, parameter: parameter, expression: expression) }
        }
        for section in ConfigJSON.Section.allCases {
            let schema = Self.entitySchemaName(section)
            var targets = ["get\(schema)", "replace\(schema)", "delete\(schema)"]
            switch section {
            case .repositories: targets += ["testRepository"]
            case .integrations: targets += ["runIntegration", "stopIntegration", "processAll", "initiateSynchronization"]
            case .models, .collections: break
            }
            link("create\(schema)", to: targets, "name", "$response.body#/name")
            link("list\(schema)s", to: targets.filter { !$0.hasPrefix("delete") }, "name", "$response.body#/items/0/name")
        }
        let queues = ["listQueueJobs", "pauseQueue", "resumeQueue"]
        link("createRepository", to: queues, "repository", "$response.body#/name")
        link("listRepositorys", to: queues, "repository", "$response.body#/items/0/name")
        link("listQueues", to: queues, "repository", "$response.body#/repositories/0/repository")
        let activity = ["getActivity", "retryActivity", "clearActivity", "clearAndIgnoreActivity"]
        link("listActivity", to: activity, "id", "$response.body#/items/0/id")
        link("listBlockers", to: activity, "id", "$response.body#/items/0/id")
        for action in activity.dropFirst() { link(action, to: activity.filter { $0 != action }, "id", "$response.body#/id") }
        link("listBackgroundJobs", to: ["getBackgroundJob"], "id", "$response.body#/items/0/id")
        link("listPairs", to: ["getPair", "deletePair"], "id", "$response.body#/items/0/id")
        link("listAudit", to: ["revertAuditEntry"], "id", "$response.body#/items/0/id")
        let connections = ["getIssueTrackerConnection", "updateIssueTrackerConnection", "deleteIssueTrackerConnection"]
        link("createIssueTrackerConnection", to: connections, "connection_id", "$response.body#/id")
        link("listIssueTrackerConnections", to: connections.dropLast(), "connection_id", "$response.body#/results/0/id")
        return links
    }

    /// `paths` with each operation's links added to its success answer; links to operations the document lacks are
    /// left out.
    static func linked(_ paths: [PathItem]) -> [PathItem] {
        var operations: Set<String> = []
        for item in paths {
            for member in item.operations { if case .string(let id)? = member.value["operationId"] { operations.insert(id) } }
        }
        let bySource = Dictionary(grouping: Self.links.filter { operations.contains($0.to) }, by: \.from)
        return paths.map { item in
            var item = item
            item.operations = item.operations.map { member in
                guard case .string(let id)? = member.value["operationId"], let links = bySource[id],
                    case .object(var operation) = member.value,
                    let index = operation.firstIndex(where: { $0.key == "responses" }), case .object(var responses) = operation[index].value,
                    let success = responses.firstIndex(where: { $0.key.hasPrefix("2") }), case .object(var answer) = responses[success].value
                else { return member }
                answer.append(
                    .init(
                        "links",
                        .object(
                            links.map { link in
                                JSONNode.Member(
                                    link.to,
                                    .object([
                                        "operationId": .string(link.to), "parameters": .object([.init(link.parameter, .string(link.expression))]),
                                    ]))
                            })))
                responses[success].value = .object(answer)
                operation[index].value = .object(responses)
                return JSONNode.Member(member.key, .object(operation))
            }
            return item
        }
    }
}
