import Foundation
import HTTP
import TandemConnectors

/// What the real-tracker tests set up in the real Redmine as its administrator would: users and project members.
enum RedmineAdmin {
    static let environment = ProcessInfo.processInfo.environment

    static func call(_ method: HTTPMethod, _ path: String, _ body: JSONValue? = nil) async throws -> (Int, JSONValue?) {
        var request = HTTPRequest(method, URL(string: environment["TANDEM_REDMINE_URL"]! + path)!)
        request.setHeader("X-Redmine-API-Key", environment["TANDEM_REDMINE_API_KEY"]!)
        request.setHeader("Accept", "application/json")
        if let body {
            request.body = body.serialized()
            request.setHeader("Content-Type", "application/json")
        }
        let response = try await ProcessFaultTests.http.execute(request, settings: ConnectionSettings(repository: "redmine-admin"))
        return (response.status, response.body.isEmpty ? nil : try? JSONValue.parse(response.body))
    }

    /// The id of the user with `login`, created (active, with that name and e-mail) when there is none.
    static func user(login: String, firstName: String, lastName: String, email: String) async throws -> Int {
        func find() async throws -> Int? {
            let (_, json) = try await Self.call(.get, "/users.json?status=1&name=\(login)")
            return json?["users"]?.array?.first { $0["login"]?.string == login }?["id"]?.int
        }
        if let id = try await find() { return id }
        let user: JSONValue = [
            "user": [
                "login": .string(login), "firstname": .string(firstName), "lastname": .string(lastName), "mail": .string(email),
                "password": .string(UUID().uuidString),
            ]
        ]
        let (status, json) = try await Self.call(.post, "/users.json", user)
        if let id = json?["user"]?["id"]?.int { return id }
        // Created meanwhile by another test: find it again.
        guard let id = try await find() else { throw POSIXError(.EIO, "creating Redmine user \(login) answered \(status)") }
        return id
    }

    /// Makes a user a member of a project with the Developer role (issues can be assigned to members only).
    static func addMember(project: String, userID: Int) async throws {
        let (_, roles) = try await Self.call(.get, "/roles.json")
        let developer = roles?["roles"]?.array?.first { $0["name"]?.string == "Developer" } ?? roles?["roles"]?.array?.first
        guard let role = developer?["id"]?.int else { throw POSIXError(.EIO, "Redmine lists no role") }
        let membership: JSONValue = ["membership": ["user_id": .number(Double(userID)), "role_ids": [.number(Double(role))]]]
        let (status, json) = try await Self.call(.post, "/projects/\(project)/memberships.json", membership)
        guard status == 201 || (status == 422 && "\(json ?? .null)".contains("taken")) else {
            throw POSIXError(.EIO, "adding member \(userID) to \(project) answered \(status): \(json ?? .null)")
        }
    }
}

extension POSIXError {
    init(_ code: POSIXErrorCode, _ message: String) {
        self.init(code, userInfo: [NSLocalizedDescriptionKey: message])
    }
}
