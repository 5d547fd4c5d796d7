import TandemConfig

/// One bad input: a text edit of the example, and the issue it must produce.
struct BadInput: Sendable, CustomStringConvertible {
    var name: String
    var replace: String
    var with: String
    var kind: ConfigIssue.Kind
    var path: String
    var reasonContains: String
    var description: String { self.name }
}

let badInputs: [BadInput] = [
    BadInput(
        name: "conditional flow without a condition", replace: "    running: true\n",
        with: "    running: true\n    conditionalFieldFlows:\n      - when: []\n        fieldFlows: {}\n", kind: .invalidValue,
        path: "integrations[0].conditionalFieldFlows[0].when", reasonContains: "at least one condition"),
    BadInput(
        name: "YAML syntax error", replace: "    left: redmine-bugs", with: "    left: [redmine-bugs", kind: .syntax, path: "integrations[0].left[1]",
        reasonContains: "YAML syntax error"),
    BadInput(
        name: "unknown key with a hint", replace: "    running: true", with: "    runing: true", kind: .unknownKey, path: "integrations[0].runing",
        reasonContains: "did you mean 'running'"),
    BadInput(
        name: "wrong type", replace: "    concurrencyLimit: 4", with: "    concurrencyLimit: [4]", kind: .wrongType,
        path: "repositories[0].concurrencyLimit", reasonContains: "expected an integer"),
    BadInput(
        name: "missing required key", replace: "    artifactType: Bug\n", with: "", kind: .missingKey, path: "collections[0].artifactType",
        reasonContains: "required key 'artifactType'"),
    BadInput(
        name: "dangling repository", replace: "    repository: roundup\n", with: "    repository: rundup\n", kind: .danglingReference,
        path: "collections[1].repository", reasonContains: "no repository named 'rundup'"),
    BadInput(
        name: "dangling collection", replace: "    right: roundup-issues", with: "    right: roundup-issue", kind: .danglingReference,
        path: "integrations[0].right", reasonContains: "no collection named 'roundup-issue'"),
    BadInput(
        name: "duplicate name", replace: "  - name: roundup\n", with: "  - name: redmine\n", kind: .duplicateName, path: "repositories[1].name",
        reasonContains: "already defined at repositories[0]"),
    BadInput(
        name: "unknown field type", replace: "        type: person", with: "        type: persona", kind: .unknownFieldType,
        path: "models[0].fields[4].type", reasonContains: "did you mean 'person'"),
    BadInput(
        name: "invalid cron", replace: "cron: 0 0 2 ? * *", with: "cron: 0 0 25 ? * *", kind: .invalidCron,
        path: "integrations[0].schedule.fullScan.cron", reasonContains: "invalid Quartz cron expression"),
    BadInput(
        name: "value map onto a non-select field", replace: "      - field: subject\n        modelField: title\n",
        with: "      - field: subject\n        modelField: title\n        valueMap:\n          - repository: a\n            model: b\n",
        kind: .valueMapOnNonSelect, path: "collections[0].fields[0].valueMap", reasonContains: "select fields only"),
    BadInput(
        name: "collection maps a field the model lacks", replace: "      - field: author\n        modelField: reporter",
        with: "      - field: author\n        modelField: reporterr", kind: .unknownModelField, path: "collections[0].fields[4].modelField",
        reasonContains: "has no field 'reporterr'"),
    BadInput(
        name: "field flow on an unknown field", replace: "      title:\n        leftToRight", with: "      titel:\n        leftToRight",
        kind: .unknownModelField, path: "integrations[0].fieldFlows.titel", reasonContains: "has no field 'titel'"),
    BadInput(
        name: "unknown enum value", replace: "        rightToLeft: upon-creation", with: "        rightToLeft: sometimes", kind: .unknownEnumValue,
        path: "integrations[0].fieldFlows.description.rightToLeft", reasonContains: "is not one of"),
    BadInput(
        name: "invalid duration", replace: "changeDetectionInterval: 30s", with: "changeDetectionInterval: 30 parsecs", kind: .invalidDuration,
        path: "settings.changeDetectionInterval", reasonContains: "is not a duration"),
    BadInput(
        name: "invalid URL", replace: "url: http://127.0.0.1:3310", with: "url: ftp//nowhere", kind: .invalidURL, path: "repositories[0].url",
        reasonContains: "not an http(s) URL"),
    BadInput(
        name: "number out of range", replace: "eventsPerMinute: 600", with: "eventsPerMinute: 0", kind: .outOfRange,
        path: "repositories[0].eventRateLimit.eventsPerMinute", reasonContains: "out of range"),
    BadInput(
        name: "literal secret", replace: "key: ${TANDEM_SECRET_REDMINE_API_KEY}", with: "key: 0123456789abcdef", kind: .invalidSecretReference,
        path: "repositories[0].auth.key", reasonContains: "environment references"),
    BadInput(
        name: "value map onto a value the model lacks", replace: "            model: Urgent", with: "            model: Critical",
        kind: .unknownSelectValue, path: "collections[0].fields[3].valueMap[3].model", reasonContains: "'Critical' is not a value"),
    BadInput(
        name: "route to a project outside the collection", replace: "        targetProject: lab", with: "        targetProject: labs",
        kind: .unknownProject, path: "integrations[0].routes[0]", reasonContains: "'labs' is not in collection 'roundup-issues'"),
    BadInput(
        name: "filter on a field that cannot be filtered",
        replace: "        - field: status\n          operator: not-equals\n          value: Closed",
        with: "        - field: description\n          operator: contains\n          value: x", kind: .notFilterable,
        path: "integrations[0].filters.conditions[0].field", reasonContains: "cannot be filtered"),
    BadInput(
        name: "collections with different models", replace: "    projects: [lab]\n    model: Defect", with: "    projects: [lab]\n    model: Other",
        kind: .danglingReference, path: "collections[1].model", reasonContains: "no model named 'Other'"),
    BadInput(
        name: "unsupported version", replace: "version: 1", with: "version: 2", kind: .unsupportedVersion, path: "version",
        reasonContains: "not supported"),
    BadInput(
        name: "auth key that does not apply", replace: "      username: admin", with: "      username: admin\n      token: ${X}", kind: .unknownKey,
        path: "repositories[1].auth.token", reasonContains: "does not apply to auth kind 'basic'"),
    BadInput(
        name: "conflict policy on an unknown field", replace: "        status: right-dominates", with: "        state: right-dominates",
        kind: .unknownModelField, path: "integrations[0].conflicts.fields.state", reasonContains: "has no field 'state'"),
]

/// Problems only the sync rules can see (they need the core's knowledge of transforms).
let ruleBadInputs: [BadInput] = [
    BadInput(
        name: "transform between incompatible types", replace: "      - field: author\n        modelField: reporter",
        with: "      - field: author\n        modelField: reporter\n        type: date", kind: .invalidValue, path: "integrations[0]",
        reasonContains: "cannot copy date into person"),
    BadInput(
        name: "join-values on a single value", replace: "      - field: subject\n        modelField: title",
        with: "      - field: subject\n        modelField: title\n        toModel: join-values", kind: .invalidValue,
        path: "collections[0].fields[0].toModel", reasonContains: "multi-valued"),
]
