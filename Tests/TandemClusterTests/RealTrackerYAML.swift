import Foundation
import TandemConfig
import Testing

/// The configuration the real-tracker end-to-end tests share: the real Redmine (`Ops/trackers/up.sh`) as a repository,
/// the Defect model, and Redmine bugs as a collection of it. Each is YAML at the top level's indentation, for a line of
/// its own in a test's configuration.
enum RealTrackerYAML {
    static let environment = ProcessInfo.processInfo.environment

    /// The `redmine` repository, written at any rate the test needs.
    static let redmineRepository = """
          - name: redmine
            type: redmine
            url: \(environment["TANDEM_REDMINE_URL"] ?? "")
            auth:
              kind: api-key
              key: ${TANDEM_SECRET_REDMINE_API_KEY}
              header: X-Redmine-API-Key
            eventRateLimit:
              eventsPerMinute: 100000
            options:
              markerField: "\(environment["TANDEM_REDMINE_MARKER_FIELD"] ?? "1")"
        """

    /// Title, description, and status and priority in four values each; with `assignee`, an assignee too.
    static func defectModel(assignee: Bool = false) -> String {
        Self.defect + (assignee ? "\n" + Self.assigneeField : "")
    }

    static let assigneeField = """
              - name: assignee
                type: person
        """

    static let defect = """
          - name: Defect
            fields:
              - name: title
                type: string
                required: true
              - name: description
                type: rich-text
              - name: status
                type: single-select
                values: [New, In Progress, Resolved, Closed]
              - name: priority
                type: single-select
                values: [Low, Normal, High, Urgent]
        """

    /// `redmine-bugs`: the project's bugs as Defects, Redmine's statuses and priorities mapped onto the model's; with
    /// `assignee`, Redmine's assignee as the model's.
    static func redmineBugs(project: String, assignee: Bool = false) -> String {
        let collection = """
              - name: redmine-bugs
                repository: redmine
                artifactType: Bug  # a tracker by name (resolved to its id)
                projects: ["\(project)"]
                model: Defect
                fields:
                  - field: subject
                    modelField: title
                  - field: description
                    modelField: description
                  - field: status
                    modelField: status
                    valueMap:
                      - repository: New
                        model: New
                      - repository: [In Progress, Feedback]
                        model: In Progress
                      - repository: Resolved
                        model: Resolved
                      - repository: [Closed, Rejected]
                        model: Closed
                  - field: priority
                    modelField: priority
                    valueMap:
                      - repository: Low
                        model: Low
                      - repository: Normal
                        model: Normal
                      - repository: High
                        model: High
                      - repository: [Urgent, Immediate]
                        model: Urgent
            """
        let mapping = """
                  - field: assigned_to
                    modelField: assignee
            """
        return collection + (assignee ? "\n" + mapping : "")
    }
}

/// The shared parts make configurations that parse as written (a test that needs the trackers would otherwise find a
/// mistake in them only after minutes of setup).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["TANDEM_REDMINE_URL"] != nil, "needs the real Redmine's settings"))
struct RealTrackerYAMLTests {
    @Test func theRealTrackerConfigurationsParse() throws {
        for yaml in [
            RealTrackerEndToEndTests.yaml(redmineProject: "p1", tag: "t1"),
            JiraRedmineProcessTests.yaml(jiraURL: "http://127.0.0.1:1/jira/s", redmineProject: "p1"),
        ] {
            let configuration = try ConfigParser.parse(yaml, file: "tandem.yaml")
            let collection = try #require(configuration.collections.first { $0.name == "redmine-bugs" })
            #expect(collection.projects == ["p1"] && collection.fields.count >= 4)
            #expect(configuration.repositories.first { $0.name == "redmine" }?.options["markerField"] != nil)
        }
        let jira = try ConfigParser.parse(JiraRedmineProcessTests.yaml(jiraURL: "http://127.0.0.1:1/jira/s", redmineProject: "p1"), file: "j.yaml")
        #expect(jira.collections.allSatisfy { $0.fields.contains { $0.modelField == "assignee" } }, "both sides map the assignee")
    }
}
