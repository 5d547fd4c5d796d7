import TandemCore
import Yams

/// Reads a configuration file. Structural problems (syntax, unknown keys, wrong types, bad enum values) and semantic
/// ones (see `ConfigValidator`) are all reported together, each with its file, path, line and reason.
public enum ConfigParser {
    /// Parses and validates `text`; throws `ConfigError` listing every problem.
    public static func parse(_ text: String, file: String? = nil) throws(ConfigError) -> TandemConfiguration {
        try Self.parseLocated(bytes: Array(text.utf8), file: file).configuration
    }

    /// Parses and validates a file's bytes, which must be UTF-8; throws `ConfigError` listing every problem.
    public static func parse(bytes: [UInt8], file: String? = nil, limits: YAMLLimits = .standard) throws(ConfigError) -> TandemConfiguration {
        try Self.parseLocated(bytes: bytes, file: file, limits: limits).configuration
    }

    /// As `parse`, with where each path is in the file, to locate problems found later (secrets, the database).
    ///
    /// The bytes are checked against `limits` and for what a configuration has no use for (see `YAMLGuard`) before
    /// any YAML tree is built; a hostile file is refused in time and memory proportional to its size.
    public static func parseLocated(
        bytes: [UInt8], file: String? = nil, limits: YAMLLimits = .standard
    ) throws(ConfigError) -> (configuration: TandemConfiguration, locations: ConfigLocations) {
        if let issue = YAMLGuard.check(bytes, file: file, limits: limits).issue { throw ConfigError(issues: [issue]) }
        let reader = YAMLReader(file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: String(decoding: bytes, as: UTF8.self))
        } catch let error as YamlError {
            throw ConfigError(issues: [Self.syntaxIssue(error, file: file)])
        } catch {
            throw ConfigError(issues: [ConfigIssue(.syntax, path: "", reason: "\(error)", file: file)])
        }
        guard let root else {
            throw ConfigError(issues: [ConfigIssue(.syntax, path: "", reason: "the file is empty", file: file, line: 1, column: 1)])
        }
        let configuration = Self.configuration(root, reader)
        var issues = reader.issues
        if issues.isEmpty { issues = ConfigValidator.validate(configuration, file: file, marks: reader.locations) }
        if !issues.isEmpty { throw ConfigError(issues: issues) }
        return (configuration, reader.locations)
    }

    static func syntaxIssue(_ error: YamlError, file: String?) -> ConfigIssue {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let reason = "YAML syntax error: " + (context.map { "\($0.text) " } ?? "") + problem
            return ConfigIssue(.syntax, path: "", reason: reason, file: file, line: mark.line, column: mark.column)
        default:
            return ConfigIssue(.syntax, path: "", reason: "YAML syntax error: \(error)", file: file)
        }
    }

    // MARK: - Sections

    static func configuration(_ root: Node, _ r: YAMLReader) -> TandemConfiguration {
        var c = TandemConfiguration()
        guard
            let o = r.object(
                root, "", allowed: ["version", "settings", "repositories", "models", "collections", "integrations"],
                required: ["version"])
        else { return c }
        if let version = r.int(o["version"], "version", range: 0...Int.max) {
            if version != TandemConfiguration.currentVersion {
                r.report(
                    .unsupportedVersion, "version",
                    "version \(version) is not supported; this Tandem reads version \(TandemConfiguration.currentVersion)", at: o["version"])
            }
            c.version = version
        }
        if let s = o["settings"] { c.settings = Self.settings(s, "settings", r) }
        c.hasSettings = o["settings"] != nil
        c.repositories = r.list(o["repositories"], "repositories").compactMap { Self.repository($0.node, $0.path, r) }
        c.models = r.list(o["models"], "models").compactMap { Self.model($0.node, $0.path, r) }
        c.collections = r.list(o["collections"], "collections").compactMap { Self.collection($0.node, $0.path, r) }
        c.integrations = r.list(o["integrations"], "integrations").compactMap { Self.integration($0.node, $0.path, r) }
        return c
    }

    static func settings(_ node: Node, _ path: String, _ r: YAMLReader) -> Settings {
        var s = Settings()
        guard
            let o = r.object(
                node, path,
                allowed: ["changeDetectionInterval", "fullScanInterval", "fullScanEnabled", "maxConcurrencyPerIntegration", "eventRateLimit"])
        else { return s }
        if let v = r.duration(o["changeDetectionInterval"], o.child("changeDetectionInterval")) { s.changeDetectionInterval = v }
        if let v = r.duration(o["fullScanInterval"], o.child("fullScanInterval")) { s.fullScanInterval = v }
        if let v = r.bool(o["fullScanEnabled"], o.child("fullScanEnabled")) { s.fullScanEnabled = v }
        if let v = r.int(o["maxConcurrencyPerIntegration"], o.child("maxConcurrencyPerIntegration"), range: 1...1000) {
            s.maxConcurrencyPerIntegration = v
        }
        if let n = o["eventRateLimit"], let v = Self.rateLimit(n, o.child("eventRateLimit"), r) { s.eventRateLimit = v }
        return s
    }

    static func rateLimit(_ node: Node, _ path: String, _ r: YAMLReader) -> EventRateLimit? {
        guard let o = r.object(node, path, allowed: ["eventsPerMinute", "scope"], required: ["eventsPerMinute"]) else { return nil }
        var limit = EventRateLimit()
        guard let perMinute = r.int(o["eventsPerMinute"], o.child("eventsPerMinute"), range: 1...1_000_000) else { return nil }
        limit.eventsPerMinute = perMinute
        if let scope = o["scope"] {
            guard let v = r.enumValue(scope, o.child("scope"), RateLimitScope.self) else { return nil }
            limit.scope = v
        }
        return limit
    }

    static func repository(_ node: Node, _ path: String, _ r: YAMLReader) -> RepositoryConfig? {
        guard
            let o = r.object(
                node, path,
                allowed: [
                    "name", "type", "url", "auth", "enabled", "allowInsecure", "debugLogging", "proxy", "eventRateLimit", "concurrencyLimit",
                    "options",
                ],
                required: ["name", "type", "url"])
        else { return nil }
        let name = r.string(o["name"], o.child("name"))
        let kind = r.enumValue(o["type"], o.child("type"), RepositoryKind.self)
        let url = r.url(o["url"], o.child("url"))
        guard let name, let kind, let url else { return nil }
        var repo = RepositoryConfig(name: name, kind: kind, url: url)
        if let auth = o["auth"], let v = Self.auth(auth, o.child("auth"), r) { repo.auth = v }
        if let v = r.bool(o["enabled"], o.child("enabled")) { repo.enabled = v }
        if let v = r.bool(o["allowInsecure"], o.child("allowInsecure")) { repo.allowInsecure = v }
        if let v = r.bool(o["debugLogging"], o.child("debugLogging")) { repo.debugLogging = v }
        if let p = r.object(o["proxy"], o.child("proxy"), allowed: ["url", "username", "password"], required: ["url"]),
            let proxyURL = r.url(p["url"], p.child("url"), credentialsBelongIn: "the proxy's `username` and `password`")
        {
            repo.proxy = ProxyConfig(
                url: proxyURL, username: r.string(p["username"], p.child("username")), password: r.secret(p["password"], p.child("password")))
        }
        if let n = o["eventRateLimit"] { repo.eventRateLimit = Self.rateLimit(n, o.child("eventRateLimit"), r) }
        repo.concurrencyLimit = r.int(o["concurrencyLimit"], o.child("concurrencyLimit"), range: 1...1000)
        for (key, keyPath, value) in r.entries(o["options"], o.child("options")) {
            if let text = r.string(value, keyPath, .text) { repo.options[key] = text }
        }
        return repo
    }

    static func auth(_ node: Node, _ path: String, _ r: YAMLReader) -> AuthConfig? {
        guard
            let o = r.object(node, path, allowed: ["kind", "username", "password", "key", "header", "parameter", "token"], required: ["kind"])
        else { return nil }
        let kinds = ["none", "basic", "api-key", "token", "bearer"]
        guard let kind = r.string(o["kind"], o.child("kind")) else { return nil }
        let allowedKeys: [String: [String]] = [
            "none": [], "basic": ["username", "password"], "api-key": ["key", "header", "parameter"], "token": ["token"], "bearer": ["token"],
        ]
        guard let keys = allowedKeys[kind] else {
            r.report(.unknownEnumValue, o.child("kind"), "'\(kind)' is not one of: \(kinds.joined(separator: ", "))", at: o["kind"])
            return nil
        }
        for (key, value) in o.values where key != "kind" && !keys.contains(key) {
            r.report(
                .unknownKey, o.child(key), "'\(key)' does not apply to auth kind '\(kind)' (allowed: \(keys.joined(separator: ", ")))", at: value)
        }
        func need(_ key: String) -> Node? {
            if o[key] == nil { r.report(.missingKey, o.child(key), "auth kind '\(kind)' needs '\(key)'", at: node) }
            return o[key]
        }
        switch kind {
        case "basic":
            let user = need("username").flatMap { r.string($0, o.child("username")) }
            let password = need("password").flatMap { r.secret($0, o.child("password")) }
            guard let user, let password else { return nil }
            return .basic(username: user, password: password)
        case "api-key":
            let key = need("key").flatMap { r.secret($0, o.child("key")) }
            let header = r.string(o["header"], o.child("header"))
            let parameter = r.string(o["parameter"], o.child("parameter"))
            if header != nil, parameter != nil {
                r.report(.invalidValue, path, "give either 'header' or 'parameter', not both", at: node)
            }
            guard let key else { return nil }
            return .apiKey(key: key, header: header ?? (parameter == nil ? "X-API-Key" : nil), parameter: parameter)
        case "token", "bearer":
            guard let token = need("token").flatMap({ r.secret($0, o.child("token")) }) else { return nil }
            return kind == "token" ? .token(token) : .bearer(token)
        default:
            return AuthConfig.none
        }
    }

    static func model(_ node: Node, _ path: String, _ r: YAMLReader) -> ModelConfig? {
        guard let o = r.object(node, path, allowed: ["name", "fields"], required: ["name", "fields"]),
            let name = r.string(o["name"], o.child("name"))
        else { return nil }
        var model = ModelConfig(name: name)
        for (fieldPath, fieldNode) in r.list(o["fields"], o.child("fields")) {
            guard
                let f = r.object(
                    fieldNode, fieldPath, allowed: ["name", "type", "required", "values", "allowUnmapped"], required: ["name", "type"]),
                let fieldName = r.string(f["name"], f.child("name"))
            else { continue }
            guard let typeName = r.string(f["type"], f.child("type")) else { continue }
            guard let type = FieldType(rawValue: typeName) else {
                let hint = YAMLReader.closest(typeName, in: FieldType.allCases.map(\.rawValue)).map { "; did you mean '\($0)'?" } ?? ""
                r.report(
                    .unknownFieldType, f.child("type"),
                    "unknown field type '\(typeName)'\(hint) (known: \(FieldType.allCases.map(\.rawValue).joined(separator: ", ")))",
                    at: f["type"])
                continue
            }
            var field = ModelFieldConfig(name: fieldName, type: type)
            if let v = r.bool(f["required"], f.child("required")) { field.required = v }
            if let v = r.stringList(f["values"], f.child("values")) { field.values = v }
            if let v = r.bool(f["allowUnmapped"], f.child("allowUnmapped")) { field.allowUnmapped = v }
            model.fields.append(field)
        }
        return model
    }

    static func collection(_ node: Node, _ path: String, _ r: YAMLReader) -> CollectionConfig? {
        guard
            let o = r.object(
                node, path, allowed: ["name", "repository", "artifactType", "projects", "model", "fields", "statusField", "transitions"],
                required: ["name", "repository", "artifactType", "projects", "model"])
        else { return nil }
        let name = r.string(o["name"], o.child("name"))
        let repository = r.string(o["repository"], o.child("repository"))
        let type = r.string(o["artifactType"], o.child("artifactType"))
        let projects = r.stringList(o["projects"], o.child("projects"))
        let model = r.string(o["model"], o.child("model"))
        guard let name, let repository, let type, let projects, let model else { return nil }
        var c = CollectionConfig(name: name, repository: repository, artifactType: type, projects: projects, model: model)
        for (fieldPath, fieldNode) in r.list(o["fields"], o.child("fields")) {
            guard
                let f = r.object(
                    fieldNode, fieldPath, allowed: ["field", "modelField", "type", "toModel", "toRepository", "valueMap", "default", "constant"],
                    required: ["field", "modelField"]),
                let field = r.string(f["field"], f.child("field")),
                let modelField = r.string(f["modelField"], f.child("modelField"))
            else { continue }
            var m = FieldMappingConfig(field: field, modelField: modelField)
            if let typeName = r.string(f["type"], f.child("type")) {
                guard let type = FieldType(rawValue: typeName) else {
                    r.report(.unknownFieldType, f.child("type"), "unknown field type '\(typeName)'", at: f["type"])
                    continue
                }
                m.type = type
            }
            if let v = r.enumValue(f["toModel"], f.child("toModel"), TransformKind.self) { m.toModel = v }
            if let v = r.enumValue(f["toRepository"], f.child("toRepository"), TransformKind.self) { m.toRepository = v }
            m.defaultValue = r.string(f["default"], f.child("default"))
            m.constant = r.string(f["constant"], f.child("constant"), .text)
            for (entryPath, entryNode) in r.list(f["valueMap"], f.child("valueMap")) {
                guard let e = r.object(entryNode, entryPath, allowed: ["repository", "model"], required: ["repository", "model"]),
                    let repoValues = r.stringList(e["repository"], e.child("repository")),
                    let modelValue = r.string(e["model"], e.child("model"))
                else { continue }
                if repoValues.isEmpty {
                    r.report(.invalidValue, e.child("repository"), "needs at least one repository value", at: e["repository"])
                }
                m.valueMap.append(ValueMapEntry(repository: repoValues, model: modelValue))
            }
            c.fields.append(m)
        }
        c.statusField = r.string(o["statusField"], o.child("statusField"))
        for (tPath, tNode) in r.list(o["transitions"], o.child("transitions")) {
            guard let t = r.object(tNode, tPath, allowed: ["from", "to", "name"], required: ["from", "to", "name"]),
                let from = r.string(t["from"], t.child("from")), let to = r.string(t["to"], t.child("to")),
                let tName = r.string(t["name"], t.child("name"))
            else { continue }
            c.transitions.append(TransitionConfig(from: from, to: to, name: tName))
        }
        return c
    }

    static func integration(_ node: Node, _ path: String, _ r: YAMLReader) -> IntegrationConfig? {
        guard
            let o = r.object(
                node, path,
                allowed: [
                    "name", "left", "right", "running", "creation", "fieldFlows", "conditionalFieldFlows", "routes", "filters", "comments",
                    "attachments", "conflicts", "schedule", "maxConcurrency",
                ], required: ["name", "left", "right"])
        else { return nil }
        let name = r.string(o["name"], o.child("name"))
        let left = r.string(o["left"], o.child("left"))
        let right = r.string(o["right"], o.child("right"))
        guard let name, let left, let right else { return nil }
        var i = IntegrationConfig(name: name, left: left, right: right)
        if let v = r.bool(o["running"], o.child("running")) { i.running = v }
        if let v = r.enumValue(o["creation"], o.child("creation"), CreationFlowConfig.self) { i.creation = v }
        i.fieldFlows = Self.fieldFlows(o["fieldFlows"], o.child("fieldFlows"), r)
        for (cPath, cNode) in r.list(o["conditionalFieldFlows"], o.child("conditionalFieldFlows")) {
            guard let c = r.object(cNode, cPath, allowed: ["when", "fieldFlows"], required: ["when", "fieldFlows"]) else { continue }
            let whenList = r.list(c["when"], c.child("when"))
            if whenList.isEmpty, case .sequence? = c["when"] {
                r.report(
                    .invalidValue, c.child("when"), "needs at least one condition (flows for every artifact belong in fieldFlows)", at: c["when"])
                continue
            }
            let conditions = whenList.compactMap { Self.condition($0.node, $0.path, r) }
            i.conditionalFieldFlows.append(
                ConditionalFlowConfig(when: conditions, fieldFlows: Self.fieldFlows(c["fieldFlows"], c.child("fieldFlows"), r)))
        }
        for (rPath, rNode) in r.list(o["routes"], o.child("routes")) {
            guard
                let ro = r.object(
                    rNode, rPath, allowed: ["from", "sourceProjects", "targetProject", "field", "targets"], required: ["from", "sourceProjects"]),
                let from = r.enumValue(ro["from"], ro.child("from"), Side.self),
                let sources = r.stringList(ro["sourceProjects"], ro.child("sourceProjects"))
            else { continue }
            var route = RouteConfig(from: from, sourceProjects: sources, targetProject: r.string(ro["targetProject"], ro.child("targetProject")))
            route.field = r.string(ro["field"], ro.child("field"))
            for (project, tPath, values) in r.entries(ro["targets"], ro.child("targets")) {
                route.targets[project] = r.stringList(values, tPath) ?? []
            }
            let isStatic = route.targetProject != nil
            let isConditional = route.field != nil || !route.targets.isEmpty
            if isStatic == isConditional {
                r.report(.invalidValue, rPath, "a route has either 'targetProject' (static) or 'field' with 'targets' (conditional)", at: rNode)
            } else if isConditional, route.field == nil || route.targets.isEmpty {
                r.report(.missingKey, rPath, "a conditional route needs both 'field' and 'targets'", at: rNode)
            }
            i.routes.append(route)
        }
        if let f = r.object(o["filters"], o.child("filters"), allowed: ["scope", "conditions"]) {
            if let v = r.enumValue(f["scope"], f.child("scope"), FilterScope.self) { i.filterScope = v }
            i.filters = r.list(f["conditions"], f.child("conditions")).compactMap { Self.condition($0.node, $0.path, r) }
        }
        if let v = r.enumValue(o["comments"], o.child("comments"), FlowDirection.self) { i.comments = v }
        if let a = r.object(o["attachments"], o.child("attachments"), allowed: ["direction", "maxSizeBytes", "excludeTypes"]) {
            if let v = r.enumValue(a["direction"], a.child("direction"), FlowDirection.self) { i.attachments.direction = v }
            i.attachments.maxSizeBytes = r.int(a["maxSizeBytes"], a.child("maxSizeBytes"), range: 1...Int.max)
            if let v = r.stringList(a["excludeTypes"], a.child("excludeTypes")) { i.attachments.excludeTypes = v }
        }
        if let c = r.object(o["conflicts"], o.child("conflicts"), allowed: ["default", "fields"]) {
            if let v = r.enumValue(c["default"], c.child("default"), ConflictPolicyKind.self) { i.conflictDefault = v }
            for (field, fPath, value) in r.entries(c["fields"], c.child("fields")) {
                if let v = r.enumValue(value, fPath, ConflictPolicyKind.self) { i.conflictFields[field] = v }
            }
        }
        if let s = r.object(o["schedule"], o.child("schedule"), allowed: ["changeDetection", "fullScan", "fullScanEnabled", "left", "right"]) {
            i.schedule = Self.sideSchedule(s, r)
            if let l = r.object(s["left"], s.child("left"), allowed: ["changeDetection", "fullScan", "fullScanEnabled"]) {
                i.leftSchedule = Self.sideSchedule(l, r)
            }
            if let rt = r.object(s["right"], s.child("right"), allowed: ["changeDetection", "fullScan", "fullScanEnabled"]) {
                i.rightSchedule = Self.sideSchedule(rt, r)
            }
        }
        i.maxConcurrency = r.int(o["maxConcurrency"], o.child("maxConcurrency"), range: 1...1000)
        return i
    }

    static func sideSchedule(_ o: YAMLReader.Object, _ r: YAMLReader) -> SideScheduleConfig {
        var s = SideScheduleConfig()
        s.changeDetection = Self.schedule(o["changeDetection"], o.child("changeDetection"), r)
        s.fullScan = Self.schedule(o["fullScan"], o.child("fullScan"), r)
        s.fullScanEnabled = r.bool(o["fullScanEnabled"], o.child("fullScanEnabled"))
        return s
    }

    /// `{interval: 5m}` or `{cron: "0 0/30 9-16 ? * MON-FRI"}`.
    static func schedule(_ node: Node?, _ path: String, _ r: YAMLReader) -> ScheduleConfig? {
        guard let node, let o = r.object(node, path, allowed: ["interval", "cron"]) else { return nil }
        switch (o["interval"], o["cron"]) {
        case (let interval?, nil): return r.duration(interval, o.child("interval")).map(ScheduleConfig.interval)
        case (nil, let cron?): return r.string(cron, o.child("cron")).map(ScheduleConfig.cron)
        default:
            r.report(.invalidValue, path, "give exactly one of 'interval' or 'cron'", at: node)
            return nil
        }
    }

    static func fieldFlows(_ node: Node?, _ path: String, _ r: YAMLReader) -> [String: FieldFlowConfig] {
        var flows: [String: FieldFlowConfig] = [:]
        for (field, fPath, value) in r.entries(node, path) {
            guard let f = r.object(value, fPath, allowed: ["leftToRight", "rightToLeft"]) else { continue }
            var flow = FieldFlowConfig()
            if let v = r.enumValue(f["leftToRight"], f.child("leftToRight"), FlowFrequency.self) { flow.leftToRight = v }
            if let v = r.enumValue(f["rightToLeft"], f.child("rightToLeft"), FlowFrequency.self) { flow.rightToLeft = v }
            flows[field] = flow
        }
        return flows
    }

    static func condition(_ node: Node, _ path: String, _ r: YAMLReader) -> ConditionConfig? {
        guard let o = r.object(node, path, allowed: ["side", "field", "operator", "value", "values"], required: ["field", "operator"]),
            let field = r.string(o["field"], o.child("field")),
            let op = r.enumValue(o["operator"], o.child("operator"), ConditionOperator.self)
        else { return nil }
        let side = o["side"].flatMap { r.enumValue($0, o.child("side"), Side.self) }
        if o["side"] != nil, side == nil { return nil }
        var values = r.stringList(o["value"], o.child("value")) ?? []
        values += r.stringList(o["values"], o.child("values")) ?? []
        let needsValue = op != .isEmpty && op != .isNotEmpty
        if needsValue, values.isEmpty {
            r.report(.missingKey, o.child("value"), "operator '\(op.rawValue)' needs a 'value' or 'values'", at: node)
            return nil
        }
        return ConditionConfig(side: side, field: field, op: op, values: values)
    }
}
