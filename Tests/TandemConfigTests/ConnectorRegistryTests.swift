import Foundation
import TandemConfig
import TandemConnectors
import Testing

/// The connector registry is the one place a tool is declared: the configuration's `type` and `options` are checked
/// against it, and the documentation's table of tools is printed from it (issue 15 §1).
@Suite struct ConnectorRegistryTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func repositoryYAML(type: String, options: String = "") -> String {
        """
        version: 1
        repositories:
          - name: tracker
            type: \(type)
            url: http://127.0.0.1:3000
        \(options)
        """
    }

    func issues(_ yaml: String) -> [ConfigIssue] {
        do {
            _ = try ConfigParser.parse(yaml, file: "tandem.yaml")
            return []
        } catch {
            return error.issues
        }
    }

    @Test func kindsAndAPINumbersAreUnique() {
        let kinds = ConnectorRegistry.all.map(\.kind.rawValue)
        #expect(Set(kinds).count == kinds.count)
        let numbers = ConnectorRegistry.all.map(\.apiConnectorNumber)
        #expect(Set(numbers).count == numbers.count && !numbers.contains(0))
        #expect(ConnectorKind.allCases.map(\.rawValue) == kinds)
        #expect(ConnectorKind(rawValue: "redmine") == .redmine && ConnectorKind(rawValue: "no-such-tool") == nil)
        for registration in ConnectorRegistry.all {
            let names = registration.allOptions.map(\.name)
            #expect(Set(names).count == names.count, "\(registration.kind) declares an option twice")
        }
    }

    @Test func aToolWithoutAConnectorIsRefusedNamingThoseThatHaveOne() {
        let found = self.issues(self.repositoryYAML(type: "no-such-tool"))
        let issue = found.first { $0.path == "repositories[0].type" }
        #expect(issue != nil, "\(found)")
        #expect(issue?.line == 4 && issue?.file == "tandem.yaml")
        #expect(issue.map { $0.reason.contains("redmine") && $0.reason.contains("roundup") } == true, "\(String(describing: issue))")
    }

    @Test func anUnknownOptionIsRefusedWithTheToolsOptions() {
        let found = self.issues(self.repositoryYAML(type: "redmine", options: "    options:\n      markerFeild: \"3\""))
        let issue = found.first { $0.path == "repositories[0].options.markerFeild" }
        #expect(issue?.kind == .unknownKey, "\(found)")
        #expect(
            issue?.reason
                == "Redmine has no option 'markerFeild' (its options: connectionProject, markerField, syncFrequency, textFormatting, trackerProject)")
        // Another tool does not have Redmine's options.
        let roundup = self.issues(self.repositoryYAML(type: "roundup", options: "    options:\n      textFormatting: textile"))
        #expect(roundup.contains { $0.path == "repositories[0].options.textFormatting" && $0.kind == .unknownKey }, "\(roundup)")
    }

    @Test func anUnknownJiraOptionIsRefusedWithJirasOptions() {
        let found = self.issues(self.repositoryYAML(type: "jira", options: "    options:\n      flavor: cloud\n      flavour: server"))
        let unknown = found.first { $0.path == "repositories[0].options.flavor" }
        #expect(unknown?.kind == .unknownKey, "\(found)")
        #expect(
            unknown?.reason
                == "Jira has no option 'flavor' (its options: connectionProject, flavour, linkField, lookbackMinutes, markerProperty, "
                + "maxTransitionHops, syncFrequency, trackerProject, transitionFields)")
        let wrong = found.first { $0.path == "repositories[0].options.flavour" }
        #expect(wrong?.reason.contains("'server' is not one of auto, cloud, datacenter") == true, "\(found)")
        #expect(
            self.issues(self.repositoryYAML(type: "jira", options: "    options:\n      flavour: datacenter\n      lookbackMinutes: \"5\"")).isEmpty)
    }

    @Test(arguments: [
        ("resolution", "'resolution' is not name=value"),
        ("resolution=Done,", "an empty pair (two commas, or one at an end)"),
        ("resolution=Done, =Fixed", "'=Fixed' is not name=value"),
        ("resolution= ", "'resolution=' is not name=value"),
    ])
    func jirasTransitionFieldsAreCheckedAtApply(_ value: String, _ reason: String) {
        let found = self.issues(self.repositoryYAML(type: "jira", options: "    options:\n      transitionFields: \"\(value)\""))
        let issue = found.first { $0.path == "repositories[0].options.transitionFields" }
        #expect(issue?.kind == .invalidValue && issue?.reason == reason, "\(found)")
    }

    @Test(arguments: [
        ("markerField", "three", "'three' is not a whole number"),
        ("markerField", "0", "0 is outside 1…2147483647"),
        ("textFormatting", "html", "'html' is not one of common_mark, markdown, textile, none"),
        ("syncFrequency", "often", "'often' is not one of hourly, daily, weekly, monthly, manually"),
        ("connectionProject", "-1", "-1 is outside 0…2147483647"),
    ])
    func optionValuesAreCheckedByType(_ name: String, _ value: String, _ reason: String) {
        let found = self.issues(self.repositoryYAML(type: "redmine", options: "    options:\n      \(name): \"\(value)\""))
        let issue = found.first { $0.path == "repositories[0].options.\(name)" }
        #expect(issue?.kind == .invalidValue && issue?.reason == reason, "\(found)")
    }

    @Test func validOptionsPass() {
        let yaml = self.repositoryYAML(
            type: "redmine", options: "    options:\n      markerField: \"3\"\n      textFormatting: common_mark\n      syncFrequency: daily")
        #expect(self.issues(yaml).isEmpty)
    }

    @Test func theCommonFrequencyOptionOffersEveryFrequency() {
        let option = ConnectorOption.common.first { $0.name == SyncFrequency.optionKey }
        #expect(option?.type == .choice(SyncFrequency.allCases.map(\.rawValue)))
    }

    @Test func aRepositoryInheritsItsToolsLimitsUnlessItSetsItsOwn() {
        var settings = Settings()
        settings.eventRateLimit = EventRateLimit(eventsPerMinute: 120, scope: .all)
        var repository = RepositoryConfig(name: "r", kind: .redmine, url: "http://127.0.0.1")
        let tool = ConnectorKind.redmine.registration.defaultLimits
        #expect(repository.effectiveEventRateLimit(settings).eventsPerMinute == min(tool.eventsPerMinute ?? 120, 120))
        #expect(repository.effectiveConcurrencyLimit == tool.concurrency)
        repository.eventRateLimit = EventRateLimit(eventsPerMinute: 7)
        repository.concurrencyLimit = 3
        #expect(repository.effectiveEventRateLimit(settings).eventsPerMinute == 7 && repository.effectiveConcurrencyLimit == 3)
    }

    @Test func theDocumentationShowsTheRegistry() throws {
        let doc = try String(contentsOf: Self.root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        let begin = try #require(doc.range(of: "<!-- tools:begin -->\n"))
        let end = try #require(doc.range(of: "<!-- tools:end -->"))
        #expect(
            String(doc[begin.upperBound..<end.lowerBound]) == ConnectorRegistry.markdownReference(),
            "docs/configuration.md's Tools table differs from the registry: run `tandem connectors --markdown` and paste it between the marks")
    }
}
