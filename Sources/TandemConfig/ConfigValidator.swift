import TandemConnectors
import TandemCore
import Yams

/// Semantic checks across the whole configuration: names, references, types, projects, schedules.
public enum ConfigValidator {
    /// Every semantic problem in `configuration`. `marks` (from parsing) adds line numbers.
    public static func validate(_ configuration: TandemConfiguration, file: String? = nil) -> [ConfigIssue] {
        Self.validate(configuration, file: file, marks: nil)
    }

    static func validate(_ c: TandemConfiguration, file: String?, marks: ConfigLocations?) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        func report(_ kind: ConfigIssue.Kind, _ path: String, _ reason: String) {
            let mark = marks?.position(of: path)
            issues.append(ConfigIssue(kind, path: path, reason: reason, file: file, line: mark?.line, column: mark?.column))
        }
        func unique(_ names: [String], _ section: String, _ what: String) {
            var first: [String: Int] = [:]
            for (index, name) in names.enumerated() {
                if let earlier = first[name] {
                    report(.duplicateName, "\(section)[\(index)].name", "\(what) '\(name)' is already defined at \(section)[\(earlier)]")
                } else {
                    first[name] = index
                }
            }
        }
        unique(c.repositories.map(\.name), "repositories", "repository")
        unique(c.models.map(\.name), "models", "model")
        unique(c.collections.map(\.name), "collections", "collection")
        unique(c.integrations.map(\.name), "integrations", "integration")

        let repositories = Dictionary(c.repositories.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let models = Dictionary(c.models.map { ($0.name, ModelIndex($0)) }, uniquingKeysWith: { a, _ in a })
        let collections = Dictionary(c.collections.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let projects = Dictionary(c.collections.map { ($0.name, Set($0.projects)) }, uniquingKeysWith: { a, _ in a })
        WorkCounter.record(c.repositories.count + c.models.count + 2 * c.collections.count)

        for (ri, repository) in c.repositories.enumerated() {
            // The tool's registration says which options exist and what values they take.
            let registration = repository.kind.registration
            for problem in registration.validate(options: repository.options) {
                let known = registration.allOptions.contains { $0.name == problem.key }
                report(known ? .invalidValue : .unknownKey, "repositories[\(ri)].options.\(problem.key)", problem.reason)
            }
        }

        for (mi, model) in c.models.enumerated() {
            let path = "models[\(mi)]"
            var seen: Set<String> = []
            for (fi, field) in model.fields.enumerated() {
                let fpath = "\(path).fields[\(fi)]"
                if !seen.insert(field.name).inserted {
                    report(.duplicateName, "\(fpath).name", "field '\(field.name)' appears twice in model '\(model.name)'")
                }
                if field.type.isSelect {
                    if field.values.isEmpty, !field.allowUnmapped {
                        report(.invalidValue, "\(fpath).values", "a \(field.type.rawValue) field needs 'values' (or allowUnmapped: true)")
                    }
                    WorkCounter.record(field.values.count)
                    if Set(field.values).count != field.values.count {
                        report(.duplicateName, "\(fpath).values", "values must be distinct")
                    }
                } else if !field.values.isEmpty || field.allowUnmapped {
                    report(
                        .invalidValue, "\(fpath).values",
                        "only select fields take 'values' and 'allowUnmapped'; '\(field.name)' is \(field.type.rawValue)")
                }
            }
        }

        for (ci, collection) in c.collections.enumerated() {
            let path = "collections[\(ci)]"
            if repositories[collection.repository] == nil {
                report(.danglingReference, "\(path).repository", "no repository named '\(collection.repository)'")
            }
            if collection.projects.isEmpty { report(.invalidValue, "\(path).projects", "a collection needs at least one project") }
            guard let model = models[collection.model] else {
                report(.danglingReference, "\(path).model", "no model named '\(collection.model)'")
                continue
            }
            for (fi, mapping) in collection.fields.enumerated() {
                let fpath = "\(path).fields[\(fi)]"
                guard let indexed = model.field(mapping.modelField) else {
                    report(.unknownModelField, "\(fpath).modelField", "model '\(model.name)' has no field '\(mapping.modelField)'")
                    continue
                }
                let field = indexed.config
                let hasValueMapping = !mapping.valueMap.isEmpty || mapping.defaultValue != nil
                if hasValueMapping, !field.type.isSelect {
                    report(
                        .valueMapOnNonSelect, "\(fpath).valueMap",
                        "value maps apply to select fields only; model field '\(field.name)' is \(field.type.rawValue)")
                    continue
                }
                if !field.allowUnmapped {
                    for (ei, entry) in mapping.valueMap.enumerated() where !indexed.has(entry.model) {
                        report(
                            .unknownSelectValue, "\(fpath).valueMap[\(ei)].model", "'\(entry.model)' is not a value of model field '\(field.name)'")
                    }
                    if let value = mapping.defaultValue, !indexed.has(value) {
                        report(.unknownSelectValue, "\(fpath).default", "'\(value)' is not a value of model field '\(field.name)'")
                    }
                }
                var repoValues: Set<String> = []
                for (ei, entry) in mapping.valueMap.enumerated() {
                    WorkCounter.record(entry.repository.count)
                    for value in entry.repository where !repoValues.insert(value).inserted {
                        report(.duplicateName, "\(fpath).valueMap[\(ei)].repository", "repository value '\(value)' is mapped twice")
                    }
                }
            }
            var pairs: Set<[String]> = []
            for (ti, transition) in collection.transitions.enumerated() {
                let tpath = "\(path).transitions[\(ti)]"
                if transition.from == transition.to {
                    report(.invalidTransition, tpath, "a transition must change the status ('\(transition.from)' to itself)")
                } else if !pairs.insert([transition.from, transition.to]).inserted {
                    report(.invalidTransition, tpath, "only one transition may lead from '\(transition.from)' to '\(transition.to)'")
                }
            }
            if !collection.transitions.isEmpty, collection.statusField == nil {
                report(.missingKey, "\(path).statusField", "transitions need 'statusField', the repository field they change")
            }
        }

        for (ii, integration) in c.integrations.enumerated() {
            let path = "integrations[\(ii)]"
            let left = collections[integration.left]
            let right = collections[integration.right]
            if left == nil { report(.danglingReference, "\(path).left", "no collection named '\(integration.left)'") }
            if right == nil { report(.danglingReference, "\(path).right", "no collection named '\(integration.right)'") }
            if integration.left == integration.right {
                report(.invalidValue, "\(path).right", "an integration joins two different collections")
            }
            guard let left, let right else { continue }
            if left.model != right.model {
                report(
                    .modelMismatch, "\(path).right",
                    "collections '\(left.name)' and '\(right.name)' use different models ('\(left.model)' and '\(right.model)'); an integration's collections share one model"
                )
                continue
            }
            guard let model = models[left.model] else { continue }
            let leftProjects = projects[left.name] ?? []
            let rightProjects = projects[right.name] ?? []

            func checkField(_ name: String, _ fpath: String) {
                if model.field(name) == nil { report(.unknownModelField, fpath, "model '\(model.name)' has no field '\(name)'") }
            }
            func checkConditions(_ conditions: [ConditionConfig], _ cpath: String) {
                for (ci, condition) in conditions.enumerated() {
                    let fpath = "\(cpath)[\(ci)].field"
                    guard let indexed = model.field(condition.field) else {
                        report(.unknownModelField, fpath, "model '\(model.name)' has no field '\(condition.field)'")
                        continue
                    }
                    let field = indexed.config
                    if !field.type.isFilterable {
                        report(
                            .notFilterable, fpath,
                            "fields of type \(field.type.rawValue) cannot be filtered (filterable: single-select, multi-select, boolean, date, date-time, duration, string, long, double)"
                        )
                    } else if field.type.isSelect {
                        for value in condition.values where !indexed.has(value) {
                            report(.unknownSelectValue, "\(cpath)[\(ci)].value", "'\(value)' is not a value of model field '\(field.name)'")
                        }
                    }
                }
            }
            for field in integration.fieldFlows.keys.sorted() { checkField(field, "\(path).fieldFlows.\(field)") }
            for field in integration.conflictFields.keys.sorted() { checkField(field, "\(path).conflicts.fields.\(field)") }
            checkConditions(integration.filters, "\(path).filters.conditions")
            for (ci, conditional) in integration.conditionalFieldFlows.enumerated() {
                checkConditions(conditional.when, "\(path).conditionalFieldFlows[\(ci)].when")
                for field in conditional.fieldFlows.keys.sorted() {
                    checkField(field, "\(path).conditionalFieldFlows[\(ci)].fieldFlows.\(field)")
                }
            }
            for (ri, route) in integration.routes.enumerated() {
                let rpath = "\(path).routes[\(ri)]"
                let (source, target) = route.from == .left ? (left, right) : (right, left)
                let (sourceProjects, targetProjects) = route.from == .left ? (leftProjects, rightProjects) : (rightProjects, leftProjects)
                WorkCounter.record(route.sourceProjects.count + route.targets.count + 1)
                for project in route.sourceProjects where !sourceProjects.contains(project) {
                    report(.unknownProject, "\(rpath).sourceProjects", "project '\(project)' is not in collection '\(source.name)'")
                }
                let targets = (route.targetProject.map { [$0] } ?? []) + route.targets.keys.sorted()
                for project in targets where !targetProjects.contains(project) {
                    report(.unknownProject, "\(rpath)", "target project '\(project)' is not in collection '\(target.name)'")
                }
                if let fieldName = route.field {
                    guard let indexed = model.field(fieldName) else {
                        report(.unknownModelField, "\(rpath).field", "model '\(model.name)' has no field '\(fieldName)'")
                        continue
                    }
                    let field = indexed.config
                    if field.type != .singleSelect {
                        report(
                            .invalidValue, "\(rpath).field", "conditional routes use a single-select field; '\(fieldName)' is \(field.type.rawValue)")
                    }
                    for (project, values) in route.targets.sorted(by: { $0.key < $1.key }) {
                        for value in values where !indexed.has(value) {
                            report(.unknownSelectValue, "\(rpath).targets.\(project)", "'\(value)' is not a value of model field '\(fieldName)'")
                        }
                    }
                }
            }
            for (schedule, spath) in [
                (integration.schedule, "\(path).schedule"), (integration.leftSchedule, "\(path).schedule.left"),
                (integration.rightSchedule, "\(path).schedule.right"),
            ] {
                for (entry, key) in [(schedule.changeDetection, "changeDetection"), (schedule.fullScan, "fullScan")] {
                    if case .cron(let text) = entry {
                        do throws(ScheduleError) {
                            _ = try CronExpression(text)
                        } catch {
                            report(.invalidCron, "\(spath).\(key).cron", "invalid Quartz cron expression '\(text)': \(error)")
                        }
                    }
                }
            }
        }
        // Only a configuration whose names and references hold can be turned into sync rules; the rules then check
        // what needs the core's knowledge (transforms between the types on each side, transition graphs).
        if issues.isEmpty {
            for issue in RulesBuilder.validate(c, file: file) {
                let mark = marks?.position(of: issue.path)
                var located = issue
                located.line = mark?.line
                located.column = mark?.column
                issues.append(located)
            }
        }
        return issues
    }
}

/// A model's fields by name, each with its values as a set, so that validation looks each name and value up in one
/// step however many there are (a select field may have tens of thousands of values).
struct ModelIndex {
    struct Field {
        let config: ModelFieldConfig
        let values: Set<String>

        func has(_ value: String) -> Bool {
            WorkCounter.record(1)
            return self.values.contains(value)
        }
    }

    let name: String
    private let fields: [String: Field]

    init(_ model: ModelConfig) {
        self.name = model.name
        var fields: [String: Field] = [:]
        for field in model.fields where fields[field.name] == nil {
            fields[field.name] = Field(config: field, values: Set(field.values))
            WorkCounter.record(field.values.count + 1)
        }
        self.fields = fields
    }

    func field(_ name: String) -> Field? {
        WorkCounter.record(1)
        return self.fields[name]
    }
}
