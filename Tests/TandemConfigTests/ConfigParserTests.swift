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
            #expect(key.variable == "TANDEM_SECRET_REDMINE_API_KEY")
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
        #expect(first.contains("${TANDEM_SECRET_REDMINE_API_KEY}"))
    }

    @Test func aRepositorysDebugLoggingIsReadAndWrittenOnlyWhenOn() throws {
        let yaml = """
            version: 1
            repositories:
              - name: r
                type: redmine
                url: http://127.0.0.1:9
                debugLogging: true
              - name: s
                type: redmine
                url: http://127.0.0.1:9
            """
        let config = try ConfigParser.parse(yaml)
        #expect(config.repositories.map(\.debugLogging) == [true, false])
        let written = ConfigWriter.yaml(config)
        #expect(written.components(separatedBy: "debugLogging").count == 2, "\(written)")
        #expect(try ConfigParser.parse(written) == config)
        #expect(throws: ConfigError.self) { try ConfigParser.parse(yaml.replacingOccurrences(of: "debugLogging: true", with: "debugLogging: loud")) }
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

@Suite struct ConfigBadInputTests {
    @Test(arguments: badInputs + ruleBadInputs)
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
