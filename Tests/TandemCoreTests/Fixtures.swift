import Foundation
import TandemCore

/// A Jira (left) ↔ qTest (right) defect integration, after the guide's examples (L7070–7115, L7626–7633).
enum Fixture {
    static let model: [ModelField] = [
        ModelField("Summary", .string),
        ModelField("Description", .richText),
        ModelField("Priority", .singleSelect, values: ["High", "Medium", "Low"]),
        ModelField("Status", .singleSelect, values: ["New", "In Progress", "Fixed", "Closed"]),
        ModelField("Assignee", .person),
        ModelField("Labels", .multiSelect, allowUnmapped: true),
        ModelField("Due", .date),
        ModelField("Estimate", .duration),
        ModelField("Points", .long),
        ModelField("Component", .singleSelect, values: ["Desktop", "Web"]),
    ]

    static let jiraPeople = PersonDirectory(
        [
            Person(id: "j1", username: "ada", email: "ada@example.com", displayName: "Ada"),
            Person(id: "j2", username: "bob", email: "bob@example.com"),
        ],
        fallback: Person(id: "j0", username: "tandem")
    )

    static let qtestPeople = PersonDirectory(
        [Person(id: "ada", username: "q-ada", email: "ADA@example.com", displayName: "Ada L."), Person(id: "q2", username: "bob")],
        fallback: Person(id: "q0", username: "tandem")
    )

    static let jiraWorkflow = try! TransitionGraph([
        Transition(from: "Open", to: "In Progress", name: "Start"),
        Transition(from: "In Progress", to: "Resolved", name: "Resolve"),
        Transition(from: "Resolved", to: "Closed", name: "Close"),
        Transition(from: "Resolved", to: "Open", name: "Reopen"),
        Transition(from: "Closed", to: "Open", name: "Reopen closed"),
    ])

    static var jira: CollectionRules {
        CollectionRules(
            projects: ["PROJ", "OPS"],
            fields: [
                FieldMapping("summary", .string, to: "Summary"),
                FieldMapping("description", .richText, to: "Description", markup: .markdown),
                FieldMapping(
                    "priority", .singleSelect, to: "Priority",
                    valueMap: ValueMap(
                        toModel: ["Highest": "High", "High": "High", "Medium": "Medium", "Low": "Low"], toRepository: ["High": "High"])
                ),
                FieldMapping(
                    "status", .singleSelect, to: "Status",
                    valueMap: ValueMap([("Open", "New"), ("In Progress", "In Progress"), ("Resolved", "Fixed"), ("Closed", "Closed")])
                ),
                FieldMapping("assignee", .person, to: "Assignee"),
                FieldMapping("labels", .multiSelect, to: "Labels"),
                FieldMapping("duedate", .date, to: "Due"),
                FieldMapping(
                    "timeestimate", .long, to: "Estimate", toModel: .convert(.longToDuration(.seconds)),
                    toRepository: .convert(.durationToLong(.seconds))),
                FieldMapping("points", .double, to: "Points", toModel: .convert(.doubleToLong), toRepository: .convert(.longToDouble)),
                FieldMapping("component", .singleSelect, to: "Component", toModel: .none, toRepository: .constant(.select("Desktop"))),
            ],
            transitions: ["status": jiraWorkflow],
            people: jiraPeople,
            canImpersonate: true,
            commentMarkup: .markdown
        )
    }

    static var qtest: CollectionRules {
        CollectionRules(
            projects: ["QA", "QB"],
            fields: [
                FieldMapping("name", .string, to: "Summary"),
                FieldMapping("description", .richText, to: "Description", markup: .html),
                FieldMapping("priority", .singleSelect, to: "Priority"),
                FieldMapping("status", .singleSelect, to: "Status"),
                FieldMapping("owner", .person, to: "Assignee"),
                FieldMapping(
                    "tags", .string, to: "Labels", toModel: .convert(.stringToMultiSelect(separator: ",")),
                    toRepository: .convert(.multiSelectToString(separator: ","))),
                FieldMapping("due", .date, to: "Due"),
                FieldMapping("estimate", .duration, to: "Estimate"),
                FieldMapping("points", .long, to: "Points"),
            ],
            people: qtestPeople,
            canImpersonate: false,
            commentMarkup: .html
        )
    }

    /// The guide's field-by-field example: Jira dominates Priority and Status, qTest Summary and Description.
    static let guideConflicts = ConflictPolicy(
        .error, perField: ["Priority": .leftDominates, "Status": .leftDominates, "Summary": .rightDominates, "Description": .rightDominates]
    )

    static func rules(
        creation: CreationFlow = .twoWay, flows: [String: FieldFlow] = [:], conditional: [ConditionalFieldFlow] = [],
        filter: ArtifactFilter? = nil, routes: [Route]? = nil, conflicts: ConflictPolicy = guideConflicts,
        comments: CommentFlow = CommentFlow(), attachments: AttachmentFlow = AttachmentFlow(maximumBytes: 1_000, excludedTypes: ["exe"]),
        twinless: TwinlessUpdate = TwinlessUpdate()
    ) -> IntegrationRules {
        IntegrationRules(
            model: model, left: jira, right: qtest, creationFlow: creation, fieldFlows: flows, conditionalFieldFlows: conditional,
            filter: filter,
            routes: routes ?? [
                .fixed(from: .left, sourceProjects: ["PROJ"], targetProject: "QA"),
                .fixed(from: .right, sourceProjects: ["QA"], targetProject: "PROJ"),
            ],
            conflicts: conflicts, comments: comments, attachments: attachments, twinless: twinless
        )
    }

    static func synchronizer(_ rules: IntegrationRules = rules()) -> Synchronizer { try! Synchronizer(rules) }

    static func jiraIssue(
        summary: String = "Login fails", priority: String = "High", status: String = "Open", project: String = "PROJ",
        comments: [Comment] = [], attachments: [Attachment] = [], extra: [String: FieldValue] = [:]
    ) -> Artifact {
        var fields: [String: FieldValue] = [
            "summary": .string(summary),
            "description": .richText("Steps: **click** login", markup: .markdown),
            "priority": .select(priority),
            "status": .select(status),
            "assignee": .person(Person(id: "j1", username: "ada", email: "ada@example.com", displayName: "Ada")),
            "labels": .multiSelect(["ui", "auth"]),
            "duedate": .date(LocalDate(year: 2024, month: 5, day: 3)),
            "timeestimate": .long(7_200),
            "points": .double(3),
            "component": .select("Desktop"),
        ]
        fields.merge(extra) { $1 }
        return Artifact(id: "PROJ-1", project: project, fields: fields, comments: comments, attachments: attachments, summary: summary)
    }

    /// The qTest defect as Tandem would have created it from `jiraIssue()`.
    static func qtestDefect(summary: String = "Login fails", priority: String = "High", status: String = "New", project: String = "QA") -> Artifact {
        Artifact(
            id: "D-7", project: project,
            fields: [
                "name": .string(summary),
                "description": .richText("Steps: <strong>click</strong> login", markup: .html),
                "priority": .select(priority),
                "status": .select(status),
                "owner": .person(Person(id: "ada", username: "q-ada", email: "ADA@example.com", displayName: "Ada L.")),
                "tags": .string("ui,auth"),
                "due": .date(LocalDate(year: 2024, month: 5, day: 3)),
                "estimate": .duration(7_200),
                "points": .long(3),
            ],
            summary: summary
        )
    }

    /// A pair synchronised from `jiraIssue()` and `qtestDefect()`, with both snapshots taken from them.
    static func syncedPair(_ sync: Synchronizer, left: Artifact = jiraIssue(), right: Artifact = qtestDefect()) -> ArtifactPair {
        ArtifactPair(
            leftID: left.id, rightID: right.id,
            left: SideState(synced: try! sync.modelValues(of: left, on: .left)),
            right: SideState(synced: try! sync.modelValues(of: right, on: .right))
        )
    }
}

extension SyncDecision {
    /// The field writes of a create, update or twinless decision, by repository field.
    var writes: [String: FieldValue] {
        switch self.action {
        case .create(let plan): Dictionary(uniqueKeysWithValues: plan.fields.map { ($0.repositoryField, $0.value) })
        case .update(let plan): Dictionary(uniqueKeysWithValues: plan.fields.map { ($0.repositoryField, $0.value) })
        case .noLongerEligible(let plan): Dictionary(uniqueKeysWithValues: plan.fields.map { ($0.repositoryField, $0.value) })
        case .nothing, .conflict: [:]
        }
    }

    var reasonKinds: [Reason.Kind] { self.reasons.map(\.kind) }
}
