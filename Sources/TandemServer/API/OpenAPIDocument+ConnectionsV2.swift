import TandemConfig
import TandemCore
import TandemStore

/// The v2 issue-tracker connections (seed 003) in the OpenAPI document: `ConnectionsV2API.swift`.
extension OpenAPIDocument {
    static var connectionsV2Paths: [PathItem] {
        let id = Self.pathParameter("connection_id", integer: true)
        let include = Self.queryParameter(
            "include", Self.string(max: 200, pattern: "^last_job(,last_job)*$"), "`last_job`: add the connection's last background job.")
        return [
            PathItem(
                path: ConnectionsV2.collectionPath,
                operations: [
                    .init(
                        "get",
                        Self.operation(
                            "listIssueTrackerConnections",
                            "Issue-tracker connections (Tandem's repositories), as in seed 003; secrets never appear (stored ones show as {\"set\": true}).",
                            tag: "connections-v2",
                            parameters: [
                                Self.queryParameter(
                                    "project", Self.integer(1...Int(Int32.max)), "Only the connections created or changed with this `project`."),
                                include,
                            ], success: ("200", Self.ref("IssueTrackerConnectionList")), capability: .readConfiguration)),
                    .init(
                        "post",
                        Self.operation(
                            "createIssueTrackerConnection",
                            "Create a connection (a repository): validated, stored and audited like POST /api/v1/repositories. `frequency` defaults to `manually`.",
                            tag: "connections-v2", body: Self.ref("NewIssueTrackerConnection"),
                            success: ("201", Self.ref("IssueTrackerConnection")), capability: .writeConfiguration)),
                ]),
            PathItem(
                path: ConnectionsV2.itemPath,
                operations: [
                    .init(
                        "get",
                        Self.operation(
                            "getIssueTrackerConnection", "One connection.", tag: "connections-v2", parameters: [id, include],
                            success: ("200", Self.ref("IssueTrackerConnection")), capability: .readConfiguration)),
                    .init(
                        "patch",
                        Self.operation(
                            "updateIssueTrackerConnection",
                            "Change a connection; members and parameters left out keep their values (a parameter set to null is removed). A new alias renames the connection, in the same transaction.",
                            tag: "connections-v2", body: Self.ref("IssueTrackerConnectionChanges"), parameters: [id],
                            success: ("200", Self.ref("IssueTrackerConnection")), capability: .writeConfiguration)),
                    .init(
                        "delete",
                        Self.operation(
                            "deleteIssueTrackerConnection", "Delete a connection; refused with 409 while a collection uses it.",
                            tag: "connections-v2",
                            parameters: [id], success: ("204", nil), capability: .writeConfiguration)),
                ]),
            PathItem(
                path: ConnectionsV2.testPath,
                operations: [
                    .init(
                        "post",
                        Self.operation(
                            "testIssueTrackerConnection",
                            "Test connection parameters with the connector (reachable, credentials accepted, issue_tracker_project found) without storing anything.",
                            tag: "connections-v2", body: Self.ref("IssueTrackerConnectionTestRequest"),
                            success: ("200", Self.ref("IssueTrackerConnectionTest")), capability: .writeConfiguration))
                ]),
        ]
    }

    static var connectionsV2Schemas: [JSONNode.Member] {
        let systems = Self.enumeration(TrackerSystem.all.map(\.id))
        let connectors: JSONNode = .object(["type": .string("integer"), "enum": .array(TrackerSystem.all.map { .int($0.connector) })])
        let frequency = Self.enumeration(SyncFrequency.allCases.map(\.rawValue))
        let set = Self.object(["set": .object(["const": .bool(true)])], required: ["set"])
        let secretInput: JSONNode = .object([
            "description": .string("Write-only: the secret, or {\"set\": true} to keep the stored one. Answers show {\"set\": true}."),
            "oneOf": .array([Self.string(max: 4096), set]),
        ])
        let optionName = "^[A-Za-z0-9_.-]{1,100}$"
        func params(input: Bool, server: Bool = false) -> JSONNode {
            let text = Self.string(max: 200)
            var properties: [JSONNode.Member] = [
                .init("issue_tracker_server", Self.string(max: 2000)), .init("issue_tracker_method", Self.enumeration(["https", "http"])),
                .init("issue_tracker_auth_mode", Self.enumeration(ConnectionParams.authModes)), .init("issue_tracker_user", text),
                .init("issue_tracker_pass", input ? secretInput : set), .init("issue_tracker_token", input ? secretInput : set),
                .init("issue_tracker_api_key_header", text), .init("issue_tracker_api_key_parameter", text),
                .init("issue_tracker_validate_cert", Self.boolean),
                .init(
                    "issue_tracker_project",
                    input
                        ? .object([
                            "type": .array([.string("string"), .string("null")]), "minLength": .int(1), "maxLength": .int(200),
                            "pattern": .string(Self.noNUL),
                        ]) : text),
                .init(
                    "last_successful_run",
                    input ? .object(["type": .array([.string("string"), .string("null")]), "pattern": .string(Self.noNUL)]) : Self.dateTime),
            ]
            if !input { properties.removeAll { $0.key == "issue_tracker_server" } }
            if !input { properties.insert(.init("issue_tracker_server", Self.string(min: 0)), at: 0) }
            let other: JSONNode =
                input
                ? .object([
                    "description": .string("A connector option (stored in the clear: names that look like secrets are refused); null removes it."),
                    "type": .array([.string("string"), .string("number"), .string("boolean"), .string("null")]), "maxLength": .int(1000),
                    "pattern": .string(Self.noNUL),
                ])
                : Self.string(min: 0)
            // Names of further parameters: not reserved, and not looking like a secret (`ConnectionParams.checkOptionName`).
            let known = properties.map { JSONNode.string($0.key) }
            let secretLike = ["pass", "secret", "token", "apikey", "api_key", "credential", "private"].map { word in
                word.map { $0.isLetter ? "[\($0)\($0.uppercased())]" : String($0) }.joined()
            }
            let names: JSONNode = .object([
                "pattern": .string(optionName),
                "anyOf": .array([
                    .object(["enum": .array(known)]),
                    .object([
                        "not": .object([
                            "anyOf": .array([
                                .object(["enum": .array(ConnectionParams.reservedOptions.map(JSONNode.string))]),
                                .object(["pattern": .string(secretLike.joined(separator: "|"))]),
                            ])
                        ])
                    ]),
                ]),
            ])
            return .object([
                "type": .string("object"), "propertyNames": input ? names : nil,
                // One secret at most: issue_tracker_pass or issue_tracker_token.
                "not": input ? .object(["required": .array(ConnectionParams.secretKeys.map(JSONNode.string))]) : nil,
                "maxProperties": input ? .int(ConnectionParams.maximumParams) : nil,
                "properties": .object(properties), "additionalProperties": other,
                "required": input
                    ? (server ? .array([.string("issue_tracker_server")]) : nil)
                    : .array(
                        ["issue_tracker_server", "issue_tracker_method", "issue_tracker_auth_mode", "issue_tracker_validate_cert"].map(
                            JSONNode.string)),
            ])
        }
        let systemInput = Self.object(
            ["id": systems, "name": Self.string(min: 0, max: 200), "short_name": Self.string(min: 0, max: 200)], required: ["id"])
        let bodyProperties: KeyValuePairs<String, JSONNode> = [
            "alias": Self.string(max: 200), "connector": connectors, "system": systemInput, "project": Self.integer(1...Int(Int32.max)),
            "frequency": frequency, "debug_mode": Self.boolean, "params": params(input: true),
        ]
        /// Creates and tests need the tracker type (`connector` or `system`) and the server.
        func body(required: [String], extra: [(String, JSONNode)] = [], description: String) -> JSONNode {
            let complete = required.contains("params")
            var properties = bodyProperties.map {
                JSONNode.Member($0.key, $0.key == "params" && complete ? params(input: true, server: true) : $0.value)
            }
            properties += extra.map { JSONNode.Member($0.0, $0.1) }
            // With both `connector` and `system`, they name the same system.
            let same: JSONNode = .object([
                "anyOf": .array(
                    [.object(["not": .object(["required": .array([.string("connector"), .string("system")])])])]
                        + TrackerSystem.all.map { system in
                            .object([
                                "properties": .object([
                                    "connector": .object(["const": .int(system.connector)]),
                                    "system": .object(["properties": .object(["id": .object(["const": .string(system.id)])])]),
                                ])
                            ])
                        })
            ])
            var all: [JSONNode] = [same]
            if complete {
                all.append(
                    .object([
                        "anyOf": .array([
                            .object(["required": .array([.string("connector")])]), .object(["required": .array([.string("system")])]),
                        ])
                    ]))
            }
            return .object([
                "type": .string("object"), "description": .string(description),
                "required": required.isEmpty ? nil : .array(required.map(JSONNode.string)), "additionalProperties": .bool(false),
                "properties": .object(properties), "allOf": .array(all),
            ])
        }
        let nullableInteger: JSONNode = .object(["type": .array([.string("integer"), .string("null")])])
        let lastJob = Self.object(
            [
                "id": nullableInteger, "kind": Self.enumeration(["full-scan", "process-all", "initiate-synchronization"]), "succeeded": Self.boolean,
                "ready": Self.boolean, "automatic": Self.boolean, "last_run": Self.dateTime, "result_message": Self.string(min: 0),
                "user": nullableInteger, "triggered_by": nullableInteger,
            ], required: ["id", "kind", "succeeded", "ready", "automatic", "last_run", "result_message", "user", "triggered_by"],
            description: "The latest of the last operator request on an integration using the connection and its last full scan.")
        let connection = Self.object(
            [
                "id": Self.integer(1...Int(Int64.max)), "alias": Self.string(),
                "system": Self.object(
                    ["id": systems, "short_name": Self.string(), "name": Self.string()], required: ["id", "short_name", "name"]),
                "frequency": frequency, "command": Self.string(), "debug_mode": Self.boolean, "params": params(input: false),
                "inaccessible": Self.boolean,
                "last_job": .object(["anyOf": .array([Self.ref("IssueTrackerConnectionJob"), .object(["type": .string("null")])])]),
                "in_progress": Self.boolean, "connector": .object(["type": .string("integer")]), "project": nullableInteger,
            ],
            required: [
                "id", "alias", "system", "frequency", "command", "debug_mode", "params", "inaccessible", "in_progress", "connector", "project",
            ],
            description: "An issue-tracker connection (seed 003): a Tandem repository. Secrets never appear.")
        return [
            .init("IssueTrackerConnection", connection),
            .init("IssueTrackerConnectionJob", lastJob),
            .init(
                "IssueTrackerConnectionList",
                Self.object(["results": Self.array(Self.ref("IssueTrackerConnection"))], required: ["results"])),
            .init(
                "NewIssueTrackerConnection",
                body(
                    required: ["alias", "params"],
                    description:
                        "A new connection: `alias` (the repository's name), `connector` or `system.id` (the tracker type), `params` (at least issue_tracker_server)."
                )),
            .init("IssueTrackerConnectionChanges", body(required: [], description: "Members to change; the others keep their values.")),
            .init(
                "IssueTrackerConnectionTestRequest",
                body(
                    required: ["params"], extra: [("name", Self.string(min: 0, max: 200))],
                    description: "Connection parameters to test; nothing is stored.")),
            .init(
                "IssueTrackerConnectionTest",
                Self.object(
                    [
                        "success": Self.boolean, "message": Self.string(), "outcome": Self.connectionOutcome, "reachable": Self.boolean,
                        "authenticated": Self.boolean, "projectFound": Self.boolean, "httpStatus": Self.integer(100...599),
                    ], required: ["success", "outcome", "reachable", "authenticated"])),
        ]
    }
}
