import Foundation
import Hummingbird
import NIOCore
import TandemConnectors

import enum HTTP.JSONValue

/// JSON in and out of the vendor simulators' operations routes (`/sim/<vendor>/<site>/…`).
enum SimulatorJSON {
    static func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        var request = request
        let buffer = try await request.collectBody(upTo: 16 << 20)
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

    /// `current` with the keys `patch` names replaced (a `PUT …/settings`): an unknown key or a wrong type is a 400.
    static func merged<Settings: Codable>(_ current: Settings, _ request: Request) async throws -> Settings {
        let patch = try await Self.decode(JSONValue.self, request)
        guard case .object(var members) = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(current)),
            case .object(let changes) = patch
        else {
            throw HTTPError(.badRequest, message: "settings: expected an object")
        }
        for (key, value) in changes {
            guard members[key] != nil else { throw HTTPError(.badRequest, message: "settings: unknown key \(key)") }
            members[key] = value
        }
        do {
            return try JSONDecoder().decode(Settings.self, from: JSONValue.object(members).serialized())
        } catch {
            throw HTTPError(.badRequest, message: "settings: \(error)")
        }
    }

    /// `GET …/log?after=<seq>&limit=`: the write log's events after `after` (default 0), at most `limit` (10,000).
    static func log(_ request: Request, _ events: (_ after: Int, _ limit: Int) -> [SimulatorWire.WriteEvent]) throws -> Response {
        let after = request.uri.queryParameters.get("after").flatMap { Int($0) } ?? 0
        let limit = request.uri.queryParameters.get("limit").flatMap { Int($0) } ?? 10_000
        let data = try SimulatorWire.encoder().encode(SimulatorWire.WriteLog(events: events(after, limit)))
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
