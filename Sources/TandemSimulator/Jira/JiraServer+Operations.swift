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
            try Self.encode(try self.site(context).stats())
        }
        router.get("/sim/:flavour/:site/log") { request, context in
            let site = try self.site(context)
            let after = request.uri.queryParameters.get("after").flatMap { Int($0) } ?? 0
            let limit = request.uri.queryParameters.get("limit").flatMap { Int($0) } ?? 10_000
            let events = site.state.withLock { state in Array(state.log.filter { $0.seq > after }.prefix(limit)) }
            let data = try SimulatorWire.encoder().encode(SimulatorWire.WriteLog(events: events))
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.post("/sim/:flavour/:site/seed") { request, context in
            struct Seed: Decodable {
                var project: String
                var count: Int
                var summaryPrefix: String?
            }
            let site = try self.site(context)
            let seed = try await Self.decode(Seed.self, request)
            guard (1...100_000).contains(seed.count) else { throw HTTPError(.badRequest, message: "count must be 1...100000") }
            do {
                return try Self.encode([
                    "keys": try site.seed(project: seed.project, count: seed.count, prefix: seed.summaryPrefix ?? "Seeded issue", now: Date())
                ])
            } catch {
                throw HTTPError(.badRequest, message: "no project \(seed.project)")
            }
        }
        router.post("/sim/:flavour/:site/reset") { _, context in
            try self.site(context).reset()
            return try Self.encode(["status": "reset"])
        }
        router.get("/sim/:flavour/:site/settings") { _, context in try Self.encode(try self.site(context).settings) }
        router.put("/sim/:flavour/:site/settings") { request, context in
            let site = try self.site(context)
            let patch = try await Self.decode(JSONValue.self, request)
            var merged = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(site.settings))
            guard case .object(var members) = merged, case .object(let changes) = patch else {
                throw HTTPError(.badRequest, message: "settings: expected an object")
            }
            for (key, value) in changes {
                guard members[key] != nil else { throw HTTPError(.badRequest, message: "settings: unknown key \(key)") }
                members[key] = value
            }
            merged = .object(members)
            let settings: JiraSite.Settings
            do {
                settings = try JSONDecoder().decode(JiraSite.Settings.self, from: merged.serialized())
            } catch {
                throw HTTPError(.badRequest, message: "settings: \(error)")
            }
            guard TimeZone(identifier: settings.timeZone) != nil else { throw HTTPError(.badRequest, message: "settings: unknown time zone") }
            guard settings.indexLagMilliseconds >= 0, settings.latencyMilliseconds >= 0, settings.rateLimitCapacity >= 0 else {
                throw HTTPError(.badRequest, message: "settings: negative values")
            }
            site.state.withLock { state in
                if state.settings.rateLimitCapacity != settings.rateLimitCapacity { state.tokens = Double(settings.rateLimitCapacity) }
                state.settings = settings
            }
            return try Self.encode(settings)
        }
        router.post("/sim/:flavour/:site/rate-limit") { request, context in
            struct Force: Decodable { var count: Int }
            let site = try self.site(context)
            let force = try await Self.decode(Force.self, request)
            site.state.withLock { $0.forcedRateLimits = max(0, force.count) }
            return try Self.encode(["forced": force.count])
        }
    }

    private func site(_ context: BasicRequestContext) throws -> JiraSite {
        guard let flavourName = context.parameters.get("flavour"), let flavour = JiraFlavour.allCases.first(where: { $0.routePrefix == flavourName }),
            let name = context.parameters.get("site")
        else { throw HTTPError(.notFound, message: "no such Jira flavour: use jira or jira-dc") }
        return self.site(flavour, name)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        do {
            return try JSONDecoder().decode(type, from: Data(buffer.readableBytesView))
        } catch {
            throw HTTPError(.badRequest, message: "request body: \(error)")
        }
    }

    static func encode(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(value)
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
