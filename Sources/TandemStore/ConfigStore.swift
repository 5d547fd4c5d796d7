public import Foundation
public import Logging
public import Postgres
public import TandemConfig
import TandemConnectors
public import TandemCore

/// What `apply` did, or would do with `--dry-run`.
public struct ApplyPlan: Sendable, CustomStringConvertible {
    public enum Action: String, Sendable { case create, update, unchanged, delete }
    public struct Change: Sendable, Hashable {
        public var action: Action
        public var entity: String
        public var name: String
        /// The top-level properties that differ, for updates (secrets are named, never shown).
        public var details: [String]
        /// The changed top-level properties before and after, as the API shows them (secrets as `{"set": true}`).
        public var before: JSONNode?
        public var after: JSONNode?
        public init(action: Action, entity: String, name: String, details: [String], before: JSONNode? = nil, after: JSONNode? = nil) {
            self.action = action
            self.entity = entity
            self.name = name
            self.details = details
            self.before = before
            self.after = after
        }
    }
    public var changes: [Change] = []

    public var hasChanges: Bool { self.changes.contains { $0.action != .unchanged } }

    public var description: String {
        let lines = self.changes.map { change in
            let symbol = ["create": "+", "update": "~", "unchanged": "=", "delete": "-"][change.action.rawValue] ?? "?"
            let detail = change.details.isEmpty ? "" : " (\(change.details.joined(separator: ", ")))"
            return "\(symbol) \(change.entity) \(change.name)\(detail)"
        }
        let counts = [ApplyPlan.Action.create, .update, .delete, .unchanged].map { action in
            "\(self.changes.filter { $0.action == action }.count) to \(action.rawValue)"
        }
        return (lines + [counts.joined(separator: ", ").replacingOccurrences(of: "to unchanged", with: "unchanged")])
            .joined(separator: "\n")
    }
}

/// Reads and writes the configuration in PostgreSQL. Credentials are sealed with the master key; the file only
/// carries `${ENV}` references, resolved from `environment` when applied.
public struct ConfigStore: Sendable {
    public let client: PostgresClient
    public let box: SecretBox
    public let logger: Logger

    public init(client: PostgresClient, box: SecretBox, logger: Logger) {
        self.client = client
        self.box = box
        self.logger = logger
    }

    // MARK: - Apply

    /// Validates `configuration` (including that every secret reference resolves), then, unless `dryRun`, stores it in
    /// one transaction. Entities are matched by name; with `prune`, entities absent from the file are deleted.
    /// Nothing is written when anything is wrong.
    ///
    /// `locations` (from `ConfigParser.parseLocated`) gives the problems found here — a secret that is not set, a value
    /// the database refuses — their line in the file.
    public func apply(
        _ configuration: TandemConfiguration, file: String? = nil, locations: ConfigLocations? = nil, environment: [String: String],
        dryRun: Bool = false, prune: Bool = false, actor: String = "cli"
    ) async throws -> ApplyPlan {
        do {
            let issues = ConfigValidator.validate(configuration, file: file)
            if !issues.isEmpty { throw ConfigError(issues: issues) }
            return try await self.client.withTransaction { connection in
                try await Self.lock(connection)
                try await self.checkKey(connection)
                let current = try await self.load(connection)
                let plan = try await self.write(
                    configuration, current: current, file: file, environment: environment, dryRun: dryRun, prune: prune, actor: actor,
                    connection: connection)
                if dryRun || !plan.hasChanges {
                    try await connection.query("ROLLBACK")
                    try await connection.query("BEGIN")
                }
                return plan
            }
        } catch let error as ConfigError {
            guard let locations else { throw error }
            throw ConfigError(issues: error.issues.map(locations.locate))
        }
    }

    /// Configuration changes are serialized across processes (API requests and `tandem apply`): each loads, checks
    /// and writes under this transaction-scoped advisory lock.
    static func lock(_ connection: PostgresConnection) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(\(Self.advisoryLockKey))")
    }
    static let advisoryLockKey: Int64 = 0x7461_6E64_636F_6E66  // "tandconf"

    /// Plans `configuration` against `current` and, unless `dryRun`, writes it with its audit rows. With `scope`, only
    /// that entity's change is written (the API changes one entity at a time); `auditAction` renames the audit action.
    func write(
        _ configuration: TandemConfiguration, current: Loaded, file: String?, environment: [String: String], dryRun: Bool, prune: Bool,
        actor: String, scope: (entity: String, name: String)? = nil, auditAction: String? = nil, secretSource: SecretSource = .environment,
        connection: PostgresConnection
    ) async throws -> ApplyPlan {
        let secrets = try self.resolveSecrets(configuration, current: current, file: file, environment: environment, source: secretSource)
        var plan = self.plan(configuration, current: current, secrets: secrets, prune: prune)
        if let scope { plan.changes = plan.changes.filter { $0.entity == scope.entity && $0.name == scope.name } }
        if dryRun || !plan.hasChanges { return plan }
        do {
            try await self.write(configuration, plan: plan, secrets: secrets, connection: connection)
            if prune {
                for change in plan.changes.reversed() where change.action == .delete {
                    let table = ["integration": "integrations", "collection": "collections", "model": "models", "repository": "repositories"][
                        change.entity]!
                    try await self.storing("", "the deletion of \(change.entity) '\(change.name)'") {
                        try await connection.query("DELETE FROM \(unescaped: table) WHERE name = \(change.name)")
                    }
                }
            }
            for change in plan.changes where change.action != .unchanged {
                var summary: [JSONNode.Member] = [.init("properties", .array(change.details.map(JSONNode.string)))]
                if let before = change.before { summary.append(.init("before", before)) }
                if let after = change.after { summary.append(.init("after", after)) }
                let action = change.action == .update ? (auditAction ?? change.action.rawValue) : change.action.rawValue
                try await self.storing("", "the audit log's record of \(change.entity) '\(change.name)'") {
                    try await AuditLog.record(
                        connection, actor: actor, action: action, entity: change.entity, name: change.name, changes: .object(summary))
                }
            }
        } catch let refusal as StoreRefusal {
            // The API writes one entity, named by its body: the issue is the body's, not a path in a file.
            throw ConfigError(issues: [ConfigIssue(.notStored, path: scope == nil ? refusal.path : "", reason: refusal.reason, file: file)])
        }
        self.logger.info("Configuration applied", metadata: ["config.changes": "\(plan.changes.filter { $0.action != .unchanged }.count)"])
        return plan
    }

    /// A database error while writing the configuration, after validation accepted it: a limit validation does not
    /// know. Its text (SQL, constraint names, values) goes to the log at debug level, never to the user.
    struct StoreRefusal: Error {
        var path: String
        var reason: String
    }

    /// Runs one entity's write; a database error becomes a `StoreRefusal` naming the entity and what kind of value the
    /// database refused (the transaction is rolled back: nothing is changed). Lost connections stay what they are.
    func storing<T>(_ path: String, _ what: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PostgresError where error.kind != .connection && error.kind != .poolClosed {
            self.logger.debug(
                "The database refused a configuration write",
                metadata: [
                    "config.path": "\(path)", "db.sqlstate": "\(error.sqlState ?? "")", "tandem.error": "\(String(reflecting: error))",
                    "db.detail": "\(error.detail ?? "")",
                ])
            let why: String
            switch error.sqlState ?? "" {
            case _ where error.kind == .encoding: why = "a value holds a character the database cannot store"
            case "54000", "22001": why = "a value is too long"
            case "22003", "22008", "22015": why = "a number or duration is out of range"
            case let state where state.hasPrefix("22"): why = "a value is malformed"
            case let state where state.hasPrefix("23"): why = "it conflicts with what is stored"
            default: why = "the database refused it"
            }
            throw StoreRefusal(
                path: path,
                reason:
                    "\(what) could not be stored (\(why)); nothing was changed. The database's message is in the log at debug level (--log-level debug)"
            )
        }
    }

    /// The resolved secret values per repository name: `auth` and `proxy` → plaintext.
    typealias Secrets = [String: [String: String]]

    /// Where the secrets of a change come from: a file's environment variables (`tandem apply`), or the API request
    /// itself (the API, the web UI), which names them in its refusals.
    enum SecretSource: Sendable { case environment, request }

    func resolveSecrets(
        _ c: TandemConfiguration, current: Loaded, file: String?, environment: [String: String], source: SecretSource = .environment
    ) throws -> Secrets {
        var issues: [ConfigIssue] = []
        var result: Secrets = [:]
        for (index, repo) in c.repositories.enumerated() {
            var values: [String: String] = [:]
            let stored = current.secrets[repo.name] ?? [:]
            let storedRepo = current.configuration.repositories.first { $0.name == repo.name }
            for (slot, reference, path) in [
                ("auth", repo.auth.secrets.first, "repositories[\(index)].auth.\(repo.auth.secretKey)"),
                ("proxy", repo.proxy?.password, "repositories[\(index)].proxy.password"),
            ] {
                guard let reference else { continue }
                if !reference.isReadableFromEnvironment {
                    // Never read from the environment. A reference stored before the rule, unchanged, keeps its secret.
                    if let old = stored[slot], Self.reference(slot, of: storedRepo) == reference {
                        values[slot] = old
                    } else {
                        issues.append(
                            ConfigIssue(
                                .forbiddenVariable, path: path,
                                reason:
                                    "${\(reference.variable)}: a secret may only name an environment variable starting with \(SecretReference.environmentPrefix) (the applying process's other variables, such as its database URL, are not for configurations); rename the variable",
                                file: file))
                    }
                    continue
                }
                if let value = environment[reference.variable], !value.isEmpty {
                    values[slot] = value
                } else if let old = stored[slot], let storedRepo, Self.reference(slot, of: storedRepo) == reference {
                    // Unchanged reference, not set here: the stored secret is kept — while it still goes where it was
                    // entered for (DESIGN §6.9; issue 14).
                    if let moved = SecretDestination.change(slot, from: storedRepo, to: repo) {
                        let what = path.split(separator: ".").last.map(String.init) ?? "secret"
                        let reason =
                            source == .request
                            ? "the stored \(what) is not kept because \(moved): give the \(what) again in this change (a stored secret is only sent where it was entered)"
                            : "environment variable \(reference.variable) is not set, and the stored secret is not kept because \(moved): set the variable to give it again (a stored secret is only sent where it was entered)"
                        issues.append(ConfigIssue(.missingSecret, path: path, reason: reason, file: file))
                    } else {
                        values[slot] = old
                    }
                } else {
                    issues.append(
                        ConfigIssue(
                            .missingSecret, path: path,
                            reason: "environment variable \(reference.variable) is not set (it holds this secret; the file only names it)",
                            file: file))
                }
            }
            result[repo.name] = values
        }
        if !issues.isEmpty { throw ConfigError(issues: issues) }
        return result
    }

    static func reference(_ slot: String, of repo: RepositoryConfig?) -> SecretReference? {
        slot == "auth" ? repo?.auth.secrets.first : repo?.proxy?.password
    }

    private func plan(_ c: TandemConfiguration, current: Loaded, secrets: Secrets, prune: Bool) -> ApplyPlan {
        var plan = ApplyPlan()
        func compare<T: Hashable>(
            _ entity: String, _ items: [T], _ existing: [T], name: (T) -> String, render: (T) -> JSONNode, diff: (T, T) -> [String]
        ) {
            let byName = Dictionary(existing.map { (name($0), $0) }, uniquingKeysWith: { a, _ in a })
            for item in items {
                if let old = byName[name(item)] {
                    let details = diff(old, item)
                    let (before, after) = details.isEmpty ? (nil, nil) : Self.jsonDiff(render(old), render(item))
                    plan.changes.append(
                        .init(
                            action: details.isEmpty ? .unchanged : .update, entity: entity, name: name(item), details: details, before: before,
                            after: after))
                } else {
                    plan.changes.append(.init(action: .create, entity: entity, name: name(item), details: [], after: render(item)))
                }
            }
            if prune {
                let names = Set(items.map(name))
                for old in existing where !names.contains(name(old)) {
                    plan.changes.append(.init(action: .delete, entity: entity, name: name(old), details: [], before: render(old)))
                }
            }
        }
        let old = current.configuration
        // A file without `settings` leaves them as they are; with --prune, it resets them like any entity it leaves out.
        if c.hasSettings || prune, c.settings != old.settings {
            let (before, after) = Self.jsonDiff(ConfigJSON.json(old.settings), ConfigJSON.json(c.settings))
            plan.changes.append(
                .init(
                    action: .update, entity: "settings", name: "global", details: Self.mirrorDiff(old.settings, c.settings), before: before,
                    after: after))
        }
        compare("repository", c.repositories, old.repositories, name: \.name, render: ConfigJSON.json) { a, b in
            var details = Self.mirrorDiff(a, b)
            if (current.secrets[b.name] ?? [:]) != (secrets[b.name] ?? [:]) { details.append("credentials") }
            return details
        }
        compare("model", c.models, old.models, name: \.name, render: ConfigJSON.json) { Self.mirrorDiff($0, $1) }
        compare("collection", c.collections, old.collections, name: \.name, render: ConfigJSON.json) { Self.mirrorDiff($0, $1) }
        compare("integration", c.integrations, old.integrations, name: \.name, render: ConfigJSON.json) { Self.mirrorDiff($0, $1) }
        return plan
    }

    /// The top-level members that differ between two renderings: (before, after), each an object of those members only
    /// (a member absent on one side shows as null there).
    static func jsonDiff(_ a: JSONNode, _ b: JSONNode) -> (JSONNode, JSONNode) {
        let old = a.members ?? []
        let new = b.members ?? []
        var keys: [String] = []
        for key in old.map(\.key) + new.map(\.key) where !keys.contains(key) { keys.append(key) }
        var before: [JSONNode.Member] = []
        var after: [JSONNode.Member] = []
        for key in keys where a[key] != b[key] {
            before.append(.init(key, a[key] ?? .null))
            after.append(.init(key, b[key] ?? .null))
        }
        return (.object(before), .object(after))
    }

    /// The names of the top-level stored properties that differ.
    static func mirrorDiff<T>(_ a: T, _ b: T) -> [String] {
        zip(Mirror(reflecting: a).children, Mirror(reflecting: b).children).compactMap { x, y in
            if let a = x.value as? AnyHashable, let b = y.value as? AnyHashable { return a == b ? nil : x.label }
            return String(describing: x.value) == String(describing: y.value) ? nil : x.label
        }
    }

    // MARK: - Write

    private func write(_ c: TandemConfiguration, plan: ApplyPlan, secrets: Secrets, connection: PostgresConnection) async throws {
        func changed(_ entity: String, _ name: String) -> Bool {
            plan.changes.contains { $0.entity == entity && $0.name == name && ($0.action == .create || $0.action == .update) }
        }
        if changed("settings", "global") {
            try await self.storing("settings", "the settings") { try await Self.writeSettings(c.settings, connection: connection) }
        }
        for (index, repo) in c.repositories.enumerated() where changed("repository", repo.name) {
            try await self.storing("repositories[\(index)]", "repository '\(repo.name)'") {
                try await self.writeRepository(repo, secrets: secrets[repo.name] ?? [:], connection: connection)
            }
        }
        for (index, model) in c.models.enumerated() where changed("model", model.name) {
            try await self.storing("models[\(index)]", "model '\(model.name)'") { try await Self.writeModel(model, connection: connection) }
        }
        for (index, collection) in c.collections.enumerated() where changed("collection", collection.name) {
            try await self.storing("collections[\(index)]", "collection '\(collection.name)'") {
                try await Self.writeCollection(collection, connection: connection)
            }
        }
        for (index, integration) in c.integrations.enumerated() where changed("integration", integration.name) {
            try await self.storing("integrations[\(index)]", "integration '\(integration.name)'") {
                try await self.writeIntegration(integration, connection: connection)
            }
        }
    }

    private static func writeSettings(_ s: Settings, connection: PostgresConnection) async throws {
        let values: [(String, String)] = [
            ("changeDetectionInterval", "\(s.changeDetectionInterval.seconds)"), ("fullScanInterval", "\(s.fullScanInterval.seconds)"),
            ("fullScanEnabled", s.fullScanEnabled ? "true" : "false"), ("maxConcurrencyPerIntegration", "\(s.maxConcurrencyPerIntegration)"),
            ("eventRateLimit.eventsPerMinute", "\(s.eventRateLimit.eventsPerMinute)"),
            ("eventRateLimit.scope", "\"\(s.eventRateLimit.scope.rawValue)\""),
        ]
        for (key, value) in values {
            try await connection.query(
                """
                INSERT INTO settings (key, value) VALUES (\(key), \(PostgresJSON(raw: value)))
                ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
                """)
        }
    }

    private static func writeModel(_ model: ModelConfig, connection: PostgresConnection) async throws {
        let id = try await Self.upsertID(
            connection,
            "INSERT INTO models (name) VALUES (\(model.name)) ON CONFLICT (name) DO UPDATE SET updated_at = now() RETURNING id")
        try await connection.query("DELETE FROM model_fields WHERE model_id = \(id)")
        for (position, f) in model.fields.enumerated() {
            try await connection.query(
                """
                INSERT INTO model_fields (model_id, position, name, field_type, required, select_values, allow_unmapped)
                VALUES (\(id), \(position), \(f.name), \(f.type.rawValue), \(f.required), \(f.values), \(f.allowUnmapped))
                """)
        }
    }

    private static func writeCollection(_ col: CollectionConfig, connection: PostgresConnection) async throws {
        let id = try await Self.upsertID(
            connection,
            """
            INSERT INTO collections (name, repository_id, model_id, artifact_type, projects, status_field)
            VALUES (\(col.name), (SELECT id FROM repositories WHERE name = \(col.repository)),
                    (SELECT id FROM models WHERE name = \(col.model)), \(col.artifactType), \(col.projects), \(col.statusField))
            ON CONFLICT (name) DO UPDATE SET repository_id = EXCLUDED.repository_id, model_id = EXCLUDED.model_id,
                artifact_type = EXCLUDED.artifact_type, projects = EXCLUDED.projects, status_field = EXCLUDED.status_field,
                updated_at = now()
            RETURNING id
            """)
        try await connection.query("DELETE FROM collection_field_mappings WHERE collection_id = \(id)")
        try await connection.query("DELETE FROM collection_transitions WHERE collection_id = \(id)")
        for (position, m) in col.fields.enumerated() {
            try await connection.query(
                """
                INSERT INTO collection_field_mappings
                    (collection_id, position, repository_field, model_field, to_model, to_repository, default_value, constant_value,
                     repository_type)
                VALUES (\(id), \(position), \(m.field), \(m.modelField), \(m.toModel.rawValue), \(m.toRepository.rawValue),
                        \(m.defaultValue), \(m.constant), \(m.type?.rawValue))
                """)
            for (entryPosition, entry) in m.valueMap.enumerated() {
                try await connection.query(
                    """
                    INSERT INTO collection_value_maps (collection_id, mapping_position, position, repository_values, model_value)
                    VALUES (\(id), \(position), \(entryPosition), \(entry.repository), \(entry.model))
                    """)
            }
        }
        for (position, t) in col.transitions.enumerated() {
            try await connection.query(
                """
                INSERT INTO collection_transitions (collection_id, position, from_status, to_status, name)
                VALUES (\(id), \(position), \(t.from), \(t.to), \(t.name))
                """)
        }
    }

    private func writeRepository(_ repo: RepositoryConfig, secrets: [String: String], connection: PostgresConnection) async throws {
        var settings: [String: String] = [:]
        switch repo.auth {
        case .none: break
        case .basic(let user, let password):
            settings["username"] = user
            settings["secretRef"] = password.variable
        case .apiKey(let key, let header, let parameter):
            settings["secretRef"] = key.variable
            settings["header"] = header
            settings["parameter"] = parameter
        case .token(let token), .bearer(let token):
            settings["secretRef"] = token.variable
        }
        settings["proxyPasswordRef"] = repo.proxy?.password?.variable
        let context = "repository:\(repo.name)"
        let credentials = try secrets["auth"].map { try self.box.seal(json: ["secret": $0], context: context) }
        let proxyCredentials = try secrets["proxy"].map { try self.box.seal(json: ["password": $0], context: context + ":proxy") }
        try await connection.query(
            """
            INSERT INTO repositories (name, kind, url, auth_kind, auth_settings, credentials, enabled, allow_insecure,
                proxy_url, proxy_username, proxy_credentials, event_rate_limit, rate_limit_scope, concurrency_limit, options, debug_logging)
            VALUES (\(repo.name), \(repo.kind.rawValue), \(repo.url), \(repo.auth.kind), \(try PostgresJSON(settings)), \(credentials),
                \(repo.enabled), \(repo.allowInsecure), \(repo.proxy?.url), \(repo.proxy?.username), \(proxyCredentials),
                \(repo.eventRateLimit?.eventsPerMinute), \(repo.eventRateLimit?.scope.rawValue), \(repo.concurrencyLimit),
                \(try PostgresJSON(repo.options)), \(repo.debugLogging))
            ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, url = EXCLUDED.url, auth_kind = EXCLUDED.auth_kind,
                auth_settings = EXCLUDED.auth_settings, credentials = EXCLUDED.credentials, enabled = EXCLUDED.enabled,
                allow_insecure = EXCLUDED.allow_insecure, proxy_url = EXCLUDED.proxy_url, proxy_username = EXCLUDED.proxy_username,
                proxy_credentials = EXCLUDED.proxy_credentials, event_rate_limit = EXCLUDED.event_rate_limit,
                rate_limit_scope = EXCLUDED.rate_limit_scope, concurrency_limit = EXCLUDED.concurrency_limit,
                options = EXCLUDED.options, debug_logging = EXCLUDED.debug_logging, updated_at = now()
            """)
        // New credentials (or any change) end the repository's pause and try its connection again at once: its open
        // blockers are retried (the coordinator resumes it and queues its change detection).
        try await connection.query(
            """
            UPDATE activity SET status = 'retrying', retest_at = now(), resolved_at = NULL
            WHERE kind = 'blocker' AND status = 'open' AND artifact_id IS NULL
              AND repository_id = (SELECT id FROM repositories WHERE name = \(repo.name))
            """)
        if credentials != nil || proxyCredentials != nil {
            try await connection.query(
                "INSERT INTO key_fingerprint (key_id) VALUES (\(self.box.key.id)) ON CONFLICT (singleton) DO NOTHING")
        }
    }

    private func writeIntegration(_ i: IntegrationConfig, connection: PostgresConnection) async throws {
        let id = try await Self.upsertID(
            connection,
            """
            INSERT INTO integrations (name, left_collection_id, right_collection_id, running, creation_flow, filter_scope,
                comment_flow, attachment_flow, attachment_max_bytes, attachment_exclude, conflict_default, max_concurrency)
            VALUES (\(i.name), (SELECT id FROM collections WHERE name = \(i.left)), (SELECT id FROM collections WHERE name = \(i.right)),
                \(i.running), \(i.creation.rawValue), \(i.filterScope.rawValue), \(i.comments.rawValue), \(i.attachments.direction.rawValue),
                \(i.attachments.maxSizeBytes), \(i.attachments.excludeTypes), \(i.conflictDefault.rawValue), \(i.maxConcurrency))
            ON CONFLICT (name) DO UPDATE SET left_collection_id = EXCLUDED.left_collection_id,
                right_collection_id = EXCLUDED.right_collection_id, running = EXCLUDED.running, creation_flow = EXCLUDED.creation_flow,
                filter_scope = EXCLUDED.filter_scope, comment_flow = EXCLUDED.comment_flow, attachment_flow = EXCLUDED.attachment_flow,
                attachment_max_bytes = EXCLUDED.attachment_max_bytes, attachment_exclude = EXCLUDED.attachment_exclude,
                conflict_default = EXCLUDED.conflict_default, max_concurrency = EXCLUDED.max_concurrency, updated_at = now()
            RETURNING id
            """)
        for table in [
            "integration_field_flows", "integration_conditional_flows", "integration_routes", "integration_filters",
            "integration_conflict_policies", "integration_schedules",
        ] {
            try await connection.query("DELETE FROM \(unescaped: table) WHERE integration_id = \(id)")
        }
        for (field, flow) in i.fieldFlows.sorted(by: { $0.key < $1.key }) {
            try await connection.query(
                """
                INSERT INTO integration_field_flows (integration_id, model_field, left_to_right, right_to_left)
                VALUES (\(id), \(field), \(flow.leftToRight.rawValue), \(flow.rightToLeft.rawValue))
                """)
        }
        for (position, conditional) in i.conditionalFieldFlows.enumerated() {
            try await connection.query(
                """
                INSERT INTO integration_conditional_flows (integration_id, position, conditions, field_flows)
                VALUES (\(id), \(position), \(try PostgresJSON(conditional.when.map(ConditionRecord.init))),
                        \(try PostgresJSON(conditional.fieldFlows.mapValues(FlowRecord.init))))
                """)
        }
        for (position, route) in i.routes.enumerated() {
            try await connection.query(
                """
                INSERT INTO integration_routes (integration_id, position, from_side, source_projects, target_project, route_field, targets)
                VALUES (\(id), \(position), \(route.from.rawValue), \(route.sourceProjects), \(route.targetProject), \(route.field),
                        \(try PostgresJSON(route.targets)))
                """)
        }
        for (position, condition) in i.filters.enumerated() {
            try await connection.query(
                """
                INSERT INTO integration_filters (integration_id, position, side, model_field, operator, filter_values)
                VALUES (\(id), \(position), \(condition.side?.rawValue), \(condition.field), \(condition.op.rawValue), \(condition.values))
                """)
        }
        for (field, policy) in i.conflictFields.sorted(by: { $0.key < $1.key }) {
            try await connection.query(
                "INSERT INTO integration_conflict_policies (integration_id, model_field, policy) VALUES (\(id), \(field), \(policy.rawValue))")
        }
        for (scope, s) in [("integration", i.schedule), ("left", i.leftSchedule), ("right", i.rightSchedule)] where !s.isEmpty {
            func parts(_ schedule: ScheduleConfig?) -> (Int?, String?) {
                switch schedule {
                case .interval(let d)?: (d.seconds, nil)
                case .cron(let text)?: (nil, text)
                case nil: (nil, nil)
                }
            }
            let (changeInterval, changeCron) = parts(s.changeDetection)
            let (scanInterval, scanCron) = parts(s.fullScan)
            try await connection.query(
                """
                INSERT INTO integration_schedules (integration_id, scope, change_interval_s, change_cron, scan_interval_s, scan_cron, scan_enabled)
                VALUES (\(id), \(scope), \(changeInterval), \(changeCron), \(scanInterval), \(scanCron), \(s.fullScanEnabled))
                """)
        }
    }

    static func upsertID(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> Int64 {
        guard let row = try await connection.query(query).first else {
            throw PostgresError(kind: .server, message: "an upsert returned no row")
        }
        return try row.decode(Int64.self, at: 0)
    }

    // MARK: - Key

    /// Fails with a clear error when the database's credentials were sealed under another master key.
    func checkKey(_ connection: PostgresConnection) async throws {
        guard let row = try await connection.query("SELECT key_id FROM key_fingerprint").first else { return }
        let stored = try row.decode(String.self, at: 0)
        if stored != self.box.key.id {
            throw SecretError(
                .wrongKey,
                "this database's credentials are encrypted with master key \(stored), but the key given is \(self.box.key.id); set TANDEM_MASTER_KEY to the key used before (or rotate with `tandem keys rotate`)"
            )
        }
    }

    // MARK: - Load and export

    struct Loaded {
        var configuration: TandemConfiguration
        /// Decrypted secrets per repository name: `auth` / `proxy` → plaintext. Never leaves the store.
        var secrets: Secrets
    }

    /// The stored configuration, with secrets as their `${ENV}` references.
    public func export() async throws -> TandemConfiguration {
        try await self.client.withConnection { try await self.load($0, decrypt: false).configuration }
    }

    func load(_ connection: PostgresConnection, decrypt: Bool = true) async throws -> Loaded {
        var c = TandemConfiguration()
        var secrets: Secrets = [:]
        for row in try await connection.query("SELECT key, value::text FROM settings") {
            let (key, value) = try row.decode((String, String).self)
            let number = Int(value)
            switch key {
            case "changeDetectionInterval": if let number { c.settings.changeDetectionInterval = ConfigDuration(seconds: number) }
            case "fullScanInterval": if let number { c.settings.fullScanInterval = ConfigDuration(seconds: number) }
            case "fullScanEnabled": c.settings.fullScanEnabled = value == "true"
            case "maxConcurrencyPerIntegration": if let number { c.settings.maxConcurrencyPerIntegration = number }
            case "eventRateLimit.eventsPerMinute": if let number { c.settings.eventRateLimit.eventsPerMinute = number }
            case "eventRateLimit.scope":
                if let scope = RateLimitScope(rawValue: value.trimmingCharacters(in: CharacterSet(charactersIn: "\""))) {
                    c.settings.eventRateLimit.scope = scope
                }
            default: break
            }
        }
        for row in try await connection.query(
            """
            SELECT name, kind, url, auth_kind, auth_settings::text, credentials, enabled, allow_insecure, proxy_url, proxy_username,
                   proxy_credentials, event_rate_limit, rate_limit_scope, concurrency_limit, options::text, debug_logging
            FROM repositories ORDER BY id
            """)
        {
            let name = try row.decode(String.self, at: 0)
            // A tool this build does not connect to stays, with its collections: its connector fails naming the
            // repository (a blocker an admin sees) rather than the repository vanishing from the configuration.
            let storedKind = try row.decode(String.self, at: 1)
            let kind = RepositoryKind(rawValue: storedKind) ?? RepositoryKind(registered: storedKind)
            var repo = RepositoryConfig(name: name, kind: kind, url: try row.decode(String.self, at: 2))
            let settings = try JSONDecoder().decode([String: String].self, from: Data(try row.decode(String.self, at: 4).utf8))
            let ref = settings["secretRef"].map(SecretReference.init(variable:))
            switch try row.decode(String.self, at: 3) {
            case "basic": if let ref { repo.auth = .basic(username: settings["username"] ?? "", password: ref) }
            case "api-key": if let ref { repo.auth = .apiKey(key: ref, header: settings["header"], parameter: settings["parameter"]) }
            case "token": if let ref { repo.auth = .token(ref) }
            case "bearer": if let ref { repo.auth = .bearer(ref) }
            default: repo.auth = .none
            }
            repo.enabled = try row.decode(Bool.self, at: 6)
            repo.allowInsecure = try row.decode(Bool.self, at: 7)
            repo.debugLogging = try row.decode(Bool.self, at: 15)
            if let proxyURL = try row.decode(String?.self, at: 8) {
                repo.proxy = ProxyConfig(
                    url: proxyURL, username: try row.decode(String?.self, at: 9),
                    password: settings["proxyPasswordRef"].map(SecretReference.init(variable:)))
            }
            if let perMinute = try row.decode(Int?.self, at: 11) {
                repo.eventRateLimit = EventRateLimit(
                    eventsPerMinute: perMinute, scope: RateLimitScope(rawValue: try row.decode(String?.self, at: 12) ?? "") ?? .lowPriority)
            }
            repo.concurrencyLimit = try row.decode(Int?.self, at: 13)
            repo.options = try JSONDecoder().decode([String: String].self, from: Data(try row.decode(String.self, at: 14).utf8))
            if decrypt {
                var values: [String: String] = [:]
                let context = "repository:\(name)"
                if let sealed = try row.decode([UInt8]?.self, at: 5) { values["auth"] = try self.box.openJSON(sealed, context: context)["secret"] }
                if let sealed = try row.decode([UInt8]?.self, at: 10) {
                    values["proxy"] = try self.box.openJSON(sealed, context: context + ":proxy")["password"]
                }
                secrets[name] = values
            }
            c.repositories.append(repo)
        }
        var models: [Int64: Int] = [:]
        for row in try await connection.query("SELECT id, name FROM models ORDER BY id") {
            models[try row.decode(Int64.self, at: 0)] = c.models.count
            c.models.append(ModelConfig(name: try row.decode(String.self, at: 1)))
        }
        for row in try await connection.query(
            "SELECT model_id, name, field_type, required, select_values, allow_unmapped FROM model_fields ORDER BY model_id, position")
        {
            guard let index = models[try row.decode(Int64.self, at: 0)], let type = FieldType(rawValue: try row.decode(String.self, at: 2))
            else { continue }
            var field = ModelFieldConfig(name: try row.decode(String.self, at: 1), type: type)
            field.required = try row.decode(Bool.self, at: 3)
            field.values = try row.decode([String].self, at: 4)
            field.allowUnmapped = try row.decode(Bool.self, at: 5)
            c.models[index].fields.append(field)
        }
        var collections: [Int64: Int] = [:]
        for row in try await connection.query(
            """
            SELECT c.id, c.name, r.name, c.artifact_type, c.projects, m.name, c.status_field
            FROM collections c JOIN repositories r ON r.id = c.repository_id JOIN models m ON m.id = c.model_id ORDER BY c.id
            """)
        {
            collections[try row.decode(Int64.self, at: 0)] = c.collections.count
            var col = CollectionConfig(
                name: try row.decode(String.self, at: 1), repository: try row.decode(String.self, at: 2),
                artifactType: try row.decode(String.self, at: 3), projects: try row.decode([String].self, at: 4),
                model: try row.decode(String.self, at: 5))
            col.statusField = try row.decode(String?.self, at: 6)
            c.collections.append(col)
        }
        for row in try await connection.query(
            """
            SELECT collection_id, repository_field, model_field, to_model, to_repository, default_value, constant_value, repository_type
            FROM collection_field_mappings ORDER BY collection_id, position
            """)
        {
            guard let index = collections[try row.decode(Int64.self, at: 0)] else { continue }
            var m = FieldMappingConfig(field: try row.decode(String.self, at: 1), modelField: try row.decode(String.self, at: 2))
            m.toModel = TransformKind(rawValue: try row.decode(String.self, at: 3)) ?? .copy
            m.toRepository = TransformKind(rawValue: try row.decode(String.self, at: 4)) ?? .copy
            m.defaultValue = try row.decode(String?.self, at: 5)
            m.constant = try row.decode(String?.self, at: 6)
            m.type = (try row.decode(String?.self, at: 7)).flatMap(FieldType.init(rawValue:))
            c.collections[index].fields.append(m)
        }
        for row in try await connection.query(
            """
            SELECT collection_id, mapping_position, repository_values, model_value
            FROM collection_value_maps ORDER BY collection_id, mapping_position, position
            """)
        {
            guard let index = collections[try row.decode(Int64.self, at: 0)] else { continue }
            let mapping = try row.decode(Int.self, at: 1)
            guard mapping < c.collections[index].fields.count else { continue }
            c.collections[index].fields[mapping].valueMap.append(
                ValueMapEntry(repository: try row.decode([String].self, at: 2), model: try row.decode(String.self, at: 3)))
        }
        for row in try await connection.query(
            "SELECT collection_id, from_status, to_status, name FROM collection_transitions ORDER BY collection_id, position")
        {
            guard let index = collections[try row.decode(Int64.self, at: 0)] else { continue }
            c.collections[index].transitions.append(
                TransitionConfig(
                    from: try row.decode(String.self, at: 1), to: try row.decode(String.self, at: 2), name: try row.decode(String.self, at: 3)))
        }
        var integrations: [Int64: Int] = [:]
        for row in try await connection.query(
            """
            SELECT i.id, i.name, l.name, r.name, i.running, i.creation_flow, i.filter_scope, i.comment_flow, i.attachment_flow,
                   i.attachment_max_bytes, i.attachment_exclude, i.conflict_default, i.max_concurrency
            FROM integrations i JOIN collections l ON l.id = i.left_collection_id JOIN collections r ON r.id = i.right_collection_id
            ORDER BY i.id
            """)
        {
            integrations[try row.decode(Int64.self, at: 0)] = c.integrations.count
            var i = IntegrationConfig(
                name: try row.decode(String.self, at: 1), left: try row.decode(String.self, at: 2), right: try row.decode(String.self, at: 3))
            i.running = try row.decode(Bool.self, at: 4)
            i.creation = CreationFlowConfig(rawValue: try row.decode(String.self, at: 5)) ?? .twoWay
            i.filterScope = FilterScope(rawValue: try row.decode(String.self, at: 6)) ?? .creationAndUpdate
            i.comments = FlowDirection(rawValue: try row.decode(String.self, at: 7)) ?? .both
            i.attachments.direction = FlowDirection(rawValue: try row.decode(String.self, at: 8)) ?? .none
            i.attachments.maxSizeBytes = try row.decode(Int?.self, at: 9)
            i.attachments.excludeTypes = try row.decode([String].self, at: 10)
            i.conflictDefault = ConflictPolicyKind(rawValue: try row.decode(String.self, at: 11)) ?? .error
            i.maxConcurrency = try row.decode(Int?.self, at: 12)
            c.integrations.append(i)
        }
        for row in try await connection.query("SELECT integration_id, model_field, left_to_right, right_to_left FROM integration_field_flows") {
            guard let index = integrations[try row.decode(Int64.self, at: 0)] else { continue }
            c.integrations[index].fieldFlows[try row.decode(String.self, at: 1)] =
                FlowRecord(
                    leftToRight: try row.decode(String.self, at: 2), rightToLeft: try row.decode(String.self, at: 3)
                ).config
        }
        for row in try await connection.query(
            "SELECT integration_id, conditions::text, field_flows::text FROM integration_conditional_flows ORDER BY integration_id, position")
        {
            guard let index = integrations[try row.decode(Int64.self, at: 0)] else { continue }
            let conditions = try JSONDecoder().decode([ConditionRecord].self, from: Data(try row.decode(String.self, at: 1).utf8))
            let flows = try JSONDecoder().decode([String: FlowRecord].self, from: Data(try row.decode(String.self, at: 2).utf8))
            c.integrations[index].conditionalFieldFlows.append(
                ConditionalFlowConfig(when: conditions.compactMap(\.config), fieldFlows: flows.mapValues(\.config)))
        }
        for row in try await connection.query(
            """
            SELECT integration_id, from_side, source_projects, target_project, route_field, targets::text
            FROM integration_routes ORDER BY integration_id, position
            """)
        {
            guard let index = integrations[try row.decode(Int64.self, at: 0)], let side = Side(rawValue: try row.decode(String.self, at: 1)) else {
                continue
            }
            var route = RouteConfig(
                from: side, sourceProjects: try row.decode([String].self, at: 2), targetProject: try row.decode(String?.self, at: 3))
            route.field = try row.decode(String?.self, at: 4)
            route.targets = try JSONDecoder().decode([String: [String]].self, from: Data(try row.decode(String.self, at: 5).utf8))
            c.integrations[index].routes.append(route)
        }
        for row in try await connection.query(
            "SELECT integration_id, side, model_field, operator, filter_values FROM integration_filters ORDER BY integration_id, position")
        {
            guard let index = integrations[try row.decode(Int64.self, at: 0)],
                let op = ConditionOperator(rawValue: try row.decode(String.self, at: 3))
            else { continue }
            c.integrations[index].filters.append(
                ConditionConfig(
                    side: (try row.decode(String?.self, at: 1)).flatMap(Side.init(rawValue:)), field: try row.decode(String.self, at: 2), op: op,
                    values: try row.decode([String].self, at: 4)))
        }
        for row in try await connection.query("SELECT integration_id, model_field, policy FROM integration_conflict_policies") {
            guard let index = integrations[try row.decode(Int64.self, at: 0)] else { continue }
            c.integrations[index].conflictFields[try row.decode(String.self, at: 1)] = ConflictPolicyKind(
                rawValue: try row.decode(String.self, at: 2))
        }
        for row in try await connection.query(
            "SELECT integration_id, scope, change_interval_s, change_cron, scan_interval_s, scan_cron, scan_enabled FROM integration_schedules")
        {
            guard let index = integrations[try row.decode(Int64.self, at: 0)] else { continue }
            func schedule(_ interval: Int?, _ cron: String?) -> ScheduleConfig? {
                if let interval { return .interval(ConfigDuration(seconds: interval)) }
                return cron.map(ScheduleConfig.cron)
            }
            var s = SideScheduleConfig()
            s.changeDetection = schedule(try row.decode(Int?.self, at: 2), try row.decode(String?.self, at: 3))
            s.fullScan = schedule(try row.decode(Int?.self, at: 4), try row.decode(String?.self, at: 5))
            s.fullScanEnabled = try row.decode(Bool?.self, at: 6)
            switch try row.decode(String.self, at: 1) {
            case "left": c.integrations[index].leftSchedule = s
            case "right": c.integrations[index].rightSchedule = s
            default: c.integrations[index].schedule = s
            }
        }
        return Loaded(configuration: c, secrets: secrets)
    }
}

/// JSON shapes of conditions and field flows inside jsonb columns.
struct ConditionRecord: Codable {
    var side: String?
    var field: String
    var op: String
    var values: [String]
    init(_ c: ConditionConfig) {
        self.side = c.side?.rawValue
        self.field = c.field
        self.op = c.op.rawValue
        self.values = c.values
    }
    var config: ConditionConfig? {
        ConditionOperator(rawValue: self.op).map {
            ConditionConfig(side: self.side.flatMap(Side.init(rawValue:)), field: self.field, op: $0, values: self.values)
        }
    }
}

struct FlowRecord: Codable {
    var leftToRight: String
    var rightToLeft: String
    init(leftToRight: String, rightToLeft: String) {
        self.leftToRight = leftToRight
        self.rightToLeft = rightToLeft
    }
    init(_ f: FieldFlowConfig) { self.init(leftToRight: f.leftToRight.rawValue, rightToLeft: f.rightToLeft.rawValue) }
    var config: FieldFlowConfig {
        FieldFlowConfig(
            leftToRight: FlowFrequency(rawValue: self.leftToRight) ?? .updateNormally,
            rightToLeft: FlowFrequency(rawValue: self.rightToLeft) ?? .updateNormally)
    }
}

extension ConfigStore {
    /// Parses, validates and applies a YAML file's text; nothing is written when anything in it is wrong.
    public func apply(
        yaml text: String, file: String? = nil, environment: [String: String], dryRun: Bool = false, prune: Bool = false,
        actor: String = "cli"
    ) async throws -> ApplyPlan {
        let (configuration, locations) = try ConfigParser.parseLocated(bytes: Array(text.utf8), file: file)
        return try await self.apply(
            configuration, file: file, locations: locations, environment: environment, dryRun: dryRun, prune: prune, actor: actor)
    }

    /// The stored configuration as canonical YAML.
    public func exportYAML() async throws -> String { ConfigWriter.yaml(try await self.export()) }
}

extension ConfigStore {
    /// The configuration and the decrypted secrets per repository (`auth`, `proxy`), for the processes that talk to
    /// repositories. The secrets never leave the process.
    public func loadForRuntime() async throws -> (TandemConfiguration, [String: [String: String]]) {
        let loaded = try await self.loadForRuntimeAsOf()
        return (loaded.configuration, loaded.secrets)
    }

    /// As `loadForRuntime`, with the database's time when the reading began: the configuration holds every change
    /// committed before that time (a process compares it with `DatabaseClock.now` taken when an operator acted).
    public func loadForRuntimeAsOf() async throws -> (configuration: TandemConfiguration, secrets: [String: [String: String]], readAt: Date) {
        try await self.client.withConnection { connection in
            let readAt = try await DatabaseClock.now(on: connection)
            try await self.checkKey(connection)
            let loaded = try await self.load(connection)
            return (loaded.configuration, loaded.secrets, readAt)
        }
    }

    /// Whether a repository of this name is configured.
    public func repositoryExists(_ name: String) async throws -> Bool {
        try await !self.client.query("SELECT 1 FROM repositories WHERE name = \(name)").isEmpty
    }

    /// Every integration's id by its name (the key of its pairs, cursors, traces and activity).
    public func integrationIDs() async throws -> [String: Int64] {
        var ids: [String: Int64] = [:]
        for row in try await self.client.query("SELECT name, id FROM integrations") {
            ids[try row.decode(String.self, at: 0)] = try row.decode(Int64.self, at: 1)
        }
        return ids
    }
}

/// The database's clock: one clock for every process, whatever their hosts' clocks say.
public enum DatabaseClock {
    public static func now(_ client: PostgresClient) async throws -> Date {
        try await client.withConnection { try await Self.now(on: $0) }
    }

    static func now(on connection: PostgresConnection) async throws -> Date {
        guard let row = try await connection.query("SELECT clock_timestamp()").first else { return Date() }
        return try row.decode(Date.self, at: 0)
    }
}
