import Foundation
import Hummingbird
import NIOCore
import Synchronization
import TandemConnectors

import enum HTTP.JSONValue

/// The Jira sites' test and operations routes, outside the Jira API paths (`/sim/<jira|jira-dc>/<site>/…`).
extension JiraServer {
    func addOperationsRoutes(to router: Router<BasicRequestContext>) {
        router.get("/sim/:flavour/:site/stats") { _, context in
            try SimulatorJSON.encode(try self.site(context).stats())
        }
        router.get("/sim/:flavour/:site/log") { request, context in
            let site = try self.site(context)
            return try SimulatorJSON.log(request) { after, limit in
                site.state.withLock { state in Array(state.log.filter { $0.seq > after }.prefix(limit)) }
            }
        }
        router.post("/sim/:flavour/:site/seed") { request, context in
            struct Seed: Decodable {
                var project: String
                var count: Int
                var summaryPrefix: String?
            }
            let site = try self.site(context)
            let seed = try await SimulatorJSON.decode(Seed.self, request)
            guard (1...100_000).contains(seed.count) else { throw HTTPError(.badRequest, message: "count must be 1...100000") }
            do {
                return try SimulatorJSON.encode([
                    "keys": try site.seed(project: seed.project, count: seed.count, prefix: seed.summaryPrefix ?? "Seeded issue", now: Date())
                ])
            } catch {
                throw HTTPError(.badRequest, message: "no project \(seed.project)")
            }
        }
        router.post("/sim/:flavour/:site/reset") { _, context in
            try self.site(context).reset()
            return try SimulatorJSON.encode(["status": "reset"])
        }
        router.get("/sim/:flavour/:site/settings") { _, context in try SimulatorJSON.encode(try self.site(context).settings) }
        router.put("/sim/:flavour/:site/settings") { request, context in
            let site = try self.site(context)
            let settings = try await SimulatorJSON.merged(site.settings, request)
            guard TimeZone(identifier: settings.timeZone) != nil else { throw HTTPError(.badRequest, message: "settings: unknown time zone") }
            guard settings.indexLagMilliseconds >= 0, settings.latencyMilliseconds >= 0, settings.rateLimitCapacity >= 0 else {
                throw HTTPError(.badRequest, message: "settings: negative values")
            }
            site.state.withLock { state in
                if state.settings.rateLimitCapacity != settings.rateLimitCapacity { state.tokens = Double(settings.rateLimitCapacity) }
                state.settings = settings
            }
            return try SimulatorJSON.encode(settings)
        }
        router.post("/sim/:flavour/:site/rate-limit") { request, context in
            struct Force: Decodable { var count: Int }
            let site = try self.site(context)
            let force = try await SimulatorJSON.decode(Force.self, request)
            site.state.withLock { $0.forcedRateLimits = max(0, force.count) }
            return try SimulatorJSON.encode(["forced": force.count])
        }
    }

    private func site(_ context: BasicRequestContext) throws -> JiraSite {
        guard let flavourName = context.parameters.get("flavour"), let flavour = JiraFlavour.allCases.first(where: { $0.routePrefix == flavourName }),
            let name = context.parameters.get("site")
        else { throw HTTPError(.notFound, message: "no such Jira flavour: use jira or jira-dc") }
        return self.site(flavour, name)
    }

}
