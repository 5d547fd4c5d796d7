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
        let base = "\(path)[\(index)]"
        guard let left = configuration.collections.first(where: { $0.name == integration.left }),
            let right = configuration.collections.first(where: { $0.name == integration.right }),
            let model = configuration.models.first(where: { $0.name == left.model })
        else { throw ConfigIssue(.danglingReference, path: base, reason: "collections or model missing") }
        let fields = model.fields.map { ModelField($0.name, $0.type, values: $0.values, allowUnmapped: $0.allowUnmapped) }
        let leftRules = try Self.collection(left, model: model, path: Self.collectionPath(left, configuration))
        let rightRules = try Self.collection(right, model: model, path: Self.collectionPath(right, configuration))
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
            let expression = try Self.expression(c.when, model: model, path: "\(base).conditionalFieldFlows[\(i)].when")
            conditional.append(
                ConditionalFieldFlow(
                    "conditional \(i + 1)", when: expression,
                    flows: c.fieldFlows.mapValues { FieldFlow(leftToRight: $0.leftToRight, rightToLeft: $0.rightToLeft) }))
        }
        var filter: ArtifactFilter?
        if !integration.filters.isEmpty {
            var statements: [FilterStatement] = []
            for (i, condition) in integration.filters.enumerated() {
                let expression = try Self.expression([condition], model: model, path: "\(base).filters.conditions[\(i)]")
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
        for (index, integration) in configuration.integrations.enumerated() {
            do throws(ConfigIssue) {
                let rules = try Self.rules(for: integration, in: configuration)
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

    static func collectionPath(_ collection: CollectionConfig, _ configuration: TandemConfiguration) -> String {
        "collections[\(configuration.collections.firstIndex { $0.name == collection.name } ?? 0)]"
    }

    static func resolution(_ kind: ConflictPolicyKind) -> ConflictResolution {
        switch kind {
        case .error: .error
        case .leftDominates: .leftDominates
        case .rightDominates: .rightDominates
        }
    }

    static func collection(_ c: CollectionConfig, model: ModelConfig, path: String) throws(ConfigIssue) -> CollectionRules {
        var mappings: [FieldMapping] = []
        for (i, m) in c.fields.enumerated() {
            guard let field = model.field(m.modelField) else {
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

    static func expression(_ conditions: [ConditionConfig], model: ModelConfig, path: String) throws(ConfigIssue) -> FilterExpression {
        var parts: [FilterExpression] = []
        for (i, c) in conditions.enumerated() {
            guard let field = model.field(c.field) else {
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
