/// The sync semantics of one integration: its rules, validated once, and the decisions taken from them. Pure: the same
/// input always gives the same decision.
public struct Synchronizer: Sendable {
    public let rules: IntegrationRules
    let fields: [CompiledField]
    let fieldIndex: [String: Int]
    /// Per side (left, right): what comments need to know of the collection.
    let collections: [CollectionTraits]
    /// Per side: the projects that take part in some route.
    let participants: [Set<String>]

    struct CollectionTraits: Sendable {
        let supportsComments: Bool
        let canImpersonate: Bool
        let people: PersonDirectory?
        let commentMarkup: TextMarkup?
    }

    /// One field mapping, shared by reference so that decisions do not copy it.
    final class Mapping: Sendable {
        let spec: FieldMapping
        let repositoryField: String
        let toModel: Transform
        let toRepository: Transform
        let valueMap: ValueMap?
        let toModelMap: [String: String]?
        let defaultModelValue: String?

        init(_ spec: FieldMapping) {
            self.spec = spec
            self.valueMap = spec.valueMap
            self.toModelMap = spec.valueMap?.toModel
            self.defaultModelValue = spec.valueMap?.defaultModelValue
            self.repositoryField = spec.repositoryField
            self.toModel = spec.toModel
            self.toRepository = spec.toRepository
        }
    }

    /// One model field with its mappings on both sides, split by direction (a field may be mapped twice in one
    /// collection when the directions do not collide, guide L8176).
    final class CompiledField: Sendable {
        let model: ModelField
        /// Mappings that write into the model, per side.
        let inbound: [Mapping?]
        /// Mappings that write into the repository, per side.
        let outbound: [Mapping?]
        let graphs: [TransitionGraph?]
        let flow: FieldFlow
        let people: [PersonDirectory?]

        init(_ b: FieldBuilder, people: [PersonDirectory?]) {
            self.model = b.model
            self.inbound = b.inbound.map { $0.map(Mapping.init) }
            self.outbound = b.outbound.map { $0.map(Mapping.init) }
            self.graphs = b.graphs
            self.flow = b.flow
            self.people = people
        }

        func inbound(_ side: Side) -> Mapping? { self.inbound[side == .left ? 0 : 1] }
        func outbound(_ side: Side) -> Mapping? { self.outbound[side == .left ? 0 : 1] }
        func graph(_ side: Side) -> TransitionGraph? { self.graphs[side == .left ? 0 : 1] }
    }

    struct FieldBuilder {
        let model: ModelField
        var inbound: [FieldMapping?] = [nil, nil]
        var outbound: [FieldMapping?] = [nil, nil]
        var graphs: [TransitionGraph?] = [nil, nil]
        var flow = FieldFlow.bothWays
    }

    /// Validates the rules; the error names the first problem (a transform between incompatible types, a value map on
    /// a non-select field, a route to a project the collection does not have, ...).
    public init(_ rules: IntegrationRules) throws(SyncError) {
        self.rules = rules
        var index: [String: Int] = [:]
        var fields: [FieldBuilder] = []
        for field in rules.model {
            guard index[field.name] == nil else {
                throw SyncError(.invalidMapping, subject: "model field '\(field.name)'", reason: "defined twice")
            }
            index[field.name] = fields.count
            fields.append(FieldBuilder(model: field, flow: rules.fieldFlows[field.name] ?? .bothWays))
        }
        for side in Side.allCases {
            let slot = side == .left ? 0 : 1
            let collection = rules[side]
            for mapping in collection.fields {
                guard let i = index[mapping.modelField] else {
                    throw SyncError(
                        .invalidMapping, subject: "\(side) mapping '\(mapping.repositoryField)'",
                        reason: "model field '\(mapping.modelField)' does not exist"
                    )
                }
                try mapping.validate(against: fields[i].model)
                if mapping.toModel != .none {
                    guard fields[i].inbound[slot] == nil else {
                        throw SyncError(
                            .invalidMapping, subject: "\(side) mapping '\(mapping.repositoryField)'",
                            reason: "model field '\(mapping.modelField)' already receives a value from the \(side) collection"
                        )
                    }
                    fields[i].inbound[slot] = mapping
                }
                if mapping.toRepository != .none {
                    guard fields[i].outbound[slot] == nil else {
                        throw SyncError(
                            .invalidMapping, subject: "\(side) mapping '\(mapping.repositoryField)'",
                            reason: "model field '\(mapping.modelField)' already writes to the \(side) collection"
                        )
                    }
                    fields[i].outbound[slot] = mapping
                }
            }
            for (repositoryField, graph) in collection.transitions.sorted(by: { $0.key < $1.key }) {
                guard let i = fields.firstIndex(where: { $0.outbound[slot]?.repositoryField == repositoryField }) else {
                    throw SyncError(
                        .invalidMapping, subject: "\(side) state transitions for '\(repositoryField)'",
                        reason: "the field is not mapped from the model"
                    )
                }
                fields[i].graphs[slot] = graph
            }
            if rules.creationFlow.allows(from: side.opposite), !collection.canCreate {
                throw SyncError(
                    .repositoryCannotCreate, subject: "\(side) collection",
                    reason: "the repository cannot create artifacts, but creation flows into it"
                )
            }
        }
        func requireField(_ name: String, _ code: ErrorCode, _ subject: String) throws(SyncError) -> ModelField {
            guard let i = index[name] else { throw SyncError(code, subject: subject, reason: "model field '\(name)' does not exist") }
            return fields[i].model
        }
        for name in rules.fieldFlows.keys.sorted() { _ = try requireField(name, .fieldFlowInvalid, "field flow") }
        for name in rules.conflicts.perField.keys.sorted() { _ = try requireField(name, .conflictStrategyInvalid, "conflict resolution") }
        for flow in rules.conditionalFieldFlows {
            for c in flow.condition.conditions {
                _ = try requireField(c.field, .conditionalFieldFlowInvalid, "conditional field flow '\(flow.name)'")
            }
            for name in flow.flows.keys.sorted() { _ = try requireField(name, .conditionalFieldFlowInvalid, "conditional field flow '\(flow.name)'") }
        }
        for statement in rules.filter?.statements ?? [] {
            for c in statement.expression.conditions {
                let field = try requireField(c.field, .invalidFilter, "artifact filter")
                guard field.type.isFilterable else {
                    throw SyncError(
                        .invalidFilter, subject: "artifact filter", reason: "field '\(c.field)' of type \(field.type.rawValue) cannot be filtered")
                }
            }
        }
        for route in rules.routes {
            let source = rules[route.from], target = rules[route.from.opposite]
            for project in route.sourceProjects where !source.projects.contains(project) {
                throw SyncError(
                    .routingInvalid, subject: "route from \(route.from) project '\(project)'",
                    reason: "the \(route.from) collection has no project '\(project)'")
            }
            for project in route.targetProjects where !target.projects.contains(project) {
                throw SyncError(
                    .routingInvalid, subject: "route to \(route.from.opposite) project '\(project)'",
                    reason: "the \(route.from.opposite) collection has no project '\(project)'"
                )
            }
            if case .conditional(_, _, let name, let targets, _) = route {
                let field = try requireField(name, .invalidConditionalRoute, "conditional route")
                guard field.type == .singleSelect else {
                    throw SyncError(
                        .invalidConditionalRoute, subject: "conditional route", reason: "field '\(name)' is \(field.type.rawValue), not single-select"
                    )
                }
                for value in targets.values.flatMap({ $0 }).sorted() where !field.values.isEmpty && !field.values.contains(value) {
                    throw SyncError(.invalidConditionalRoute, subject: "conditional route", reason: "'\(value)' is not a value of '\(name)'")
                }
            }
        }
        for (_, updates) in rules.twinless.fields.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            for name in updates.keys.sorted() { _ = try requireField(name, .invalidMapping, "twinless update") }
        }
        let people = [rules.left.people, rules.right.people]
        self.collections = [rules.left, rules.right].map {
            CollectionTraits(
                supportsComments: $0.supportsComments, canImpersonate: $0.canImpersonate, people: $0.people, commentMarkup: $0.commentMarkup)
        }
        self.participants = Side.allCases.map { side in
            Set(rules.routes.flatMap { route in route.from == side ? route.sourceProjects : route.targetProjects })
        }
        self.fields = fields.map { CompiledField($0, people: people) }
        self.fieldIndex = index
    }

    /// Whether values written to a side's collection may hold persons (a person field flows there), so that its
    /// people are worth listing.
    public func writesPeople(to side: Side) -> Bool {
        self.fields.contains { $0.outbound(side) != nil && ($0.model.type == .person || $0.model.type == .persons) }
    }

    // MARK: Values

    /// The model value a side's artifact gives for field `i`, or nil when that side does not flow into it.
    func modelValue(_ artifact: Artifact, _ side: Side, _ i: Int) throws(SyncError) -> FieldValue? {
        let field = self.fields[i]
        guard let mapping = field.inbound(side) else { return nil }
        let raw = artifact.fields[mapping.repositoryField] ?? .null
        let value: FieldValue?
        switch mapping.toModel {
        case .copy: value = raw
        default: value = mapping.toModel.apply(raw, context: TransformContext(project: artifact.project, summary: artifact.summary))
        }
        guard let result = value else { return nil }
        // Rich text keeps its side's markup in the model: converting happens only when a value is written.
        switch result {
        case .select, .multiSelect: return try self.selectToModel(result, mapping: mapping, field: field)
        default: return result
        }
    }

    /// Whether two model values say the same, rich text compared across markups.
    static func sameContent(_ a: FieldValue?, _ b: FieldValue?) -> Bool {
        if a == b { return true }
        guard case .richText(let x, let mx)? = a, case .richText(let y, let my)? = b else { return false }
        return Markup.convert(x, from: mx, to: .html) == Markup.convert(y, from: my, to: .html)
    }

    func selectToModel(_ value: FieldValue, mapping: Mapping, field compiled: CompiledField) throws(SyncError) -> FieldValue {
        func one(_ s: String) throws(SyncError) -> String {
            if let map = mapping.toModelMap {
                if let m = map[s] { return m }
                if let d = mapping.defaultModelValue { return d }
            }
            if compiled.model.allowUnmapped || compiled.model.values.isEmpty || compiled.model.values.contains(s) { return s }
            throw SyncError(
                .valueNotAccepted, subject: "field '\(compiled.model.name)'",
                reason: "value '\(s)' of '\(mapping.repositoryField)' is not mapped and the model does not allow unmapped values"
            )
        }
        return try Self.mapSelect(value, one)
    }

    /// The repository value for the `side` collection from a model value, given the target's current value.
    func repositoryValue(
        _ value: FieldValue, _ side: Side, _ i: Int, existing: FieldValue, artifact: Artifact, markups: TextMarkups?,
        people: PersonDirectory? = nil
    ) throws(SyncError) -> FieldValue? {
        let field = self.fields[i]
        guard let mapping = field.outbound(side) else { return nil }
        let transformed: FieldValue?
        switch mapping.toRepository {
        case .copy: transformed = value
        default:
            transformed = mapping.toRepository.apply(
                value, context: TransformContext(existing: existing, project: artifact.project, summary: artifact.summary)
            )
        }
        guard var result = transformed else { return nil }
        switch result {
        case .richText(let text, let markup) where mapping.spec.repositoryType == .richText:
            // Converted only into another markup: text already in the target's markup is written as it is.
            if let target = markups?.fields[mapping.repositoryField] ?? mapping.spec.markup, target != markup {
                result = .richText(Markup.convert(text, from: markup, to: target), markup: target)
            }
        case .select, .multiSelect:
            if let map = mapping.valueMap { result = try self.selectToRepository(result, map: map, mapping: mapping, field: field.model) }
        case .person, .persons:
            if let people = people ?? field.people[side == .left ? 0 : 1] { result = people.reconcile(result) }
        default: break
        }
        return result
    }

    func selectToRepository(_ value: FieldValue, map: ValueMap, mapping: Mapping, field: ModelField) throws(SyncError) -> FieldValue {
        func one(_ s: String) throws(SyncError) -> String {
            if let r = map.toRepository[s] { return r }
            if let d = map.defaultRepositoryValue { return d }
            if field.allowUnmapped { return s }
            throw SyncError(
                .valueNotAccepted, subject: "field '\(mapping.repositoryField)'",
                reason: "model value '\(s)' of '\(field.name)' has no repository value and no default"
            )
        }
        return try Self.mapSelect(value, one)
    }

    /// Maps each value of a select or multi-select (dropping duplicates); other values pass through.
    static func mapSelect(_ value: FieldValue, _ one: (String) throws(SyncError) -> String) throws(SyncError) -> FieldValue {
        switch value {
        case .select(let s): return .select(try one(s))
        case .multiSelect(let values):
            var out: [String] = []
            for v in values {
                let m = try one(v)
                if !out.contains(m) { out.append(m) }
            }
            return .multiSelect(out)
        default: return value
        }
    }

    /// All model values of an artifact, by field index.
    func modelValues(_ artifact: Artifact, _ side: Side) throws(SyncError) -> [FieldValue?] {
        var values = [FieldValue?](repeating: nil, count: self.fields.count)
        for i in self.fields.indices { values[i] = try self.modelValue(artifact, side, i) }
        return values
    }

    /// The model values of an artifact, by model field name (for traces and tests).
    public func modelValues(of artifact: Artifact, on side: Side) throws(SyncError) -> [String: FieldValue] {
        var result: [String: FieldValue] = [:]
        for (i, value) in try self.modelValues(artifact, side).enumerated() { if let value { result[self.fields[i].model.name] = value } }
        return result
    }

    /// The flows in force for an artifact: the first matching conditional field flow, else the defaults.
    func flows(_ value: (String) -> FieldValue) -> ConditionalFieldFlow? {
        self.rules.conditionalFieldFlows.first { $0.condition.evaluate(value) }
    }

    /// Whether the artifact changed field `i` since the last sync, not counting Tandem's own writes.
    func changed(
        _ value: FieldValue?, _ i: Int, _ side: Side, _ artifact: Artifact, synced: [String: FieldValue], written ledger: [String: FieldValue],
        _ reasons: inout [Reason]
    ) -> Bool {
        guard let value else { return false }
        let field = self.fields[i]
        let name = field.model.name
        if let previous = synced[name] {
            if value == previous { return false }
        } else if case .null = value {
            return false
        }
        if let mapping = field.inbound(side), let written = ledger[mapping.repositoryField],
            (artifact.fields[mapping.repositoryField] ?? .null) == written
        {
            reasons.append(Reason(.echo, name, "the \(side) value is what Tandem wrote"))
            return false
        }
        return true
    }

    // MARK: Routing

    /// The target project for a new artifact, or nil when it is not routed.
    func route(_ project: String, from side: Side, _ value: (String) -> FieldValue, _ reasons: inout [Reason]) throws(SyncError) -> String? {
        for route in self.rules.routes where route.from == side && route.sourceProjects.contains(project) {
            switch route {
            case .fixed(_, _, let target):
                reasons.append(Reason(.routed, target, "static route from project '\(project)'"))
                return target
            case .conditional(_, _, let field, let targets, let fallback):
                let selected = value(field).text
                for target in targets.keys.sorted() where targets[target]?.contains(selected) == true {
                    reasons.append(Reason(.routed, target, "conditional route: '\(field)' is '\(selected)'"))
                    return target
                }
                switch fallback {
                case .error:
                    throw SyncError(
                        .noConditionalRoute, subject: "project '\(project)'",
                        reason: "value '\(selected)' of '\(field)' matches no conditional route"
                    )
                case .ignore:
                    reasons.append(Reason(.conditionalRouteFallback, field, "'\(selected)' matches no route; ignored"))
                    return nil
                case .defaultProject(let target):
                    reasons.append(Reason(.conditionalRouteFallback, target, "'\(selected)' matches no route; default project"))
                    return target
                }
            }
        }
        reasons.append(Reason(.notRouted, project, "no route from \(side) project '\(project)'"))
        return nil
    }

    /// Whether a project takes part in the integration on a side (as a route's source or target).
    func participates(_ project: String, on side: Side) -> Bool { self.participants[side == .left ? 0 : 1].contains(project) }
}
