import Foundation
public import TandemCore

/// Turns an integration's configuration into the core's `IntegrationRules`, the input of every sync decision.
/// The same code validates a file at `apply` time (so a transform between incompatible types is refused before
/// anything is stored) and builds the synchronizers the workers run.
public enum RulesBuilder {
    /// The rules of `integration` in `configuration`; throws a `ConfigIssue` naming the offending path.
    public static func rules(
        for integration: IntegrationConfig, in configuration: TandemConfiguration, path: String = "integrations"
    ) throws(ConfigIssue) -> IntegrationRules {
        let index = configuration.integrations.firstIndex { $0.name == integration.name } ?? 0
        return try Self.rules(for: integration, at: "\(path)[\(index)]", in: Names(configuration))
    }

    /// The configuration's collections and models by name, with each collection's path: built once, so that every
    /// integration finds what it names in one step.
    struct Names {
        var collections: [String: (path: String, collection: CollectionConfig)] = [:]
        var models: [String: ModelConfig] = [:]

        init(_ configuration: TandemConfiguration) {
            for (index, collection) in configuration.collections.enumerated() where self.collections[collection.name] == nil {
                self.collections[collection.name] = ("collections[\(index)]", collection)
            }
            for model in configuration.models where self.models[model.name] == nil { self.models[model.name] = model }
            WorkCounter.record(configuration.collections.count + configuration.models.count)
        }
    }

    static func rules(for integration: IntegrationConfig, at base: String, in names: Names) throws(ConfigIssue) -> IntegrationRules {
        WorkCounter.record(3)
        guard let (leftPath, left) = names.collections[integration.left], let (rightPath, right) = names.collections[integration.right],
            let model = names.models[left.model]
        else { throw ConfigIssue(.danglingReference, path: base, reason: "collections or model missing") }
        let fields = model.fields.map { ModelField($0.name, $0.type, values: $0.values, allowUnmapped: $0.allowUnmapped) }
        let modelFields = Dictionary(model.fields.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        WorkCounter.record(model.fields.count)
        let leftRules = try Self.collection(left, fields: modelFields, path: leftPath)
        let rightRules = try Self.collection(right, fields: modelFields, path: rightPath)
        let creation: CreationFlow =
            switch integration.creation {
            case .twoWay: .twoWay
            case .leftToRight: .oneWay(from: .left)
            case .rightToLeft: .oneWay(from: .right)
            case .none: .none
            }
        var flows: [String: FieldFlow] = [:]
        for (field, flow) in integration.fieldFlows { flows[field] = FieldFlow(leftToRight: flow.leftToRight, rightToLeft: flow.rightToLeft) }
        var conditional: [ConditionalFieldFlow] = []
        for (i, c) in integration.conditionalFieldFlows.enumerated() {
            let expression = try Self.expression(c.when, fields: modelFields, path: "\(base).conditionalFieldFlows[\(i)].when")
            conditional.append(
                ConditionalFieldFlow(
                    "conditional \(i + 1)", when: expression,
                    flows: c.fieldFlows.mapValues { FieldFlow(leftToRight: $0.leftToRight, rightToLeft: $0.rightToLeft) }))
        }
        var filter: ArtifactFilter?
        if !integration.filters.isEmpty {
            var statements: [FilterStatement] = []
            for (i, condition) in integration.filters.enumerated() {
                let expression = try Self.expression([condition], fields: modelFields, path: "\(base).filters.conditions[\(i)]")
                statements.append(FilterStatement(condition.side.map { FilterTarget.collection($0) } ?? .bothCollections, expression))
            }
            filter = ArtifactFilter(scope: integration.filterScope, statements)
        }
        let routes: [Route] = integration.routes.map { route in
            if let target = route.targetProject {
                return .fixed(from: route.from, sourceProjects: route.sourceProjects, targetProject: target)
            }
            return .conditional(
                from: route.from, sourceProjects: route.sourceProjects, field: route.field ?? "", targets: route.targets, fallback: .error)
        }
        let conflicts = ConflictPolicy(
            Self.resolution(integration.conflictDefault), perField: integration.conflictFields.mapValues(Self.resolution))
        let comments = CommentFlow(
            leftToRight: integration.comments == .both || integration.comments == .leftToRight,
            rightToLeft: integration.comments == .both || integration.comments == .rightToLeft)
        let a = integration.attachments
        let attachments = AttachmentFlow(
            leftToRight: a.direction == .both || a.direction == .leftToRight, rightToLeft: a.direction == .both || a.direction == .rightToLeft,
            maximumBytes: a.maxSizeBytes.map(Int64.init), excludedTypes: Set(a.excludeTypes))
        return IntegrationRules(
            model: fields, left: leftRules, right: rightRules, creationFlow: creation, fieldFlows: flows, conditionalFieldFlows: conditional,
            filter: filter, routes: routes, conflicts: conflicts, comments: comments, attachments: attachments)
    }

    /// Validates every integration by building its synchronizer; the issues name config paths.
    public static func validate(_ configuration: TandemConfiguration, file: String?) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        let names = Names(configuration)
        for (index, integration) in configuration.integrations.enumerated() {
            do throws(ConfigIssue) {
                let rules = try Self.rules(for: integration, at: "integrations[\(index)]", in: names)
                do throws(SyncError) {
                    _ = try Synchronizer(rules)
                } catch {
                    issues.append(ConfigIssue(.invalidValue, path: "integrations[\(index)]", reason: "\(error)", file: file))
                }
            } catch {
                var issue = error
                issue.file = file
                issues.append(issue)
            }
        }
        return issues
    }

    static func resolution(_ kind: ConflictPolicyKind) -> ConflictResolution {
        switch kind {
        case .error: .error
        case .leftDominates: .leftDominates
        case .rightDominates: .rightDominates
        }
    }

    static func collection(
        _ c: CollectionConfig, fields modelFields: [String: ModelFieldConfig], path: String
    ) throws(ConfigIssue) -> CollectionRules {
        var mappings: [FieldMapping] = []
        WorkCounter.record(c.fields.count)
        for (i, m) in c.fields.enumerated() {
            guard let field = modelFields[m.modelField] else {
                throw ConfigIssue(.unknownModelField, path: "\(path).fields[\(i)].modelField", reason: "no such model field")
            }
            let repositoryType = m.type ?? field.type
            var valueMap: ValueMap?
            if !m.valueMap.isEmpty || m.defaultValue != nil {
                var toModel: [String: String] = [:]
                var toRepository: [String: String] = [:]
                for entry in m.valueMap {
                    for value in entry.repository { toModel[value] = entry.model }
                    if let first = entry.repository.first, toRepository[entry.model] == nil { toRepository[entry.model] = first }
                }
                valueMap = ValueMap(toModel: toModel, toRepository: toRepository, defaultModelValue: m.defaultValue)
            }
            let toModel = try Self.transform(m.toModel, from: repositoryType, to: field.type, path: "\(path).fields[\(i)].toModel")
            var toRepository = try Self.transform(m.toRepository, from: field.type, to: repositoryType, path: "\(path).fields[\(i)].toRepository")
            if let constant = m.constant {
                toRepository = .constant(Self.value(constant, as: repositoryType))
            }
            mappings.append(FieldMapping(m.field, repositoryType, to: m.modelField, toModel: toModel, toRepository: toRepository, valueMap: valueMap))
        }
        var transitions: [String: TransitionGraph] = [:]
        if let statusField = c.statusField, !c.transitions.isEmpty {
            do throws(SyncError) {
                transitions[statusField] = try TransitionGraph(c.transitions.map { Transition(from: $0.from, to: $0.to, name: $0.name) })
            } catch {
                throw ConfigIssue(.invalidTransition, path: "\(path).transitions", reason: "\(error)")
            }
        }
        return CollectionRules(projects: c.projects, fields: mappings, transitions: transitions)
    }

    /// The core transform for a configured one, given the types on each side (a plain copy where the types agree).
    static func transform(_ kind: TransformKind, from source: FieldType, to target: FieldType, path: String) throws(ConfigIssue) -> Transform {
        switch kind {
        case .copy:
            let strings: Set<FieldType> = [.string, .formattedString, .literalString]
            if source == .richText, strings.contains(target) { return .convert(.richTextToFormattedString) }
            if strings.contains(source), target == .richText { return .convert(.formattedStringToRichText(.html)) }
            if source == .singleSelect, strings.contains(target) { return .convert(.singleSelectToString) }
            if strings.contains(source), target == .singleSelect { return .convert(.stringToSingleSelect) }
            return .copy
        case .append: return .append
        case .none: return .none
        case .richTextToPlain: return .convert(.richTextToFormattedString)
        case .plainToRichText: return .convert(.formattedStringToRichText(.html))
        case .markdownToHTML: return .convert(.richTextMarkup(.html))
        case .htmlToMarkdown: return .convert(.richTextMarkup(.markdown))
        case .selectToString: return .convert(.singleSelectToString)
        case .stringToSelect: return .convert(.stringToSingleSelect)
        case .joinValues:
            switch source {
            case .multiSelect: return .convert(.multiSelectToString(separator: ", "))
            case .relationships, .relationship: return .convert(.relationshipsToString(separator: ", "))
            default: throw ConfigIssue(.invalidValue, path: path, reason: "join-values needs a multi-valued field, not \(source.rawValue)")
            }
        case .stringToRelationships: return .convert(.stringToRelationships(repository: nil))
        case .locationToWebLink: return .convert(.locationToWebLink)
        }
    }

    static func expression(
        _ conditions: [ConditionConfig], fields: [String: ModelFieldConfig], path: String
    ) throws(ConfigIssue) -> FilterExpression {
        var parts: [FilterExpression] = []
        WorkCounter.record(conditions.count)
        for (i, c) in conditions.enumerated() {
            guard let field = fields[c.field] else {
                throw ConfigIssue(.unknownModelField, path: "\(path)[\(i)].field", reason: "no such model field")
            }
            let values = c.values.map { Self.value($0, as: field.type) }
            let first = values.first ?? .null
            let expression: FilterExpression =
                switch c.op {
                case .equals: .condition(FilterCondition(c.field, .equals(first)))
                case .notEquals: .condition(FilterCondition(c.field, .notEquals(first)))
                case .in: .condition(FilterCondition(c.field, .oneOf(values)))
                case .notIn: .not(.condition(FilterCondition(c.field, .oneOf(values))))
                case .contains: .condition(FilterCondition(c.field, .contains(c.values.first ?? "")))
                case .greaterThan: .not(.condition(FilterCondition(c.field, .atMost(first))))
                case .lessThan: .not(.condition(FilterCondition(c.field, .atLeast(first))))
                case .isEmpty: .condition(FilterCondition(c.field, .isEmpty))
                case .isNotEmpty: .condition(FilterCondition(c.field, .isNotEmpty))
                }
            parts.append(expression)
        }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    /// A configured text as a value of `type` (numbers, booleans, dates parsed; text otherwise).
    static func value(_ text: String, as type: FieldType) -> FieldValue {
        switch type {
        case .singleSelect: return .select(text)
        case .multiSelect: return .multiSelect([text])
        case .boolean: return .boolean(text == "true")
        case .long: return Int64(text).map(FieldValue.long) ?? .string(text)
        case .double: return Double(text).map(FieldValue.double) ?? .string(text)
        case .duration: return ConfigDuration(parsing: text).map { .duration(Int64($0.seconds)) } ?? .string(text)
        case .date:
            let parts = text.split(separator: "-").compactMap { Int($0) }
            return parts.count == 3 ? .date(LocalDate(year: parts[0], month: parts[1], day: parts[2])) : .string(text)
        case .dateTime: return (try? Date(text, strategy: .iso8601)).map(FieldValue.dateTime) ?? .string(text)
        case .richText: return .richText(text, markup: .plain)
        case .location: return .location(text)
        default: return .string(text)
        }
    }
}
