import Foundation
import TandemConfig
import TandemConnectors
import TandemCore
import TandemStore

/// The OpenAPI 3.1 document of the API, served at `/api/openapi.json`. It is built here, in the repository, from the
/// same enumerations the parser accepts (so an enum cannot drift), and a test checks that it describes every endpoint
/// the server routes. `Ops/api-fuzz.sh` runs schemathesis against it.
public enum OpenAPIDocument {
    public static let json: String = Self.document(requests: false).text
    /// With the operator requests (`process-all`, `initiate-synchronization`), served when the server has them.
    public static let jsonWithRequests: String = Self.document(requests: true).text

    /// A JSON text indented, with sorted keys (how `docs/openapi.json` is kept).
    public static func indented(_ text: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    static func document(requests: Bool) -> JSONNode {
        .object([
            "openapi": .string("3.1.0"),
            "info": .object([
                "title": .string("Tandem administration API"), "version": .string("1"),
                "description": .string(
                    "Configuration, users, settings and the audit log of a Tandem installation. Authenticate with an API token (`Authorization: Token <token>`, made with `tandem tokens create` or POST /api/v1/tokens) or a session cookie from POST /api/v1/session; with a cookie, unsafe methods need the session's CSRF token in `X-CSRF-Token`. Every 4xx and 5xx answer has the Error body. See docs/api.md."
                ),
            ]),
            "servers": .array([.object(["url": .string("/")])]),
            "security": .array([.object(["tokenAuth": .array([])]), .object(["cookieAuth": .array([])])]),
            "paths": .object(
                Self.linked(Self.paths + (requests ? Self.requestPaths : []) + Self.operationsPaths + Self.connectionsV2Paths).map {
                    JSONNode.Member($0.path, .object($0.operations))
                }),
            "components": .object([
                "securitySchemes": .object([
                    "tokenAuth": .object([
                        "type": .string("apiKey"), "in": .string("header"), "name": .string("Authorization"),
                        "description": .string("`Token <token>`"),
                    ]),
                    "cookieAuth": .object([
                        "type": .string("apiKey"), "in": .string("cookie"), "name": .string(APIMiddleware.sessionCookie),
                        "description": .string("The session cookie set by POST /api/v1/session; unsafe methods also need X-CSRF-Token."),
                    ]),
                ]),
                "schemas": .object(Self.schemas + Self.operationsSchemas + Self.connectionsV2Schemas),
                "responses": .object([
                    "Error": .object([
                        "description": .string("The request was refused; `field` names the offending member or parameter."),
                        "content": Self.content(Self.ref("Error")),
                    ])
                ]),
            ]),
        ])
    }

    // MARK: - Paths

    struct PathItem {
        var path: String
        var operations: [JSONNode.Member]
    }

    static func ref(_ name: String) -> JSONNode { .object(["$ref": .string("#/components/schemas/\(name)")]) }
    static func content(_ schema: JSONNode) -> JSONNode { .object(["application/json": .object(["schema": schema])]) }
    static func list(_ name: String) -> JSONNode {
        .object([
            "type": .string("object"), "required": .array([.string("items")]), "additionalProperties": .bool(false),
            "properties": .object(["items": .object(["type": .string("array"), "items": Self.ref(name)])]),
        ])
    }

    static func operation(
        _ id: String, _ summary: String, tag: String, body: JSONNode? = nil, bodyRequired: Bool = true, parameters: [JSONNode] = [],
        success: (code: String, schema: JSONNode?), capability: Capability?, public isPublic: Bool = false
    ) -> JSONNode {
        var responses: [JSONNode.Member] = [
            .init(
                success.code,
                .object([
                    "description": .string(success.code == "204" ? "Done." : "Success."),
                    "content": success.schema.map(Self.content),
                ]))
        ]
        responses.append(.init("4XX", .object(["$ref": .string("#/components/responses/Error")])))
        responses.append(.init("503", .object(["$ref": .string("#/components/responses/Error")])))
        var description = summary
        if let capability {
            description +=
                "\n\nNeeds the `\(capability.rawValue)` permission (roles: \(capability.allowed.sorted().map(\.rawValue).joined(separator: ", ")))."
        }
        return .object([
            "operationId": .string(id), "summary": .string(summary), "description": .string(description), "tags": .array([.string(tag)]),
            "security": isPublic ? .array([]) : nil,
            "parameters": parameters.isEmpty ? nil : .array(parameters),
            "requestBody": body.map { .object(["required": .bool(bodyRequired), "content": Self.content($0)]) },
            "responses": .object(responses),
        ])
    }

    static func pathParameter(_ name: String, integer: Bool = false) -> JSONNode {
        .object([
            "name": .string(name), "in": .string("path"), "required": .bool(true),
            "schema": integer
                ? .object(["type": .string("integer"), "minimum": .int(1), "maximum": .int(Int(Int64.max))])
                : .object(["type": .string("string"), "minLength": .int(1), "maxLength": .int(200), "pattern": .string(Self.noNUL)]),
        ])
    }

    static func queryParameter(_ name: String, _ schema: JSONNode, _ description: String) -> JSONNode {
        .object(["name": .string(name), "in": .string("query"), "required": .bool(false), "schema": schema, "description": .string(description)])
    }

    static var paths: [PathItem] {
        var items: [PathItem] = [
            PathItem(
                path: "/api/openapi.json",
                operations: [
                    .init(
                        "get",
                        Self.operation(
                            "getOpenAPI", "This document.", tag: "meta", success: ("200", .object(["type": .string("object")])), capability: nil,
                            public: true))
                ]),
            PathItem(
                path: "/api/v1/session",
                operations: [
                    .init(
                        "post",
                        Self.operation(
                            "login",
                            "Log in: sets the session cookie (HttpOnly, SameSite=Strict) and returns the CSRF token. Failures do not say whether the user exists; repeated failures lock the account.",
                            tag: "session", body: Self.ref("Login"), success: ("200", Self.ref("Session")), capability: nil, public: true)),
                    .init(
                        "delete", Self.operation("logout", "Log out (ends the session).", tag: "session", success: ("204", nil), capability: .account)
                    ),
                ]),
            PathItem(
                path: "/api/v1/me",
                operations: [
                    .init(
                        "get",
                        Self.operation(
                            "me", "Who is calling, and what they may do.", tag: "session", success: ("200", Self.ref("Me")), capability: .account))
                ]
            ),
            PathItem(
                path: "/api/v1/roles",
                operations: [
                    .init(
                        "get",
                        Self.operation(
                            "listRoles", "The roles, and which roles grant each permission (the authorization matrix).", tag: "session",
                            success: ("200", Self.ref("Roles")), capability: .account))
                ]),
            PathItem(
                path: "/api/v1/me/password",
                operations: [
                    .init(
                        "put",
                        Self.operation(
                            "changeOwnPassword", "Change one's own password (other sessions end).", tag: "session", body: Self.ref("OwnPassword"),
                            success: ("204", nil), capability: .account))
                ]),
            PathItem(
                path: "/api/v1/users",
                operations: [
                    .init(
                        "get", Self.operation("listUsers", "List users.", tag: "users", success: ("200", Self.list("User")), capability: .manageUsers)
                    ),
                    .init(
                        "post",
                        Self.operation(
                            "createUser", "Create a user.", tag: "users", body: Self.ref("NewUser"), success: ("201", Self.ref("User")),
                            capability: .manageUsers)),
                ]),
            PathItem(
                path: "/api/v1/users/{username}",
                operations: [
                    .init(
                        "get",
                        Self.operation(
                            "getUser", "One user.", tag: "users", parameters: [Self.pathParameter("username")], success: ("200", Self.ref("User")),
                            capability: .manageUsers)),
                    .init(
                        "patch",
                        Self.operation(
                            "updateUser", "Change roles, name, e-mail, disable, or clear a lock-out. The last enabled admin stays an admin.",
                            tag: "users",
                            body: Self.ref("UserChanges"), parameters: [Self.pathParameter("username")], success: ("200", Self.ref("User")),
                            capability: .manageUsers)),
                    .init(
                        "delete",
                        Self.operation(
                            "deleteUser", "Delete a user with their tokens and sessions.", tag: "users", parameters: [Self.pathParameter("username")],
                            success: ("204", nil), capability: .manageUsers)),
                ]),
            PathItem(
                path: "/api/v1/users/{username}/password",
                operations: [
                    .init(
                        "put",
                        Self.operation(
                            "setUserPassword", "Reset a user's password (clears a lock-out, ends their sessions).", tag: "users",
                            body: Self.ref("NewPassword"), parameters: [Self.pathParameter("username")], success: ("204", nil),
                            capability: .manageUsers))
                ]),
            PathItem(
                path: "/api/v1/users/{username}/tokens",
                operations: [
                    .init(
                        "get",
                        Self.operation(
                            "listUserTokens", "A user's API tokens (never the tokens themselves).", tag: "users",
                            parameters: [Self.pathParameter("username")], success: ("200", Self.list("Token")), capability: .manageUsers)),
                    .init(
                        "post",
                        Self.operation(
                            "createUserToken", "Make an API token for a user (e.g. a service user without a password); shown once.", tag: "users",
                            body: Self.ref("NewToken"), parameters: [Self.pathParameter("username")], success: ("201", Self.ref("CreatedToken")),
                            capability: .manageUsers)),
                ]),
            PathItem(
                path: "/api/v1/users/{username}/tokens/{id}",
                operations: [
                    .init(
                        "delete",
                        Self.operation(
                            "revokeUserToken", "Revoke a user's token.", tag: "users",
                            parameters: [Self.pathParameter("username"), Self.pathParameter("id", integer: true)],
                            success: ("200", Self.ref("Token")),
                            capability: .manageUsers))
                ]),
            PathItem(
                path: "/api/v1/tokens",
                operations: [
                    .init(
                        "get",
                        Self.operation(
                            "listTokens", "One's own API tokens (never the tokens themselves).", tag: "tokens", success: ("200", Self.list("Token")),
                            capability: .account)),
                    .init(
                        "post",
                        Self.operation(
                            "createToken", "Make an API token; the answer is the only time it is shown.", tag: "tokens", body: Self.ref("NewToken"),
                            success: ("201", Self.ref("CreatedToken")), capability: .account)),
                ]),
            PathItem(
                path: "/api/v1/tokens/{id}",
                operations: [
                    .init(
                        "delete",
                        Self.operation(
                            "revokeToken", "Revoke one of one's own tokens.", tag: "tokens", parameters: [Self.pathParameter("id", integer: true)],
                            success: ("200", Self.ref("Token")), capability: .account))
                ]),
        ]
        for section in ConfigJSON.Section.allCases {
            let schema = Self.entitySchemaName(section)
            let entity = section.entity
            items.append(
                PathItem(
                    path: "/api/v1/\(section.rawValue)",
                    operations: [
                        .init(
                            "get",
                            Self.operation(
                                "list\(schema)s", "List \(section.rawValue).", tag: "configuration", success: ("200", Self.list(schema)),
                                capability: .readConfiguration)),
                        .init(
                            "post",
                            Self.operation(
                                "create\(schema)", "Create a \(entity), validated as `tandem apply` validates it.", tag: "configuration",
                                body: Self.ref(section == .repositories ? "NewRepository" : schema), success: ("201", Self.ref(schema)),
                                capability: .writeConfiguration)),
                    ]))
            items.append(
                PathItem(
                    path: "/api/v1/\(section.rawValue)/{name}",
                    operations: [
                        .init(
                            "get",
                            Self.operation(
                                "get\(schema)", "One \(entity).", tag: "configuration", parameters: [Self.pathParameter("name")],
                                success: ("200", Self.ref(schema)), capability: .readConfiguration)),
                        .init(
                            "put",
                            Self.operation(
                                "replace\(schema)",
                                "Replace a \(entity) (the body's name, if given, must be the path's). Changes that would break other entities are refused with 409.",
                                tag: "configuration", body: Self.ref(schema + "Update"), parameters: [Self.pathParameter("name")],
                                success: ("200", Self.ref(schema)), capability: .writeConfiguration)),
                        .init(
                            "delete",
                            Self.operation(
                                "delete\(schema)",
                                "Delete a \(entity); refused with 409 while others refer to it (or, for an integration, while it runs).",
                                tag: "configuration",
                                parameters: [Self.pathParameter("name")], success: ("204", nil), capability: .writeConfiguration)),
                    ]))
        }
        items.append(
            PathItem(
                path: "/api/v1/repositories/{name}/test",
                operations: [
                    .init(
                        "post",
                        Self.operation(
                            "testRepository", "Test the connection: answers a classified outcome (reachable, credentials accepted, project found).",
                            tag: "configuration",
                            body: Self.ref("ConnectionTestRequest"), bodyRequired: false, parameters: [Self.pathParameter("name")],
                            success: ("200", Self.ref("ConnectionTest")), capability: .writeConfiguration))
                ]))
        for (action, summary) in [("run", "Start an integration (sets `running`)."), ("stop", "Stop an integration.")] {
            items.append(
                PathItem(
                    path: "/api/v1/integrations/{name}/\(action)",
                    operations: [
                        .init(
                            "post",
                            Self.operation(
                                "\(action)Integration", summary, tag: "configuration", parameters: [Self.pathParameter("name")],
                                success: ("200", Self.ref("Integration")), capability: .runIntegrations))
                    ]))
        }
        items += [
            PathItem(
                path: "/api/v1/settings",
                operations: [
                    .init(
                        "get",
                        Self.operation(
                            "getSettings", "Global settings.", tag: "settings", success: ("200", Self.ref("Settings")), capability: .readSettings)),
                    .init(
                        "patch",
                        Self.operation(
                            "updateSettings", "Change global settings; members left out keep their values.", tag: "settings",
                            body: Self.ref("SettingsChanges"),
                            success: ("200", Self.ref("Settings")), capability: .writeSettings)),
                ]),
            PathItem(
                path: "/api/v1/settings/logging",
                operations: [
                    .init(
                        "put",
                        Self.operation(
                            "setLogging",
                            "Set the log level, and/or a troubleshooting level (debug or trace) that reverts by itself after at most 24 hours (minutes: 0 ends it now).",
                            tag: "settings", body: Self.ref("LoggingChanges"), success: ("200", Self.ref("Logging")), capability: .changeLogging))
                ]),
            PathItem(
                path: "/api/v1/audit",
                operations: [
                    .init(
                        "get",
                        Self.operation(
                            "listAudit", "The audit log (configuration history), newest first; page with `before` = the previous page's `next`.",
                            tag: "audit",
                            parameters: [
                                Self.queryParameter(
                                    "entity", Self.string(max: 200),
                                    "Only this entity kind (user, api-token, repository, model, collection, integration, settings)."),
                                Self.queryParameter("name", Self.string(max: 200), "Only this entity's name."),
                                Self.queryParameter("actor", Self.string(max: 200), "Only changes by this user."),
                                Self.queryParameter(
                                    "before", Self.integer(1...Int.max), "Only entries older than this id."),
                                Self.queryParameter(
                                    "limit", .object(["type": .string("integer"), "minimum": .int(1), "maximum": .int(500)]),
                                    "Page size (default 50)."),
                            ], success: ("200", Self.ref("AuditPage")), capability: .readAudit))
                ]),
            PathItem(
                path: "/api/v1/audit/{id}/revert",
                operations: [
                    Self.post(
                        "revertAuditEntry",
                        "Undo one change of a repository, model, collection or integration: an update's changed members go back to their values before it (other members, `running` and secrets are kept); a deletion is undone by creating the entity again as it was (an integration stopped). Validated and audited like any change; 409 when there is nothing to undo (another kind of change, no recorded values, already back, the entity gone or back again) or the earlier values are not valid in today's configuration.",
                        tag: "audit", body: .object(["type": .string("object"), "maxProperties": .int(0)]), parameters: [Self.idParameter],
                        schema: "AuditRevert", capability: .writeConfiguration)
                ]),
        ]
        return items
    }

    static var requestPaths: [PathItem] {
        [
            PathItem(
                path: "/api/v1/integrations/{name}/process-all",
                operations: [
                    .init(
                        "post",
                        Self.operation(
                            "processAll",
                            "Process All Artifacts: re-synchronise every mapped field of every pair. The leading coordinator carries the request out at its next tick.",
                            tag: "configuration", body: Self.object([:]), bodyRequired: false, parameters: [Self.pathParameter("name")],
                            success: ("202", Self.ref("IntegrationRequest")), capability: .runIntegrations))
                ]),
            PathItem(
                path: "/api/v1/integrations/{name}/initiate-synchronization",
                operations: [
                    .init(
                        "post",
                        Self.operation(
                            "initiateSynchronization",
                            "Initiate Synchronization: read a side's projects (default: both sides, all projects) in full now, so that newly eligible artifacts synchronise. The projects must be the side's collection's (without a side: either collection's); others are refused (422 `projects`).",
                            tag: "configuration", body: Self.ref("InitiateSynchronization"), bodyRequired: false,
                            parameters: [Self.pathParameter("name")], success: ("202", Self.ref("IntegrationRequest")), capability: .runIntegrations))
                ]),
        ]
    }

    static func entitySchemaName(_ section: ConfigJSON.Section) -> String {
        switch section {
        case .repositories: "Repository"
        case .models: "Model"
        case .collections: "Collection"
        case .integrations: "Integration"
        }
    }

    // MARK: - Schemas

    /// A string. No text the API takes may hold a NUL character (PostgreSQL's text cannot; `APIBody` refuses it, naming
    /// the member), so every string's pattern excludes it: none given, `^[^\x00]*$`; `\S` (not blank), at least one
    /// character that is neither white space nor NUL; any other pattern given must exclude NUL itself.
    static func string(min: Int = 1, max: Int? = nil, pattern: String? = nil) -> JSONNode {
        let text: String =
            switch pattern {
            case nil: Self.noNUL
            case "\\S": "^[^\\x00]*[^\\s\\x00][^\\x00]*$"
            case let given?: given
            }
        return .object(["type": .string("string"), "minLength": .int(min), "maxLength": max.map(JSONNode.int), "pattern": .string(text)])
    }
    /// Text without a NUL character.
    static let noNUL = "^[^\\x00]*$"
    static func integer(_ range: ClosedRange<Int>) -> JSONNode {
        .object(["type": .string("integer"), "minimum": .int(range.lowerBound), "maximum": .int(range.upperBound)])
    }
    static let boolean: JSONNode = .object(["type": .string("boolean")])
    /// A connection test's outcomes (`ConnectionCheck.Outcome`).
    static var connectionOutcome: JSONNode { Self.enumeration(ConnectionCheck.Outcome.allCases.map(\.rawValue)) }
    static let dateTime: JSONNode = .object(["type": .string("string"), "format": .string("date-time")])
    static func enumeration(_ values: [String]) -> JSONNode { .object(["type": .string("string"), "enum": .array(values.map(JSONNode.string))]) }
    static func array(_ items: JSONNode, minItems: Int? = nil) -> JSONNode {
        .object(["type": .string("array"), "items": items, "minItems": minItems.map(JSONNode.int)])
    }
    static func map(_ values: JSONNode) -> JSONNode {
        .object([
            "type": .string("object"), "propertyNames": .object(["minLength": .int(1), "pattern": .string(Self.noNUL)]),
            "additionalProperties": values,
        ])
    }
    /// A string, or a list of them (configuration accepts both).
    static let strings: JSONNode = .object(["anyOf": .array([Self.string(), Self.array(Self.string())])])
    /// A string, or a list of at least one (where the configuration needs a value: a collection's projects, …).
    static let someStrings: JSONNode = .object(["anyOf": .array([Self.string(), Self.array(Self.string(), minItems: 1)])])
    /// The options of a tool's repositories: those its registration declares, each value as the registration checks
    /// it, and `param.*` kept as given.
    static func options(of registration: ConnectorRegistration, name: JSONNode, text: JSONNode) -> JSONNode {
        let properties = registration.allOptions.map { option -> JSONNode.Member in
            let value: JSONNode =
                switch option.type {
                case .string: text
                case .integer: Self.string(max: 20, pattern: option.type.pattern())
                // The pairs' shape, within what any text of the configuration may hold.
                case .pairs:
                    Self.string(max: ConfigLimits.maximumTextLength, pattern: option.type.pattern(excluding: ConfigLimits.textControls))
                case .boolean: Self.enumeration(["true", "false"])
                case .choice(let names): Self.enumeration(names)
                }
            return JSONNode.Member(option.name, Self.with(value, "description", .string(option.summary)))
        }
        let prefix = NSRegularExpression.escapedPattern(for: ConnectorOption.passThroughPrefix)
        return .object([
            "type": .string("object"), "propertyNames": name, "properties": .object(properties),
            "patternProperties": .object(["^\(prefix).": text]), "additionalProperties": .bool(false),
        ])
    }

    /// A closed object.
    static func object(_ properties: KeyValuePairs<String, JSONNode>, required: [String] = [], description: String? = nil) -> JSONNode {
        .object([
            "type": .string("object"), "description": description.map(JSONNode.string),
            "required": required.isEmpty ? nil : .array(required.map(JSONNode.string)), "additionalProperties": .bool(false),
            "properties": .object(properties.map { JSONNode.Member($0.key, $0.value) }),
        ])
    }
    /// `schema` with one more member (a keyword such as `anyOf`).
    static func with(_ schema: JSONNode, _ key: String, _ value: JSONNode) -> JSONNode {
        guard case .object(var members) = schema else { return schema }
        members.append(.init(key, value))
        return .object(members)
    }
    static func withoutRequired(_ schema: JSONNode, _ key: String) -> JSONNode {
        guard case .object(var members) = schema, let index = members.firstIndex(where: { $0.key == "required" }),
            case .array(let required) = members[index].value
        else { return schema }
        members[index].value = .array(required.filter { $0 != .string(key) })
        return .object(members)
    }

    static var schemas: [JSONNode.Member] {
        let secret: JSONNode = .object([
            "description": .string("Write-only: the secret's value, or {\"set\": true} to keep the stored one. Answers always show {\"set\": true}."),
            "oneOf": .array([Self.string(), Self.object(["set": .object(["const": .bool(true)])], required: ["set"])]),
        ])
        // A positive number of seconds, minutes, hours or days (ConfigDuration), within ConfigLimits.
        // No length bound: the pattern bounds the value, and leading zeros, which it allows, change nothing.
        let duration = Self.string(pattern: ConfigLimits.durationPattern)
        // Names, text and URLs as the validator takes them (ConfigLimits): no control characters, bounded lengths.
        let name = Self.string(max: ConfigLimits.maximumNameLength, pattern: ConfigLimits.namePattern)
        let text = Self.string(max: ConfigLimits.maximumTextLength, pattern: ConfigLimits.textPattern)
        let url = Self.string(max: ConfigLimits.maximumURLLength, pattern: ConfigLimits.urlPattern)
        let names: JSONNode = .object(["anyOf": .array([name, Self.array(name)])])
        let someNames: JSONNode = .object(["anyOf": .array([name, Self.array(name, minItems: 1)])])
        func map(_ values: JSONNode) -> JSONNode {
            .object(["type": .string("object"), "propertyNames": name, "additionalProperties": values])
        }
        let rateLimit = Self.object(
            ["eventsPerMinute": Self.integer(1...1_000_000), "scope": Self.enumeration(RateLimitScope.allCases.map(\.rawValue))],
            required: ["eventsPerMinute"])
        // A repository; `secret` is what its secrets take (a new one has none stored to keep).
        func repositorySchema(secret: JSONNode, description: String) -> JSONNode {
            let auth: JSONNode = .object([
                "oneOf": .array([
                    Self.object(["kind": .object(["const": .string("none")])], required: ["kind"]),
                    Self.object(
                        ["kind": .object(["const": .string("basic")]), "username": name, "password": secret],
                        required: ["kind", "username", "password"]),
                    Self.with(
                        Self.object(
                            ["kind": .object(["const": .string("api-key")]), "key": secret, "header": name, "parameter": name],
                            required: ["kind", "key"]),
                        "not", .object(["required": .array([.string("header"), .string("parameter")])])),
                    Self.object(["kind": .object(["const": .string("token")]), "token": secret], required: ["kind", "token"]),
                    Self.object(["kind": .object(["const": .string("bearer")]), "token": secret], required: ["kind", "token"]),
                ])
            ])
            let repository = Self.object(
                [
                    "name": name, "type": Self.enumeration(RepositoryKind.allCases.map(\.rawValue)),
                    "url": url,
                    "auth": auth, "enabled": Self.boolean, "allowInsecure": Self.boolean, "debugLogging": Self.boolean,
                    "proxy": Self.object(["url": url, "username": name, "password": secret], required: ["url"]),
                    "eventRateLimit": rateLimit, "concurrencyLimit": Self.integer(1...1000), "options": map(text),
                ], required: ["name", "type", "url"], description: description)
            // A repository's options are those its type's registration declares: one variant per type.
            return Self.with(
                repository, "oneOf",
                .array(
                    RepositoryKind.allCases.map { kind in
                        .object([
                            "properties": .object([
                                "type": .object(["const": .string(kind.rawValue)]),
                                "options": Self.options(of: kind.registration, name: name, text: text),
                            ])
                        ])
                    }))
        }
        let repository = repositorySchema(secret: secret, description: "A repository connection (docs/configuration.md).")
        let newRepository = repositorySchema(
            // A secret is any text but NUL: passwords may hold characters names may not.
            secret: Self.with(Self.string(), "description", .string("Write-only: the secret's value (a new repository has none stored to keep).")),
            description: "A new repository connection (docs/configuration.md): its secrets are given, not kept.")
        let fieldTypes = Self.enumeration(FieldType.allCases.map(\.rawValue))
        // A select field lists distinct values, or allows unmapped ones; other fields take neither.
        let selectTypes = FieldType.allCases.filter(\.isSelect).map(\.rawValue)
        let distinct: JSONNode = .object([
            "anyOf": .array([name, .object(["type": .string("array"), "items": name, "uniqueItems": .bool(true)])])
        ])
        let modelField = Self.with(
            Self.object(
                ["name": name, "type": fieldTypes, "required": Self.boolean, "values": names, "allowUnmapped": Self.boolean],
                required: ["name", "type"]),
            "oneOf",
            .array([
                .object([
                    "properties": .object(["type": Self.enumeration(selectTypes), "values": distinct]),
                    "anyOf": .array([
                        .object(["required": .array([.string("values")]), "properties": .object(["values": someNames])]),
                        .object([
                            "required": .array([.string("allowUnmapped")]), "properties": .object(["allowUnmapped": .object(["const": .bool(true)])]),
                        ]),
                    ]),
                ]),
                .object([
                    "properties": .object([
                        "type": Self.enumeration(FieldType.allCases.filter { !$0.isSelect }.map(\.rawValue)),
                        "values": .object(["type": .string("array"), "maxItems": .int(0)]), "allowUnmapped": .object(["const": .bool(false)]),
                    ])
                ]),
            ]))
        let model = Self.object(
            ["name": name, "fields": Self.array(modelField)], required: ["name", "fields"],
            description: "A model: the common fields integrations map through.")
        let transforms = Self.enumeration(TransformKind.allCases.map(\.rawValue))
        let collection = Self.object(
            [
                "name": name, "repository": name, "artifactType": name, "projects": someNames,
                "model": name,
                "fields": Self.array(
                    Self.object(
                        [
                            "field": name, "modelField": name, "type": fieldTypes, "toModel": transforms,
                            "toRepository": transforms,
                            "valueMap": Self.array(
                                Self.object(["repository": someNames, "model": name], required: ["repository", "model"])),
                            "default": name, "constant": text,
                        ], required: ["field", "modelField"])),
                "statusField": name,
                "transitions": Self.array(
                    Self.object(["from": name, "to": name, "name": name], required: ["from", "to", "name"])),
            ], required: ["name", "repository", "artifactType", "projects", "model"],
            description: "A collection: a repository's artifacts mapped to a model.")
        let side = Self.enumeration(Side.allCases.map(\.rawValue))
        let flows = map(
            Self.object([
                "leftToRight": Self.enumeration(FlowFrequency.allCases.map(\.rawValue)),
                "rightToLeft": Self.enumeration(FlowFrequency.allCases.map(\.rawValue)),
            ]))
        // Every operator but is-empty and is-not-empty needs a value (`value`, `values` or both).
        let valueless = [ConditionOperator.isEmpty, .isNotEmpty].map(\.rawValue)
        let condition = Self.with(
            Self.object(
                [
                    "side": side, "field": name, "operator": Self.enumeration(ConditionOperator.allCases.map(\.rawValue)),
                    "value": names, "values": names,
                ], required: ["field", "operator"]),
            "anyOf",
            .array([
                .object(["properties": .object(["operator": Self.enumeration(valueless)])]),
                .object(["required": .array([.string("value")]), "properties": .object(["value": someNames])]),
                .object(["required": .array([.string("values")]), "properties": .object(["values": someNames])]),
            ]))
        // A route is static (`targetProject`) or conditional (`field` with at least one of `targets`), never both.
        let route = Self.with(
            Self.object(
                [
                    "from": side, "sourceProjects": names, "targetProject": name, "field": name,
                    "targets": map(names),
                ],
                required: ["from", "sourceProjects"]),
            "oneOf",
            .array([
                .object([
                    "required": .array([.string("targetProject")]), "not": .object(["required": .array([.string("field")])]),
                    "properties": .object(["targets": .object(["maxProperties": .int(0)])]),
                ]),
                .object([
                    "required": .array([.string("field"), .string("targets")]),
                    "not": .object(["required": .array([.string("targetProject")])]),
                    "properties": .object(["targets": .object(["minProperties": .int(1)])]),
                ]),
            ]))
        let schedule: JSONNode = .object([
            "oneOf": .array([Self.object(["interval": duration], required: ["interval"]), Self.object(["cron": name], required: ["cron"])])
        ])
        let sideSchedule = Self.object(["changeDetection": schedule, "fullScan": schedule, "fullScanEnabled": Self.boolean])
        let directions = Self.enumeration(FlowDirection.allCases.map(\.rawValue))
        let policies = Self.enumeration(ConflictPolicyKind.allCases.map(\.rawValue))
        let integration = Self.object(
            [
                "name": name, "left": name, "right": name, "running": Self.boolean,
                "creation": Self.enumeration(CreationFlowConfig.allCases.map(\.rawValue)), "fieldFlows": flows,
                "conditionalFieldFlows": Self.array(
                    Self.object(["when": Self.array(condition, minItems: 1), "fieldFlows": flows], required: ["when", "fieldFlows"])),
                "routes": Self.array(route),
                "filters": Self.object(["scope": Self.enumeration(FilterScope.allCases.map(\.rawValue)), "conditions": Self.array(condition)]),
                "comments": directions,
                "attachments": Self.object(["direction": directions, "maxSizeBytes": Self.integer(1...Int.max), "excludeTypes": names]),
                "conflicts": Self.object(["default": policies, "fields": map(policies)]),
                "schedule": Self.object([
                    "changeDetection": schedule, "fullScan": schedule, "fullScanEnabled": Self.boolean, "left": sideSchedule, "right": sideSchedule,
                ]),
                "maxConcurrency": Self.integer(1...1000),
            ], required: ["name", "left", "right"],
            description: "An integration between two collections. Without `running`, a replacement keeps the current state.")
        let roles = Self.enumeration(Role.allCases.map(\.rawValue))
        let user = Self.object(
            [
                "username": Self.string(), "displayName": Self.string(min: 0), "email": Self.string(min: 0), "roles": Self.array(roles),
                "disabled": Self.boolean,
                "locked": Self.boolean, "hasPassword": Self.boolean, "createdAt": Self.dateTime, "updatedAt": Self.dateTime,
                "passwordChangedAt": Self.dateTime,
            ], required: ["username", "roles", "disabled", "locked", "hasPassword", "createdAt", "updatedAt"])
        let tokenProperties: KeyValuePairs<String, JSONNode> = [
            "id": Self.integer(1...Int.max), "user": Self.string(), "name": Self.string(), "prefix": Self.string(), "active": Self.boolean,
            "createdAt": Self.dateTime, "lastUsedAt": Self.dateTime, "revokedAt": Self.dateTime, "expiresAt": Self.dateTime,
        ]
        let token = Self.object(tokenProperties, required: ["id", "user", "name", "prefix", "active", "createdAt"])
        var createdToken = token
        if case .object(var members) = createdToken, let index = members.firstIndex(where: { $0.key == "properties" }),
            case .object(var properties) = members[index].value, let required = members.firstIndex(where: { $0.key == "required" }),
            case .array(let names) = members[required].value
        {
            properties.append(.init("token", Self.string()))
            members[index].value = .object(properties)
            members[required].value = .array(names + [.string("token")])
            createdToken = .object(members)
        }
        let capabilities = Self.array(Self.enumeration(Capability.allCases.map(\.rawValue)))
        let levels = Self.enumeration(LoggingSettings.levels)
        let logging = Self.object(
            [
                "level": levels, "effectiveLevel": levels,
                "troubleshooting": Self.object(
                    ["level": Self.enumeration(LoggingSettings.troubleshootingLevels), "until": Self.dateTime], required: ["level", "until"]),
            ], required: ["level", "effectiveLevel"])
        let security = Self.object([
            "maxFailedLogins": Self.integer(AuthPolicy.ranges["maxFailedLogins"] ?? 1...100),
            "lockoutSeconds": Self.integer(AuthPolicy.ranges["lockoutSeconds"] ?? 60...86400),
            "sessionSeconds": Self.integer(AuthPolicy.ranges["sessionSeconds"] ?? 300...2_592_000),
        ])
        let syncSettings: KeyValuePairs<String, JSONNode> = [
            "changeDetectionInterval": duration, "fullScanInterval": duration, "fullScanEnabled": Self.boolean,
            "maxConcurrencyPerIntegration": Self.integer(1...1000), "eventRateLimit": rateLimit, "logging": logging, "security": security,
        ]
        let settings = Self.object(
            syncSettings,
            required: [
                "changeDetectionInterval", "fullScanInterval", "fullScanEnabled", "maxConcurrencyPerIntegration", "eventRateLimit", "logging",
                "security",
            ])
        let settingsChanges = Self.object(
            [
                "changeDetectionInterval": duration, "fullScanInterval": duration, "fullScanEnabled": Self.boolean,
                "maxConcurrencyPerIntegration": Self.integer(1...1000), "eventRateLimit": rateLimit, "security": security,
            ], description: "Members to change; the others keep their values.")
        var loggingChanges = Self.object([
            "level": levels,
            "troubleshooting": Self.object(
                ["level": Self.enumeration(LoggingSettings.troubleshootingLevels), "minutes": Self.integer(0...1440)], required: ["minutes"]),
        ])
        if case .object(var members) = loggingChanges {
            members.append(.init("minProperties", .int(1)))
            loggingChanges = .object(members)
        }
        // At least 3 different characters (PasswordHasher.weakness): one, later another, later a third.
        let password = Self.string(
            min: PasswordHasher.minimumPasswordLength, max: 1024,
            pattern: "^[^\\x00]*?([^\\x00])[^\\x00]*?(?!\\1)([^\\x00])[^\\x00]*?(?!\\1)(?!\\2)[^\\x00][^\\x00]*$")
        return [
            .init(
                "Error",
                Self.object(
                    [
                        "error": Self.object(
                            [
                                "status": Self.integer(400...599), "code": Self.string(), "field": Self.string(min: 0),
                                "message": Self.string(min: 0),
                                "details": Self.array(.object(["type": .string("object")])),
                            ], required: ["status", "code", "message"])
                    ], required: ["error"])),
            .init(
                "Login",
                Self.object(
                    ["username": Self.string(min: 0, max: 200), "password": Self.string(min: 0, max: 4096)], required: ["username", "password"])),
            .init(
                "Session",
                Self.object(
                    ["user": Self.ref("User"), "csrfToken": Self.string(), "expiresAt": Self.dateTime, "capabilities": capabilities],
                    required: ["user", "csrfToken", "expiresAt", "capabilities"])),
            .init(
                "Me",
                Self.object(
                    [
                        "user": Self.ref("User"), "capabilities": capabilities, "authentication": Self.enumeration(["session", "token"]),
                        "csrfToken": Self.string(),
                        "tokenId": Self.integer(1...Int.max),
                    ], required: ["user", "capabilities", "authentication"])),
            .init(
                "Roles",
                Self.object(
                    [
                        "roles": Self.array(roles),
                        "capabilities": Self.array(
                            Self.object(
                                ["name": Self.enumeration(Capability.allCases.map(\.rawValue)), "roles": Self.array(roles)],
                                required: ["name", "roles"])),
                    ], required: ["roles", "capabilities"])),
            .init(
                "OwnPassword",
                Self.object(
                    ["currentPassword": Self.string(min: 0, max: 4096), "newPassword": password], required: ["currentPassword", "newPassword"])),
            .init("User", user),
            .init(
                "NewUser",
                Self.object(
                    [
                        "username": Self.string(max: 64, pattern: "^[A-Za-z0-9._@-]+$"), "password": password,
                        "roles": Self.array(roles, minItems: 1),
                        "displayName": Self.string(min: 0, max: 200), "email": Self.string(min: 0, max: 320),
                    ], required: ["username", "roles"])),
            .init(
                "UserChanges",
                Self.object([
                    "roles": Self.array(roles, minItems: 1),
                    "displayName": .object([
                        "type": .array([.string("string"), .string("null")]), "maxLength": .int(200), "pattern": .string(Self.noNUL),
                    ]),
                    "email": .object([
                        "type": .array([.string("string"), .string("null")]), "maxLength": .int(320), "pattern": .string(Self.noNUL),
                    ]), "disabled": Self.boolean,
                    "unlock": Self.boolean,
                ])),
            .init("NewPassword", Self.object(["password": password], required: ["password"])),
            .init("Token", token),
            .init("CreatedToken", createdToken),
            .init(
                "NewToken",
                Self.object(
                    ["name": Self.string(max: 100, pattern: "\\S"), "expiresInDays": Self.integer(1...3650)], required: ["name"],
                    description: "A label, and optionally a lifetime after which the token stops working.")),
            .init("Repository", repository), .init("NewRepository", newRepository),
            .init("RepositoryUpdate", Self.withoutRequired(repository, "name")),
            .init("Model", model), .init("ModelUpdate", Self.withoutRequired(model, "name")),
            .init("Collection", collection), .init("CollectionUpdate", Self.withoutRequired(collection, "name")),
            .init("Integration", integration), .init("IntegrationUpdate", Self.withoutRequired(integration, "name")),
            .init(
                "InitiateSynchronization",
                Self.object(
                    [
                        "side": Self.enumeration(["left", "right"]),
                        "projects": .object([
                            "type": .string("array"), "maxItems": .int(1000), "items": Self.string(max: 200, pattern: "\\S"),
                        ]),
                    ])),
            .init(
                "IntegrationRequest",
                Self.object(
                    [
                        "id": Self.integer(1...Int.max), "kind": Self.enumeration(["process-all", "initiate-synchronization"]),
                        "integration": Self.string(),
                        "side": Self.enumeration(["left", "right"]), "projects": Self.array(Self.string()), "status": Self.enumeration(["accepted"]),
                    ], required: ["id", "kind", "integration", "projects", "status"])),
            .init("ConnectionTestRequest", Self.object(["project": Self.string(max: 200)])),
            .init(
                "ConnectionTest",
                Self.object(
                    [
                        "outcome": Self.connectionOutcome, "success": Self.boolean, "reachable": Self.boolean, "authenticated": Self.boolean,
                        "projectFound": Self.boolean, "httpStatus": Self.integer(100...599), "message": Self.string(),
                    ], required: ["outcome", "success", "reachable", "authenticated", "message"],
                    description:
                        "A classified outcome in Tandem's words, with the HTTP status at most: never the remote host's answer (its body, headers or user)."
                )),
            .init("Settings", settings), .init("SettingsChanges", settingsChanges),
            .init("Logging", logging), .init("LoggingChanges", loggingChanges),
            .init(
                "AuditEntry",
                Self.object(
                    [
                        "id": Self.integer(1...Int.max), "actor": Self.string(min: 0), "action": Self.string(), "entity": Self.string(),
                        "name": Self.string(min: 0),
                        "changes": .object(["type": .string("object")]), "at": Self.dateTime,
                    ], required: ["id", "actor", "action", "entity", "changes", "at"])),
            .init(
                "AuditPage",
                Self.object(["items": Self.array(Self.ref("AuditEntry")), "next": Self.integer(1...Int.max)], required: ["items"])),
            .init(
                "AuditRevert",
                Self.object(
                    [
                        "entity": Self.enumeration(ConfigJSON.Section.allCases.map(\.entity)), "name": Self.string(), "message": Self.string(),
                        "stored": .object(["type": .string("object")]),
                    ], required: ["entity", "name", "message", "stored"],
                    description: "What was undone, and the entity as now stored (secrets as `{\"set\": true}`).")),
        ]
    }
}
