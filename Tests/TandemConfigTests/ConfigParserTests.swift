import Foundation
import TandemConfig
import TandemCore
import Testing

/// The example shipped in docs/examples, read from the repository so the test and the docs cannot drift apart.
func exampleYAML() throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return try String(contentsOf: root.appendingPathComponent("docs/examples/redmine-roundup.yaml"), encoding: .utf8)
}

@Suite struct ConfigParserTests {
    @Test func exampleParsesAndValidates() throws {
        let config = try ConfigParser.parse(try exampleYAML(), file: "example.yaml")
        #expect(config.repositories.map(\.name) == ["redmine", "roundup"])
        #expect(config.models.first?.field("status")?.values == ["New", "In Progress", "Resolved", "Closed"])
        #expect(config.collections[0].fields[2].valueMap[1].repository == ["In Progress", "Feedback"])
        #expect(config.integrations[0].fieldFlows["description"]?.rightToLeft == .uponCreation)
        #expect(config.integrations[0].conflictFields["status"] == .rightDominates)
        #expect(config.integrations[0].rightSchedule.changeDetection == .interval(ConfigDuration(seconds: 20)))
        #expect(config.settings.changeDetectionInterval.seconds == 30)
        if case .apiKey(let key, let header, _) = config.repositories[0].auth {
            #expect(key.variable == "REDMINE_API_KEY")
            #expect(header == "X-Redmine-API-Key")
        } else {
            Issue.record("expected api-key auth")
        }
    }

    @Test func writerIsCanonicalAndRoundTrips() throws {
        let config = try ConfigParser.parse(try exampleYAML())
        let first = ConfigWriter.yaml(config)
        let reparsed = try ConfigParser.parse(first)
        #expect(reparsed == config)
        #expect(ConfigWriter.yaml(reparsed) == first)
        #expect(first.contains("${REDMINE_API_KEY}"))
    }

    @Test func durations() {
        #expect(ConfigDuration(parsing: "90")?.seconds == 90)
        #expect(ConfigDuration(parsing: "5m")?.seconds == 300)
        #expect(ConfigDuration(parsing: "24h")?.description == "1d")
        #expect(ConfigDuration(parsing: "0s") == nil)
        #expect(ConfigDuration(parsing: "-5m") == nil)
        #expect(ConfigDuration(parsing: "5 parsecs") == nil)
        #expect(ConfigDuration(parsing: "m") == nil)
    }

    @Test func secretReferences() {
        #expect(SecretReference(parsing: "${A_B1}")?.variable == "A_B1")
        #expect(SecretReference(parsing: "${1A}") == nil)
        #expect(SecretReference(parsing: "hunter2") == nil)
        #expect(SecretReference(parsing: "${A-B}") == nil)
    }
}

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
    BadInput(name: "YAML syntax error", replace: "    left: redmine-bugs", with: "    left: [redmine-bugs", kind: .syntax, path: "", reasonContains: "YAML syntax error"),
    BadInput(name: "unknown key with a hint", replace: "    running: true", with: "    runing: true", kind: .unknownKey, path: "integrations[0].runing", reasonContains: "did you mean 'running'"),
    BadInput(name: "wrong type", replace: "    concurrencyLimit: 4", with: "    concurrencyLimit: [4]", kind: .wrongType, path: "repositories[0].concurrencyLimit", reasonContains: "expected an integer"),
    BadInput(name: "missing required key", replace: "    artifactType: Bug\n", with: "", kind: .missingKey, path: "collections[0].artifactType", reasonContains: "required key 'artifactType'"),
    BadInput(name: "dangling repository", replace: "    repository: roundup\n", with: "    repository: rundup\n", kind: .danglingReference, path: "collections[1].repository", reasonContains: "no repository named 'rundup'"),
    BadInput(name: "dangling collection", replace: "    right: roundup-issues", with: "    right: roundup-issue", kind: .danglingReference, path: "integrations[0].right", reasonContains: "no collection named 'roundup-issue'"),
    BadInput(name: "duplicate name", replace: "  - name: roundup\n", with: "  - name: redmine\n", kind: .duplicateName, path: "repositories[1].name", reasonContains: "already defined at repositories[0]"),
    BadInput(name: "unknown field type", replace: "        type: person", with: "        type: persona", kind: .unknownFieldType, path: "models[0].fields[4].type", reasonContains: "did you mean 'person'"),
    BadInput(name: "invalid cron", replace: "cron: 0 0 2 ? * *", with: "cron: 0 0 25 ? * *", kind: .invalidCron, path: "integrations[0].schedule.fullScan.cron", reasonContains: "invalid Quartz cron expression"),
    BadInput(name: "value map onto a non-select field", replace: "      - field: subject\n        modelField: title\n", with: "      - field: subject\n        modelField: title\n        valueMap:\n          - repository: a\n            model: b\n", kind: .valueMapOnNonSelect, path: "collections[0].fields[0].valueMap", reasonContains: "select fields only"),
    BadInput(name: "collection maps a field the model lacks", replace: "      - field: author\n        modelField: reporter", with: "      - field: author\n        modelField: reporterr", kind: .unknownModelField, path: "collections[0].fields[4].modelField", reasonContains: "has no field 'reporterr'"),
    BadInput(name: "field flow on an unknown field", replace: "      title:\n        leftToRight", with: "      titel:\n        leftToRight", kind: .unknownModelField, path: "integrations[0].fieldFlows.titel", reasonContains: "has no field 'titel'"),
    BadInput(name: "unknown enum value", replace: "        rightToLeft: upon-creation", with: "        rightToLeft: sometimes", kind: .unknownEnumValue, path: "integrations[0].fieldFlows.description.rightToLeft", reasonContains: "is not one of"),
    BadInput(name: "invalid duration", replace: "changeDetectionInterval: 30s", with: "changeDetectionInterval: 30 parsecs", kind: .invalidDuration, path: "settings.changeDetectionInterval", reasonContains: "is not a duration"),
    BadInput(name: "invalid URL", replace: "url: http://127.0.0.1:3000", with: "url: ftp//nowhere", kind: .invalidURL, path: "repositories[0].url", reasonContains: "not an http(s) URL"),
    BadInput(name: "number out of range", replace: "eventsPerMinute: 600", with: "eventsPerMinute: 0", kind: .outOfRange, path: "repositories[0].eventRateLimit.eventsPerMinute", reasonContains: "out of range"),
    BadInput(name: "literal secret", replace: "key: ${REDMINE_API_KEY}", with: "key: 0123456789abcdef", kind: .invalidSecretReference, path: "repositories[0].auth.key", reasonContains: "environment references"),
    BadInput(name: "value map onto a value the model lacks", replace: "            model: Urgent", with: "            model: Critical", kind: .unknownSelectValue, path: "collections[0].fields[3].valueMap[3].model", reasonContains: "'Critical' is not a value"),
    BadInput(name: "route to a project outside the collection", replace: "        targetProject: lab", with: "        targetProject: labs", kind: .unknownProject, path: "integrations[0].routes[0]", reasonContains: "'labs' is not in collection 'roundup-issues'"),
    BadInput(name: "filter on a field that cannot be filtered", replace: "        - field: status\n          operator: not-equals\n          value: Closed", with: "        - field: description\n          operator: contains\n          value: x", kind: .notFilterable, path: "integrations[0].filters.conditions[0].field", reasonContains: "cannot be filtered"),
    BadInput(name: "collections with different models", replace: "    projects: [lab]\n    model: Defect", with: "    projects: [lab]\n    model: Other", kind: .danglingReference, path: "collections[1].model", reasonContains: "no model named 'Other'"),
    BadInput(name: "unsupported version", replace: "version: 1", with: "version: 2", kind: .unsupportedVersion, path: "version", reasonContains: "not supported"),
    BadInput(name: "auth key that does not apply", replace: "      username: admin", with: "      username: admin\n      token: ${X}", kind: .unknownKey, path: "repositories[1].auth.token", reasonContains: "does not apply to auth kind 'basic'"),
    BadInput(name: "conflict policy on an unknown field", replace: "        status: right-dominates", with: "        state: right-dominates", kind: .unknownModelField, path: "integrations[0].conflicts.fields.state", reasonContains: "has no field 'state'"),
]

@Suite struct ConfigBadInputTests {
    @Test(arguments: badInputs)
    func badInputGivesItsPreciseError(_ bad: BadInput) throws {
        let text = try exampleYAML()
        #expect(text.contains(bad.replace), "the test's edit no longer applies to the example")
        let edited = text.replacingOccurrences(of: bad.replace, with: bad.with)
        do {
            _ = try ConfigParser.parse(edited, file: "bad.yaml")
            Issue.record("\(bad.name): no error")
        } catch {
            let match = error.issues.first { $0.kind == bad.kind && $0.path == bad.path }
            #expect(match != nil, "\(bad.name): got \(error)")
            if let match {
                #expect(match.reason.contains(bad.reasonContains), "\(bad.name): \(match.reason)")
                #expect(match.file == "bad.yaml")
                #expect(match.description.hasPrefix("bad.yaml:"))
                if bad.kind != .syntax { #expect(match.line != nil, "\(bad.name): no line number") }
            }
        }
    }

    @Test func differentModelsAreRejected() throws {
        var text = try exampleYAML()
        text = text.replacingOccurrences(
            of: "models:\n", with: "models:\n  - name: Other\n    fields:\n      - name: title\n        type: string\n")
        text = text.replacingOccurrences(of: "    projects: [lab]\n    model: Defect", with: "    projects: [lab]\n    model: Other")
        // The roundup collection now maps fields the Other model lacks; the integration check must still name the mismatch.
        #expect(throws: ConfigError.self) { try ConfigParser.parse(text) }
        do { _ = try ConfigParser.parse(text) } catch {
            #expect(error.issues.contains { $0.kind == .modelMismatch && $0.path == "integrations[0].right" }, "\(error)")
        }
    }

    @Test func emptyFile() {
        #expect(throws: ConfigError.self) { try ConfigParser.parse("") }
    }

    @Test func allProblemsAreReportedTogether() throws {
        let text = try exampleYAML()
            .replacingOccurrences(of: "    running: true", with: "    runing: true")
            .replacingOccurrences(of: "        type: person", with: "        type: persona")
        do { _ = try ConfigParser.parse(text) } catch {
            #expect(error.issues.count >= 2)
        }
    }
}
