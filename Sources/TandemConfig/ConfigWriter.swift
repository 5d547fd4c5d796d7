import TandemConnectors
import TandemCore
import Yams

/// Writes a configuration as canonical YAML: fixed key order, defaults left out, secrets as `${NAME}` references.
/// Writing what `ConfigParser` read gives the same text again, byte for byte.
public enum ConfigWriter {
    public static func yaml(_ c: TandemConfiguration) -> String {
        var root = Map()
        root["version"] = .s("\(c.version)")
        let settings = Self.settings(c.settings)
        if !settings.isEmpty { root["settings"] = settings.node }
        root.list("repositories", c.repositories.map(Self.repository))
        root.list("models", c.models.map(Self.model))
        root.list("collections", c.collections.map(Self.collection))
        root.list("integrations", c.integrations.map(Self.integration))
        // Serializing a tree of plain scalars, mappings and lists cannot fail; fall back to an empty document if it ever did.
        return (try? Yams.serialize(node: root.node, indent: 2, width: -1, allowUnicode: true)) ?? "version: \(c.version)\n"
    }

    /// An ordered YAML mapping under construction.
    struct Map {
        var pairs: [(String, Node)] = []
        var isEmpty: Bool { self.pairs.isEmpty }
        var node: Node { .mapping(Node.Mapping(self.pairs.map { (Node.scalar(.init($0.0)), $0.1) })) }
        subscript(key: String) -> Node? {
            get { self.pairs.first { $0.0 == key }?.1 }
            set { if let newValue { self.pairs.append((key, newValue)) } }
        }
        mutating func list(_ key: String, _ items: [Node]) { if !items.isEmpty { self[key] = .sequence(Node.Sequence(items)) } }
        mutating func strings(_ key: String, _ items: [String]) { self.list(key, items.map { Node.s($0) }) }
        mutating func flag(_ key: String, _ value: Bool, default d: Bool) { if value != d { self[key] = .s(value ? "true" : "false") } }
        mutating func optional(_ key: String, _ value: String?) { if let value { self[key] = .s(value) } }
    }

    static func settings(_ s: Settings) -> Map {
        var m = Map()
        let d = Settings()
        if s.changeDetectionInterval != d.changeDetectionInterval { m["changeDetectionInterval"] = .s("\(s.changeDetectionInterval)") }
        if s.fullScanInterval != d.fullScanInterval { m["fullScanInterval"] = .s("\(s.fullScanInterval)") }
        m.flag("fullScanEnabled", s.fullScanEnabled, default: d.fullScanEnabled)
        if s.maxConcurrencyPerIntegration != d.maxConcurrencyPerIntegration {
            m["maxConcurrencyPerIntegration"] = .s("\(s.maxConcurrencyPerIntegration)")
        }
        if s.eventRateLimit != d.eventRateLimit { m["eventRateLimit"] = Self.rateLimit(s.eventRateLimit) }
        return m
    }

    static func rateLimit(_ l: EventRateLimit) -> Node {
        var m = Map()
        m["eventsPerMinute"] = .s("\(l.eventsPerMinute)")
        m["scope"] = .s(l.scope.rawValue)
        return m.node
    }

    static func repository(_ r: RepositoryConfig) -> Node {
        var m = Map()
        m["name"] = .s(r.name)
        m["type"] = .s(r.kind.rawValue)
        m["url"] = .s(r.url)
        var a = Map()
        a["kind"] = .s(r.auth.kind)
        switch r.auth {
        case .none: break
        case .basic(let user, let password):
            a["username"] = .s(user)
            a["password"] = .s("\(password)")
        case .apiKey(let key, let header, let parameter):
            a["key"] = .s("\(key)")
            a.optional("header", header)
            a.optional("parameter", parameter)
        case .token(let token), .bearer(let token):
            a["token"] = .s("\(token)")
        }
        if r.auth != .none { m["auth"] = a.node }
        m.flag("enabled", r.enabled, default: true)
        m.flag("allowInsecure", r.allowInsecure, default: false)
        m.flag("debugLogging", r.debugLogging, default: false)
        if let proxy = r.proxy {
            var p = Map()
            p["url"] = .s(proxy.url)
            p.optional("username", proxy.username)
            p.optional("password", proxy.password.map { "\($0)" })
            m["proxy"] = p.node
        }
        if let limit = r.eventRateLimit { m["eventRateLimit"] = Self.rateLimit(limit) }
        m.optional("concurrencyLimit", r.concurrencyLimit.map { "\($0)" })
        if !r.options.isEmpty {
            var o = Map()
            for (key, value) in r.options.sorted(by: { $0.key < $1.key }) { o[key] = .s(value) }
            m["options"] = o.node
        }
        return m.node
    }

    static func model(_ model: ModelConfig) -> Node {
        var m = Map()
        m["name"] = .s(model.name)
        m["fields"] = .sequence(
            Node.Sequence(
                model.fields.map { f in
                    var fm = Map()
                    fm["name"] = .s(f.name)
                    fm["type"] = .s(f.type.rawValue)
                    fm.flag("required", f.required, default: false)
                    fm.strings("values", f.values)
                    fm.flag("allowUnmapped", f.allowUnmapped, default: false)
                    return fm.node
                }))
        return m.node
    }

    static func collection(_ c: CollectionConfig) -> Node {
        var m = Map()
        m["name"] = .s(c.name)
        m["repository"] = .s(c.repository)
        m["artifactType"] = .s(c.artifactType)
        m.list("projects", c.projects.map { .s($0) })
        m["model"] = .s(c.model)
        m.list(
            "fields",
            c.fields.map { f in
                var fm = Map()
                fm["field"] = .s(f.field)
                fm["modelField"] = .s(f.modelField)
                fm.optional("type", f.type?.rawValue)
                if f.toModel != .copy { fm["toModel"] = .s(f.toModel.rawValue) }
                if f.toRepository != .copy { fm["toRepository"] = .s(f.toRepository.rawValue) }
                fm.list(
                    "valueMap",
                    f.valueMap.map { e in
                        var em = Map()
                        em["repository"] = e.repository.count == 1 ? .s(e.repository[0]) : .sequence(Node.Sequence(e.repository.map { .s($0) }))
                        em["model"] = .s(e.model)
                        return em.node
                    })
                fm.optional("default", f.defaultValue)
                fm.optional("constant", f.constant)
                return fm.node
            })
        m.optional("statusField", c.statusField)
        m.list(
            "transitions",
            c.transitions.map { t in
                var tm = Map()
                tm["from"] = .s(t.from)
                tm["to"] = .s(t.to)
                tm["name"] = .s(t.name)
                return tm.node
            })
        return m.node
    }

    static func integration(_ i: IntegrationConfig) -> Node {
        let d = IntegrationConfig(name: "", left: "", right: "")
        var m = Map()
        m["name"] = .s(i.name)
        m["left"] = .s(i.left)
        m["right"] = .s(i.right)
        m.flag("running", i.running, default: d.running)
        if i.creation != d.creation { m["creation"] = .s(i.creation.rawValue) }
        if !i.fieldFlows.isEmpty { m["fieldFlows"] = Self.fieldFlows(i.fieldFlows) }
        m.list(
            "conditionalFieldFlows",
            i.conditionalFieldFlows.map { c in
                var cm = Map()
                cm.list("when", c.when.map(Self.condition))
                cm["fieldFlows"] = Self.fieldFlows(c.fieldFlows)
                return cm.node
            })
        m.list(
            "routes",
            i.routes.map { r in
                var rm = Map()
                rm["from"] = .s(r.from.rawValue)
                rm.strings("sourceProjects", r.sourceProjects)
                rm.optional("targetProject", r.targetProject)
                rm.optional("field", r.field)
                if !r.targets.isEmpty {
                    var t = Map()
                    for (project, values) in r.targets.sorted(by: { $0.key < $1.key }) {
                        t[project] = .sequence(Node.Sequence(values.map { .s($0) }))
                    }
                    rm["targets"] = t.node
                }
                return rm.node
            })
        if i.filterScope != d.filterScope || !i.filters.isEmpty {
            var f = Map()
            if i.filterScope != d.filterScope { f["scope"] = .s(i.filterScope.rawValue) }
            f.list("conditions", i.filters.map(Self.condition))
            m["filters"] = f.node
        }
        if i.comments != d.comments { m["comments"] = .s(i.comments.rawValue) }
        if i.attachments != d.attachments {
            var a = Map()
            if i.attachments.direction != d.attachments.direction { a["direction"] = .s(i.attachments.direction.rawValue) }
            a.optional("maxSizeBytes", i.attachments.maxSizeBytes.map { "\($0)" })
            a.strings("excludeTypes", i.attachments.excludeTypes)
            m["attachments"] = a.node
        }
        if i.conflictDefault != d.conflictDefault || !i.conflictFields.isEmpty {
            var c = Map()
            if i.conflictDefault != d.conflictDefault { c["default"] = .s(i.conflictDefault.rawValue) }
            if !i.conflictFields.isEmpty {
                var f = Map()
                for (field, policy) in i.conflictFields.sorted(by: { $0.key < $1.key }) { f[field] = .s(policy.rawValue) }
                c["fields"] = f.node
            }
            m["conflicts"] = c.node
        }
        var s = Self.sideSchedule(i.schedule)
        if !i.leftSchedule.isEmpty { s["left"] = Self.sideSchedule(i.leftSchedule).node }
        if !i.rightSchedule.isEmpty { s["right"] = Self.sideSchedule(i.rightSchedule).node }
        if !s.isEmpty { m["schedule"] = s.node }
        m.optional("maxConcurrency", i.maxConcurrency.map { "\($0)" })
        return m.node
    }

    static func sideSchedule(_ s: SideScheduleConfig) -> Map {
        var m = Map()
        for (key, entry) in [("changeDetection", s.changeDetection), ("fullScan", s.fullScan)] {
            var e = Map()
            switch entry {
            case .interval(let d)?: e["interval"] = .s("\(d)")
            case .cron(let text)?: e["cron"] = .s(text)
            case nil: continue
            }
            m[key] = e.node
        }
        if let enabled = s.fullScanEnabled { m["fullScanEnabled"] = .s(enabled ? "true" : "false") }
        return m
    }

    static func fieldFlows(_ flows: [String: FieldFlowConfig]) -> Node {
        var m = Map()
        for (field, flow) in flows.sorted(by: { $0.key < $1.key }) {
            var f = Map()
            f["leftToRight"] = .s(flow.leftToRight.rawValue)
            f["rightToLeft"] = .s(flow.rightToLeft.rawValue)
            m[field] = f.node
        }
        return m.node
    }

    static func condition(_ c: ConditionConfig) -> Node {
        var m = Map()
        m.optional("side", c.side?.rawValue)
        m["field"] = .s(c.field)
        m["operator"] = .s(c.op.rawValue)
        if c.values.count == 1 { m["value"] = .s(c.values[0]) } else { m.strings("values", c.values) }
        return m.node
    }
}

extension Node {
    /// A plain string scalar.
    static func s(_ text: String) -> Node { .scalar(Node.Scalar(text)) }
}
