import Foundation
import HTTP

/// A site's fixed configuration: projects, issue types, priorities, statuses and the workflow, resolutions, users and
/// fields (system and custom), with ids as Jira numbers them.
struct JiraCatalog: Sendable {
    struct Project: Sendable {
        var id: Int
        var key: String
        var name: String
    }

    struct IssueType: Sendable {
        var id: String
        var name: String
        var description: String
        var hierarchyLevel: Int
    }

    struct Status: Sendable {
        var id: String
        var name: String
        /// `new`, `indeterminate` or `done`.
        var category: String
    }

    struct Transition: Sendable {
        var id: String
        var name: String
        var from: [String]
        var to: String
        /// The transition's screen requires `resolution` (the one into Done).
        var requiresResolution: Bool
    }

    struct User: Sendable {
        var accountID: String
        var name: String
        var key: String
        var displayName: String
        var email: String
    }

    /// How a field's value is given and stored.
    enum Kind: Sendable {
        case text, richText, option, options, number, date, labels, user, priority, readOnly, issueType, project
    }

    struct Field: Sendable {
        var id: String
        var name: String
        var kind: Kind
        var schema: JSONValue
        var options: [(id: String, value: String)] = []
        var custom: Bool { self.id.hasPrefix("customfield_") }
        /// Settable on create and edit screens.
        var editable: Bool { ![.readOnly, .project].contains(self.kind) }
    }

    var projects: [Project] = [
        Project(id: 10000, key: "DEMO", name: "Demo"), Project(id: 10001, key: "LEFT", name: "Left"),
        Project(id: 10002, key: "RIGHT", name: "Right"),
    ]
    var issueTypes: [IssueType] = [
        IssueType(id: "10001", name: "Task", description: "A small, distinct piece of work.", hierarchyLevel: 0),
        IssueType(id: "10002", name: "Bug", description: "A problem or error.", hierarchyLevel: 0),
        IssueType(id: "10003", name: "Story", description: "A feature expressed as a user goal.", hierarchyLevel: 0),
        IssueType(id: "10004", name: "Epic", description: "A collection of related bugs, stories, and tasks.", hierarchyLevel: 1),
    ]
    var priorities: [(id: String, name: String, color: String)] = [
        ("1", "Highest", "#d04437"), ("2", "High", "#f15C75"), ("3", "Medium", "#f79232"), ("4", "Low", "#707070"), ("5", "Lowest", "#999999"),
    ]
    var statuses: [Status] = [
        Status(id: "10000", name: "To Do", category: "new"), Status(id: "3", name: "In Progress", category: "indeterminate"),
        Status(id: "10001", name: "In Review", category: "indeterminate"), Status(id: "10002", name: "Done", category: "done"),
    ]
    var transitions: [Transition] = [
        Transition(id: "21", name: "Start progress", from: ["10000"], to: "3", requiresResolution: false),
        Transition(id: "31", name: "Request review", from: ["3"], to: "10001", requiresResolution: false),
        Transition(id: "41", name: "Done", from: ["10001"], to: "10002", requiresResolution: true),
        Transition(id: "51", name: "Stop progress", from: ["3"], to: "10000", requiresResolution: false),
        Transition(id: "61", name: "Back to progress", from: ["10001"], to: "3", requiresResolution: false),
        Transition(id: "71", name: "Reopen", from: ["10002"], to: "10000", requiresResolution: false),
    ]
    var resolutions: [(id: String, name: String, description: String)] = [
        ("10000", "Done", "Work has been completed on this issue."), ("10001", "Won't Do", "This issue won't be actioned."),
        ("10002", "Duplicate", "The problem is a duplicate of an existing issue."),
    ]
    var users: [User] = [
        User(accountID: "5b10a2844c20165700ede21g", name: "tandem", key: "JIRAUSER10000", displayName: "Tandem Sync", email: "tandem@example.com"),
        User(accountID: "5b10ac8d82e05b22cc7d4ef5", name: "mia", key: "JIRAUSER10100", displayName: "Mia Krystof", email: "mia@example.com"),
        User(accountID: "5b109f2e9729b51b54dc274d", name: "ada", key: "JIRAUSER10101", displayName: "Ada Lovelace", email: "ada@example.com"),
    ]
    var fields: [Field]
    let initialStatus = "10000"

    init(flavour: JiraFlavour) {
        func system(_ type: String, _ system: String, items: String? = nil) -> JSONValue {
            var schema: [String: JSONValue] = ["type": .string(type), "system": .string(system)]
            if let items { schema["items"] = .string(items) }
            return .object(schema)
        }
        func custom(_ type: String, _ plugin: String, _ id: Int, items: String? = nil) -> JSONValue {
            var schema: [String: JSONValue] = [
                "type": .string(type), "custom": .string("com.atlassian.jira.plugin.system.customfieldtypes:\(plugin)"),
                "customId": .number(Double(id)),
            ]
            if let items { schema["items"] = .string(items) }
            return .object(schema)
        }
        self.fields = [
            Field(id: "summary", name: "Summary", kind: .text, schema: system("string", "summary")),
            Field(id: "description", name: "Description", kind: .richText, schema: system("string", "description")),
            Field(id: "issuetype", name: "Issue Type", kind: .issueType, schema: system("issuetype", "issuetype")),
            Field(id: "project", name: "Project", kind: .project, schema: system("project", "project")),
            Field(id: "status", name: "Status", kind: .readOnly, schema: system("status", "status")),
            Field(id: "priority", name: "Priority", kind: .priority, schema: system("priority", "priority")),
            Field(id: "labels", name: "Labels", kind: .labels, schema: system("array", "labels", items: "string")),
            Field(id: "assignee", name: "Assignee", kind: .user, schema: system("user", "assignee")),
            Field(id: "reporter", name: "Reporter", kind: .user, schema: system("user", "reporter")),
            Field(id: "creator", name: "Creator", kind: .readOnly, schema: system("user", "creator")),
            Field(id: "created", name: "Created", kind: .readOnly, schema: system("datetime", "created")),
            Field(id: "updated", name: "Updated", kind: .readOnly, schema: system("datetime", "updated")),
            Field(id: "resolution", name: "Resolution", kind: .readOnly, schema: system("resolution", "resolution")),
            Field(id: "resolutiondate", name: "Resolved", kind: .readOnly, schema: system("datetime", "resolutiondate")),
            Field(id: "duedate", name: "Due date", kind: .date, schema: system("date", "duedate")),
            Field(id: "comment", name: "Comment", kind: .readOnly, schema: system("comments-page", "comment")),
            Field(id: "attachment", name: "Attachment", kind: .readOnly, schema: system("array", "attachment", items: "attachment")),
            // Two custom fields with the same name: a connector must tell them apart by id.
            Field(id: "customfield_10020", name: "Environment", kind: .richText, schema: custom("string", "textarea", 10020)),
            Field(id: "customfield_10021", name: "Environment", kind: .text, schema: custom("string", "textfield", 10021)),
            Field(
                id: "customfield_10030", name: "Severity", kind: .option, schema: custom("option", "select", 10030),
                options: [("10100", "Critical"), ("10101", "Major"), ("10102", "Minor")]),
            Field(
                id: "customfield_10031", name: "Affected Areas", kind: .options, schema: custom("array", "multiselect", 10031, items: "option"),
                options: [("10110", "Backend"), ("10111", "Frontend"), ("10112", "Docs")]),
            Field(id: "customfield_10032", name: "Story Points", kind: .number, schema: custom("number", "float", 10032)),
            Field(id: "customfield_10033", name: "Target Date", kind: .date, schema: custom("date", "datepicker", 10033)),
            Field(id: "customfield_10034", name: "Tags", kind: .labels, schema: custom("array", "labels", 10034, items: "string")),
            Field(id: "customfield_10035", name: "Reviewer", kind: .user, schema: custom("user", "userpicker", 10035)),
        ]
        if flavour == .dataCenter {
            self.users = self.users.map { user in
                var user = user
                user.accountID = user.name
                return user
            }
        }
    }

    func field(_ id: String) -> Field? { self.fields.first { $0.id == id } }
    func project(_ keyOrID: String) -> Project? { self.projects.first { $0.key == keyOrID.uppercased() || String($0.id) == keyOrID } }
    func issueType(_ id: String) -> IssueType? { self.issueTypes.first { $0.id == id } }
    func status(_ id: String) -> Status { self.statuses.first { $0.id == id } ?? self.statuses[0] }
    /// A user by `accountId` (Cloud), `name` or `key` (Data Center).
    func user(_ id: String) -> User? { self.users.first { $0.accountID == id || $0.name == id || $0.key == id } }
    var apiUser: User { self.users[0] }
}
