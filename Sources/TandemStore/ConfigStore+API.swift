import Foundation
import Postgres
public import TandemConfig
public import TandemCore

/// One entity at a time, for the REST API: the same validation as `tandem apply` (ConfigValidator over the whole
/// resulting configuration, the core's rules included), the same writes and audit rows, under the same lock.
extension ConfigStore {
    /// The stored configuration's entities of `section`, rendered for the API (secrets never included).
    public func list(_ section: ConfigJSON.Section) async throws -> [JSONNode] {
        let c = try await self.export()
        return Self.entities(section, of: c).map { $0.json }
    }

    /// One stored entity, rendered, or nil.
    public func get(_ section: ConfigJSON.Section, name: String) async throws -> JSONNode? {
        Self.entities(section, of: try await self.export()).first { $0.name == name }?.json
    }

    /// Creates (`create`) or replaces the entity `name` from an API body. Problems in the body come back as `AdminError`s
    /// naming the body's field (422); problems the change would cause elsewhere (a collection that would lose its model's
    /// field) as conflicts naming what would break (409). Returns the stored entity.
    public func put(_ section: ConfigJSON.Section, name: String?, body: JSONNode, create: Bool, actor: String) async throws -> JSONNode {
        guard case .object(var members) = body else {
            throw AdminError(.invalid, field: "", "expected a JSON object, found \(body.typeDescription)")
        }
        if let name {
            switch body["name"] {
            case nil: members.insert(.init("name", .string(name)), at: 0)
            case .string(let given)? where given == name: break
            case .string?: throw AdminError(.invalid, field: "name", "does not match the name in the path ('\(name)'); renaming is not supported")
            default: break  // the parser names the wrong type
            }
        }
        let document = JSONNode.object(members)
        let stored = try await self.mutate(section, actor: actor, action: nil) { current in
            var c = current
            var environment: [String: String] = [:]
            let entityName: String
            let index: Int
            func place<T>(_ list: inout [T], _ item: T, _ named: (T) -> String) throws -> Int {
                let existing = list.firstIndex { named($0) == named(item) }
                if create, existing != nil {
                    throw AdminError(.conflict, field: "name", "a \(section.entity) named '\(named(item))' already exists")
                }
                guard let existing else {
                    if !create { throw AdminError(.notFound, "no \(section.entity) named '\(named(item))'") }
                    list.append(item)
                    return list.count - 1
                }
                list[existing] = item
                return existing
            }
            do {
                switch section {
                case .repositories:
                    let named = (body["name"]).flatMap { if case .string(let s) = $0 { return s } else { return nil } } ?? name
                    let (repository, secrets) = try ConfigJSON.repository(document, stored: c.repositories.first { $0.name == named })
                    environment = secrets
                    entityName = repository.name
                    index = try place(&c.repositories, repository, \.name)
                case .models:
                    let model = try ConfigJSON.model(document)
                    entityName = model.name
                    index = try place(&c.models, model, \.name)
                case .collections:
                    let collection = try ConfigJSON.collection(document)
                    entityName = collection.name
                    index = try place(&c.collections, collection, \.name)
                case .integrations:
                    var integration = try ConfigJSON.integration(document)
                    // `running` is changed by run and stop; a body without it keeps the stored state.
                    if document["running"] == nil {
                        integration.running = c.integrations.first { $0.name == integration.name }?.running ?? false
                    }
                    entityName = integration.name
                    index = try place(&c.integrations, integration, \.name)
                }
            } catch let error as ConfigError {
                throw Self.adminError(error.issues, prefix: "")
            }
            try Self.validate(c, against: current, section: section, index: index)
            return (c, environment, entityName)
        }
        return stored
    }

    /// Deletes an entity; refused (409) while anything refers to it, or while an integration runs.
    public func delete(_ section: ConfigJSON.Section, name: String, actor: String) async throws {
        _ = try await self.mutate(section, actor: actor, action: nil, prune: true) { current in
            var c = current
            let found: Bool
            switch section {
            case .repositories:
                found = c.repositories.contains { $0.name == name }
                c.repositories.removeAll { $0.name == name }
            case .models:
                found = c.models.contains { $0.name == name }
                c.models.removeAll { $0.name == name }
            case .collections:
                found = c.collections.contains { $0.name == name }
                c.collections.removeAll { $0.name == name }
            case .integrations:
                found = c.integrations.contains { $0.name == name }
                if c.integrations.contains(where: { $0.name == name && $0.running }) {
                    throw AdminError(.conflict, "integration '\(name)' is running: stop it first (deleting it deletes its artifact pairs)")
                }
                c.integrations.removeAll { $0.name == name }
            }
            if !found { throw AdminError(.notFound, "no \(section.entity) named '\(name)'") }
            try Self.validate(c, against: current, section: section, index: nil)
            return (c, [:], name)
        }
    }

    /// Starts or stops an integration (its `running` flag), with an audit row `run` or `stop`.
    @discardableResult
    public func setRunning(_ name: String, running: Bool, actor: String) async throws -> JSONNode {
        try await self.mutate(.integrations, actor: actor, action: running ? "run" : "stop") { current in
            var c = current
            guard let index = c.integrations.firstIndex(where: { $0.name == name }) else {
                throw AdminError(.notFound, "no integration named '\(name)'")
            }
            c.integrations[index].running = running
            return (c, [:], name)
        }
    }

    /// The global settings.
    public func settings() async throws -> Settings { try await self.export().settings }

    /// Changes global settings from an API body (members left out keep their values).
    public func updateSettings(_ body: JSONNode, actor: String) async throws -> Settings {
        try await self.client.withTransaction { connection in
            try await Self.lock(connection)
            // Decrypted, so that repositories' stored secrets are kept as they are (apply resolves every repository's).
            try await self.checkKey(connection)
            let current = try await self.load(connection)
            var c = current.configuration
            do {
                c.settings = try ConfigJSON.settings(body, current: c.settings)
            } catch let error as ConfigError {
                throw Self.adminError(error.issues, prefix: "")
            }
            try Self.validate(c, against: current.configuration, section: nil, index: nil)
            // Repositories are not in scope: no secret is needed or touched.
            _ = try await self.write(
                c, current: current, file: nil, environment: [:], dryRun: false, prune: false, actor: actor, scope: ("settings", "global"),
                connection: connection)
            return c.settings
        }
    }

    // MARK: - Internals

    /// Loads the configuration under the lock, lets `edit` change it, writes only the edited entity, and returns that
    /// entity as stored.
    func mutate(
        _ section: ConfigJSON.Section, actor: String, action: String?, prune: Bool = false,
        _ edit: @Sendable (TandemConfiguration) throws -> (TandemConfiguration, environment: [String: String], name: String)
    ) async throws -> JSONNode {
        try await self.client.withTransaction { connection in
            try await Self.lock(connection)
            try await self.checkKey(connection)
            let current = try await self.load(connection)
            let (changed, environment, name) = try edit(current.configuration)
            do {
                _ = try await self.write(
                    changed, current: current, file: nil, environment: environment, dryRun: false, prune: prune, actor: actor,
                    scope: (section.entity, name), auditAction: action, secretSource: .request, connection: connection)
            } catch let error as ConfigError {
                // Refusals of the edited entity (a secret it needs again) name its member; others are conflicts.
                let index = Self.entities(section, of: changed).firstIndex { $0.name == name }
                throw Self.adminError(error.issues, prefix: index.map { "\(section.rawValue)[\($0)]" })
            }
            return Self.entities(section, of: changed).first { $0.name == name }?.json ?? .null
        }
    }

    static func entities(_ section: ConfigJSON.Section, of c: TandemConfiguration) -> [(name: String, json: JSONNode)] {
        switch section {
        case .repositories: c.repositories.map { ($0.name, ConfigJSON.json($0)) }
        case .models: c.models.map { ($0.name, ConfigJSON.json($0)) }
        case .collections: c.collections.map { ($0.name, ConfigJSON.json($0)) }
        case .integrations: c.integrations.map { ($0.name, ConfigJSON.json($0)) }
        }
    }

    /// New problems in `changed` (not already in `current`): those inside the edited entity name its field (422), the
    /// others what the change would break (409).
    static func validate(_ changed: TandemConfiguration, against current: TandemConfiguration, section: ConfigJSON.Section?, index: Int?) throws {
        let before = Set(ConfigValidator.validate(current).map { "\($0.path)\u{0}\($0.reason)" })
        let issues = ConfigValidator.validate(changed).filter { !before.contains("\($0.path)\u{0}\($0.reason)") }
        if issues.isEmpty { return }
        if let section, let index { throw Self.adminError(issues, prefix: "\(section.rawValue)[\(index)]") }
        throw Self.adminError(issues, prefix: section == nil && index == nil ? "settings" : nil)
    }

    /// Issues as one error: those under `prefix` (the edited entity's path in the whole configuration; "" for issues
    /// of the body itself) name the body's field (422); the others are conflicts (409). No prefix: all are conflicts.
    static func adminError(_ issues: [ConfigIssue], prefix: String?) -> AdminError {
        func local(_ path: String) -> String? {
            guard let prefix else { return nil }
            if prefix.isEmpty { return path }
            if path == prefix { return "" }
            if path.hasPrefix(prefix + ".") { return String(path.dropFirst(prefix.count + 1)) }
            return nil
        }
        let ordered = issues.sorted { (local($0.path) == nil ? 1 : 0) < (local($1.path) == nil ? 1 : 0) }
        guard let first = ordered.first else { return AdminError(.invalid, "the change is not valid") }
        var message = first.reason
        if ordered.count > 1 {
            message +=
                " (and \(ordered.count - 1) more: "
                + ordered.dropFirst().prefix(5).map { (local($0.path).map { $0.isEmpty ? "" : "\($0): " } ?? "\($0.path): ") + $0.reason }
                .joined(separator: "; ") + ")"
        }
        if let field = local(first.path) { return AdminError(.invalid, field: field, message) }
        // A value the database would not store is the request's own fault, whatever entity it was written as.
        if first.kind == .notStored { return AdminError(.invalid, field: nil, message) }
        return AdminError(.conflict, field: nil, "the change would break \(first.path): \(message)")
    }
}
