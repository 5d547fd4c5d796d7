import Foundation
import TandemCore
import Testing

@Suite("Decisions: creation, routing, filtering")
struct CreationTests {
    let sync = Fixture.synchronizer()

    @Test func createsRoutedTwinWithMappedValues() throws {
        let d = try sync.decide(SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue()))
        guard case .create(let plan) = d.action else {
            Issue.record("expected create, got \(d.action.name)")
            return
        }
        #expect(plan.project == "QA")
        #expect(d.writes["name"] == .string("Login fails"))
        #expect(d.writes["description"] == .richText("Steps: <strong>click</strong> login", markup: .html))
        #expect(d.writes["priority"] == .select("High"))
        #expect(d.writes["status"] == .select("New"))
        // Person reconciliation: Jira's username "ada" matches no qTest username, but matches qTest's ID "ada".
        #expect(d.writes["owner"] == .person(Person(id: "ada", username: "q-ada", email: "ADA@example.com", displayName: "Ada L.")))
        #expect(d.writes["tags"] == .string("ui,auth"))
        #expect(d.writes["estimate"] == .duration(7_200))
        #expect(d.writes["points"] == .long(3))
        #expect(d.reasonKinds.contains(.routed))
    }

    @Test func createsOnTheLeftWithStatusThroughTransitionsAndConstants() throws {
        let d = try sync.decide(SyncInput(source: .right, sourceArtifact: Fixture.qtestDefect(status: "Fixed")))
        guard case .create(let plan) = d.action else {
            Issue.record("expected create")
            return
        }
        #expect(plan.project == "PROJ")
        #expect(plan.statuses == ["status": "Resolved"])
        #expect(d.writes["component"] == .select("Desktop"))
        #expect(d.writes["status"] == nil)
        #expect(d.writes["timeestimate"] == .long(7_200))
        #expect(d.writes["points"] == .double(3))
    }

    struct CreationCase: Sendable, CustomTestStringConvertible {
        var flow: CreationFlow
        var source: Side
        var creates: Bool
        var testDescription: String { "\(self.flow) from \(self.source)" }
    }

    /// Guide L7019–7038: one-way creation from Jira creates in ServiceNow, never the other way.
    @Test(arguments: [
        CreationCase(flow: .twoWay, source: .left, creates: true),
        CreationCase(flow: .twoWay, source: .right, creates: true),
        CreationCase(flow: .oneWay(from: .left), source: .left, creates: true),
        CreationCase(flow: .oneWay(from: .left), source: .right, creates: false),
        CreationCase(flow: .oneWay(from: .right), source: .left, creates: false),
        CreationCase(flow: .none, source: .left, creates: false),
    ])
    func creationFlow(_ c: CreationCase) throws {
        let sync = Fixture.synchronizer(Fixture.rules(creation: c.flow))
        let artifact = c.source == .left ? Fixture.jiraIssue() : Fixture.qtestDefect()
        let d = try sync.decide(SyncInput(source: c.source, sourceArtifact: artifact))
        #expect((d.action.name == "create") == c.creates)
        if !c.creates { #expect(d.reasonKinds == [.creationFlowClosed]) }
    }

    @Test func unroutedProjectCreatesNothing() throws {
        let d = try sync.decide(SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue(project: "OPS")))
        #expect(d.action == .nothing)
        #expect(d.reasonKinds == [.notRouted])
    }

    struct RouteCase: Sendable, CustomTestStringConvertible {
        var priority: String
        var fallback: RouteFallback
        var expected: String?
        var fails = false
        var testDescription: String { "\(self.priority) with \(self.fallback)" }
    }

    /// Guide L7254–7296: conditional routes on a single-select field, with a fallback.
    @Test(arguments: [
        RouteCase(priority: "High", fallback: .error, expected: "QA"),
        RouteCase(priority: "Highest", fallback: .error, expected: "QA"),
        RouteCase(priority: "Medium", fallback: .error, expected: "QB"),
        RouteCase(priority: "Low", fallback: .error, expected: nil, fails: true),
        RouteCase(priority: "Low", fallback: .ignore, expected: nil),
        RouteCase(priority: "Low", fallback: .defaultProject("QB"), expected: "QB"),
    ])
    func conditionalRouting(_ c: RouteCase) throws {
        let route = Route.conditional(
            from: .left, sourceProjects: ["PROJ"], field: "Priority", targets: ["QA": ["High"], "QB": ["Medium"]], fallback: c.fallback)
        let sync = Fixture.synchronizer(Fixture.rules(routes: [route]))
        let input = SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue(priority: c.priority))
        if c.fails {
            #expect(
                throws: SyncError(.noConditionalRoute, subject: "project 'PROJ'", reason: "value 'Low' of 'Priority' matches no conditional route")
            ) {
                try sync.decide(input)
            }
            return
        }
        let d = try sync.decide(input)
        if case .create(let plan) = d.action { #expect(plan.project == c.expected) } else { #expect(c.expected == nil) }
    }

    struct FilterCase: Sendable, CustomTestStringConvertible {
        var name: String
        var expression: FilterExpression
        var passes: Bool
        var testDescription: String { self.name }
    }

    /// The nine filterable types (guide L7326–7344), and the guide's example "created on or after 24 Oct 2016".
    @Test(arguments: [
        FilterCase(name: "single-select equals", expression: .condition(FilterCondition("Priority", .equals(.select("High")))), passes: true),
        FilterCase(
            name: "single-select one of", expression: .condition(FilterCondition("Priority", .oneOf([.select("Low"), .select("Medium")]))),
            passes: false),
        FilterCase(name: "multi-select contains", expression: .condition(FilterCondition("Labels", .contains("auth"))), passes: true),
        FilterCase(
            name: "date at least", expression: .condition(FilterCondition("Due", .atLeast(.date(LocalDate(year: 2016, month: 10, day: 24))))),
            passes: true),
        FilterCase(
            name: "date at most", expression: .condition(FilterCondition("Due", .atMost(.date(LocalDate(year: 2016, month: 10, day: 24))))),
            passes: false),
        FilterCase(name: "duration at least", expression: .condition(FilterCondition("Estimate", .atLeast(.duration(3_600)))), passes: true),
        FilterCase(name: "long at most", expression: .condition(FilterCondition("Points", .atMost(.long(2)))), passes: false),
        FilterCase(name: "long vs double", expression: .condition(FilterCondition("Points", .equals(.double(3)))), passes: true),
        FilterCase(name: "string contains", expression: .condition(FilterCondition("Summary", .contains("LOGIN"))), passes: true),
        FilterCase(name: "string not equals", expression: .condition(FilterCondition("Summary", .notEquals(.string("x")))), passes: true),
        FilterCase(name: "string at least", expression: .condition(FilterCondition("Summary", .atLeast(.string("M")))), passes: false),
        FilterCase(name: "empty", expression: .condition(FilterCondition("Summary", .isEmpty)), passes: false),
        FilterCase(name: "not empty", expression: .condition(FilterCondition("Summary", .isNotEmpty)), passes: true),
        FilterCase(name: "incomparable", expression: .condition(FilterCondition("Summary", .atLeast(.long(1)))), passes: false),
        FilterCase(
            name: "any of",
            expression: .any([
                .condition(FilterCondition("Priority", .equals(.select("Low")))), .condition(FilterCondition("Points", .equals(.long(3)))),
            ]),
            passes: true
        ),
        FilterCase(name: "not", expression: .not(.condition(FilterCondition("Priority", .equals(.select("High"))))), passes: false),
        FilterCase(name: "all", expression: .all([.condition(FilterCondition("Points", .atLeast(.double(2.5))))]), passes: true),
    ])
    func filtering(_ c: FilterCase) throws {
        let sync = Fixture.synchronizer(Fixture.rules(filter: ArtifactFilter([FilterStatement(.bothCollections, c.expression)])))
        let d = try sync.decide(SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue()))
        #expect((d.action.name == "create") == c.passes)
        if !c.passes { #expect(d.reasonKinds == [.filteredOut]) }
    }

    @Test func filterStatementsApplyToTheirTargets() throws {
        let high = FilterExpression.condition(FilterCondition("Priority", .equals(.select("Low"))))
        for (target, creates) in [(FilterTarget.collection(.right), true), (.projects(.left, ["OPS"]), true), (.projects(.left, ["PROJ"]), false)] {
            let sync = Fixture.synchronizer(Fixture.rules(filter: ArtifactFilter([FilterStatement(target, high)])))
            #expect(try sync.decide(SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue())).action.name == (creates ? "create" : "nothing"))
        }
    }

    /// Guide L7354–7365 and L7803–7855: creation-and-update scope makes a pair that stops matching twinless;
    /// creation-only keeps it synchronising.
    @Test(arguments: [FilterScope.creationAndUpdate, .creationOnly])
    func filterScope(_ scope: FilterScope) throws {
        let filter = ArtifactFilter(
            scope: scope, [FilterStatement(.bothCollections, .condition(FilterCondition("Priority", .equals(.select("High")))))])
        let twinless = TwinlessUpdate(fields: [.right: ["Status": .select("Closed")]], comment: [.right: "No longer synchronised with Jira."])
        let sync = Fixture.synchronizer(Fixture.rules(filter: filter, twinless: twinless))
        let pair = Fixture.syncedPair(sync)
        let input = SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue(priority: "Low"), targetArtifact: Fixture.qtestDefect(), pair: pair)
        let d = try sync.decide(input)
        switch scope {
        case .creationAndUpdate:
            #expect(
                d.action
                    == .noLongerEligible(
                        TwinlessPlan(
                            fields: [FieldWrite(repositoryField: "status", modelField: "Status", value: .select("Closed"))],
                            comment: "No longer synchronised with Jira.",
                            // The change that made it leave (priority Low) still reaches the twin (issue 13).
                            final: UpdatePlan(
                                fields: [FieldWrite(repositoryField: "priority", modelField: "Priority", value: .select("Low"))], transitions: [],
                                comments: [], attachments: [], reentered: false))))
            let (after, ledger) = try sync.record(d, for: input)
            #expect(after.eligible == false)
            #expect(ledger.right["status"] == .select("Closed"))
            #expect(ledger.right["priority"] == .select("Low"))
            #expect(after.right.synced["Priority"] == .select("Low"), "the last change is recorded as synced")
            // Still out: nothing more. Back in: every field is synchronised again.
            var again = input
            again.pair = after
            #expect(try sync.decide(again).reasonKinds == [.stillIneligible])
            again.sourceArtifact = Fixture.jiraIssue(summary: "Back", priority: "High")
            let back = try sync.decide(again)
            guard case .update(let plan) = back.action else {
                Issue.record("expected update")
                return
            }
            #expect(plan.reentered)
            #expect(back.writes["name"] == .string("Back"))
        case .creationOnly:
            #expect(d.writes == ["priority": .select("Low")])
        }
    }

    /// Guide L7196–7205: "Process All Artifacts" re-synchronises every mapped field, changed or not.
    @Test func reprocessWritesEveryFieldThatDiffers() throws {
        let sync = Fixture.synchronizer()
        let pair = Fixture.syncedPair(sync)
        var input = SyncInput(
            source: .left, sourceArtifact: Fixture.jiraIssue(), targetArtifact: Fixture.qtestDefect(summary: "Edited by hand"), pair: pair)
        #expect(try sync.decide(input).action == .nothing)
        input.reprocess = true
        let d = try sync.decide(input)
        #expect(d.writes == ["name": .string("Login fails")])
        #expect(d.reasons.contains(Reason(.reprocessed, "Summary", "written to right")))
        // Already equal: nothing to write, even when reprocessing.
        input.targetArtifact = Fixture.qtestDefect()
        #expect(try sync.decide(input).writes.isEmpty)
    }

    /// Issue 13: with the filter `status not-equals Closed`, closing an issue made its pair ineligible before the close
    /// flowed, so the twin stayed open. The change that makes it leave still flows (guide L7786–7861), then it is twinless.
    @Test func closingReachesTheTwinThenThePairLeaves() throws {
        let filter = ArtifactFilter([FilterStatement(.bothCollections, .not(.condition(FilterCondition("Status", .equals(.select("Closed"))))))])
        let sync = Fixture.synchronizer(Fixture.rules(filter: filter))
        let input = SyncInput(
            source: .right, sourceArtifact: Fixture.qtestDefect(status: "Closed"), targetArtifact: Fixture.jiraIssue(), pair: Fixture.syncedPair(sync)
        )
        let d = try sync.decide(input)
        guard case .noLongerEligible(let plan) = d.action, let final = plan.final else {
            Issue.record("expected the last change with the twinless update: \(d)")
            return
        }
        #expect(final.transitions.map(\.to) == ["Closed"], "the twin is closed through its workflow: \(final)")
        #expect(d.reasonKinds.contains(.noLongerEligible))
        let (after, _) = try sync.record(d, for: input)
        #expect(!after.eligible)
        var again = input
        again.pair = after
        #expect(try sync.decide(again).reasonKinds == [.stillIneligible])
    }

    @Test func unroutedProjectOfAPairIsNoLongerEligible() throws {
        let sync = Fixture.synchronizer()
        let d = try sync.decide(
            SyncInput(
                source: .left, sourceArtifact: Fixture.jiraIssue(project: "OPS"), targetArtifact: Fixture.qtestDefect(),
                pair: Fixture.syncedPair(sync))
        )
        #expect(d.action == .noLongerEligible(TwinlessPlan(fields: [], comment: nil)))
    }

    @Test func missingTwinIsAnError() throws {
        let sync = Fixture.synchronizer()
        #expect(throws: SyncError(.targetArtifactRemoved, subject: "artifact 'D-7'", reason: "the right twin of 'PROJ-1' no longer exists")) {
            try sync.decide(SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue(), pair: Fixture.syncedPair(sync)))
        }
    }
}

@Suite("Decisions: field flow, conflicts, echoes, statuses")
struct UpdateTests {
    let sync = Fixture.synchronizer()

    func update(
        _ sync: Synchronizer? = nil, left: Artifact = Fixture.jiraIssue(), right: Artifact = Fixture.qtestDefect(), source: Side = .left,
        ledger: WriteLedger = WriteLedger()
    ) throws -> SyncDecision {
        let sync = sync ?? self.sync
        let pair = Fixture.syncedPair(sync)
        let (s, t) = source == .left ? (left, right) : (right, left)
        return try sync.decide(SyncInput(source: source, sourceArtifact: s, targetArtifact: t, pair: pair, ledger: ledger))
    }

    @Test func unchangedPairDoesNothing() throws {
        let d = try update()
        #expect(d.action == .nothing)
        #expect(d.reasonKinds == [.noChanges])
    }

    @Test func changedFieldFlows() throws {
        let pair = Fixture.syncedPair(sync)
        let d = try sync.decide(
            SyncInput(
                source: .left, sourceArtifact: Fixture.jiraIssue(summary: "Login fails on Safari"), targetArtifact: Fixture.qtestDefect(), pair: pair)
        )
        #expect(d.writes == ["name": .string("Login fails on Safari")])
    }

    struct FrequencyCase: Sendable, CustomTestStringConvertible {
        var frequency: FlowFrequency
        var changeSummary: Bool
        var changePoints: Bool
        var expected: [String: FieldValue]
        var testDescription: String { "\(self.frequency.rawValue) summary:\(self.changeSummary) points:\(self.changePoints)" }
    }

    /// Guide L7117–7141: the four frequencies, for the Summary field from Jira to qTest. The target was edited to
    /// "Old" earlier (by someone else, already synchronised), so "always update" rewrites it.
    @Test(arguments: [
        FrequencyCase(frequency: .updateNormally, changeSummary: true, changePoints: false, expected: ["name": .string("New title")]),
        FrequencyCase(frequency: .updateNormally, changeSummary: false, changePoints: true, expected: ["points": .long(5)]),
        FrequencyCase(
            frequency: .alwaysUpdate, changeSummary: false, changePoints: true, expected: ["points": .long(5), "name": .string("Login fails")]),
        FrequencyCase(frequency: .alwaysUpdate, changeSummary: false, changePoints: false, expected: [:]),
        FrequencyCase(frequency: .uponCreation, changeSummary: true, changePoints: false, expected: [:]),
        FrequencyCase(frequency: .noUpdate, changeSummary: true, changePoints: true, expected: ["points": .long(5)]),
    ])
    func frequencies(_ c: FrequencyCase) throws {
        let sync = Fixture.synchronizer(Fixture.rules(flows: ["Summary": FieldFlow(leftToRight: c.frequency, rightToLeft: .noUpdate)]))
        var right = Fixture.qtestDefect()
        right.fields["name"] = .string("Old")
        let pair = Fixture.syncedPair(sync, right: right)
        var left = Fixture.jiraIssue(summary: c.changeSummary ? "New title" : "Login fails")
        if c.changePoints { left.fields["points"] = .double(5) }
        let d = try sync.decide(SyncInput(source: .left, sourceArtifact: left, targetArtifact: right, pair: pair))
        #expect(d.writes == c.expected)
    }

    @Test func constantsAreWrittenWithOtherUpdates() throws {
        var right = Fixture.jiraIssue()
        right.fields["component"] = .select("Web")
        // From qTest to Jira: a changed summary brings the constant Component along (guide L7134–7141).
        let pair = Fixture.syncedPair(sync, left: right)
        let d = try sync.decide(SyncInput(source: .right, sourceArtifact: Fixture.qtestDefect(summary: "Renamed"), targetArtifact: right, pair: pair))
        #expect(d.writes == ["summary": .string("Renamed"), "component": .select("Desktop")])
        #expect(d.reasonKinds.contains(.constant))
    }

    /// Guide L7070–7115: ownership moves from Jira (New, In Progress) to qTest (Fixed); the first matching
    /// conditional field flow wins.
    @Test(arguments: [("In Progress", true), ("Fixed", false)])
    func conditionalFieldFlow(_ status: String, _ flows: Bool) throws {
        let supplierOwns = ConditionalFieldFlow(
            "supplier owns fixed defects", when: .condition(FilterCondition("Status", .equals(.select("Fixed")))),
            flows: ["Summary": FieldFlow(leftToRight: .noUpdate, rightToLeft: .updateNormally)]
        )
        let never = ConditionalFieldFlow(
            "never", when: .condition(FilterCondition("Status", .equals(.select("Fixed")))), flows: ["Summary": .bothWays])
        let sync = Fixture.synchronizer(Fixture.rules(conditional: [supplierOwns, never]))
        let jiraStatus = status == "Fixed" ? "Resolved" : status
        let left = Fixture.jiraIssue(summary: "Renamed", status: jiraStatus)
        let right = Fixture.qtestDefect(status: status)
        let pair = Fixture.syncedPair(sync, left: Fixture.jiraIssue(status: jiraStatus), right: right)
        let d = try sync.decide(SyncInput(source: .left, sourceArtifact: left, targetArtifact: right, pair: pair))
        #expect((d.writes["name"] != nil) == flows)
        #expect(
            d.reasons.contains(Reason(.conditionalFieldFlow, "supplier owns fixed defects", "the first matching conditional field flow")) == !flows)
    }

    struct ConflictCase: Sendable, CustomTestStringConvertible {
        var field: String
        var leftField: String
        var leftValue: FieldValue
        var rightField: String
        var rightValue: FieldValue
        var fromLeft: [String: FieldValue]
        var fromRight: [String: FieldValue]
        var testDescription: String { self.field }
    }

    /// Guide L7626–7633: Jira dominates Priority and Status, qTest dominates Summary and Description. Priority set to
    /// High in Jira and Low in qTest in one interval: qTest's Priority becomes High.
    @Test(arguments: [
        ConflictCase(
            field: "Priority", leftField: "priority", leftValue: .select("Medium"), rightField: "priority", rightValue: .select("Low"),
            fromLeft: ["priority": .select("Medium")], fromRight: [:]
        ),
        ConflictCase(
            field: "Summary", leftField: "summary", leftValue: .string("Jira title"), rightField: "name", rightValue: .string("qTest title"),
            fromLeft: [:], fromRight: ["summary": .string("qTest title")]
        ),
    ])
    func fieldByFieldDominance(_ c: ConflictCase) throws {
        var left = Fixture.jiraIssue()
        left.fields[c.leftField] = c.leftValue
        var right = Fixture.qtestDefect()
        right.fields[c.rightField] = c.rightValue
        let fromLeft = try update(left: left, right: right, source: .left)
        let fromRight = try update(left: left, right: right, source: .right)
        #expect(fromLeft.writes == c.fromLeft)
        #expect(fromRight.writes == c.fromRight)
        #expect(fromLeft.reasonKinds.contains(c.fromLeft.isEmpty ? .conflictLost : .conflictWon))
    }

    /// Guide L7584–7589, L7635–7637: an error-policy conflict on one field blocks every field of the pair, including
    /// fields whose policy dominates.
    @Test func errorConflictBlocksThePair() throws {
        var left = Fixture.jiraIssue(summary: "Jira title", priority: "Medium")
        left.fields["points"] = .double(8)
        var right = Fixture.qtestDefect(summary: "qTest title", priority: "Low")
        right.fields["points"] = .long(13)
        let d = try update(left: left, right: right)
        #expect(d.action == .conflict([FieldConflict(field: "Points", left: .long(8), right: .long(13), resolution: .error)]))
        let mirrored = try update(left: left, right: right, source: .right)
        #expect(mirrored.action == d.action)
        let (pair, _) = try sync.record(d, for: SyncInput(source: .left, sourceArtifact: left, targetArtifact: right, pair: Fixture.syncedPair(sync)))
        #expect(pair == Fixture.syncedPair(sync))
    }

    @Test func sameChangeOnBothSidesIsNoConflict() throws {
        let d = try update(left: Fixture.jiraIssue(summary: "Same"), right: Fixture.qtestDefect(summary: "Same"))
        #expect(d.action == .nothing)
        #expect(d.reasonKinds.contains(.targetAlreadyEqual))
    }

    @Test func oneWayFieldIsNoConflict() throws {
        let sync = Fixture.synchronizer(Fixture.rules(flows: ["Points": FieldFlow(leftToRight: .updateNormally, rightToLeft: .noUpdate)]))
        var left = Fixture.jiraIssue()
        left.fields["points"] = .double(8)
        var right = Fixture.qtestDefect()
        right.fields["points"] = .long(13)
        #expect(try update(sync, left: left, right: right).writes == ["points": .long(8)])
        #expect(try update(sync, left: left, right: right, source: .right).reasonKinds.contains(.flowNoUpdate))
    }

    @Test func echoOfOwnWriteIsNotAChange() throws {
        // qTest shows the title Tandem wrote, but the pair's snapshot was not updated (a crash after the write).
        let right = Fixture.qtestDefect(summary: "Written by Tandem")
        let ledger = WriteLedger(right: ["name": .string("Written by Tandem")])
        let d = try update(right: right, source: .right, ledger: ledger)
        #expect(d.action == .nothing)
        #expect(d.reasonKinds.contains(.echo))
    }

    @Test func statusFlowsThroughTransitions() throws {
        let d = try update(right: Fixture.qtestDefect(status: "Closed"), source: .right)
        guard case .update(let plan) = d.action else {
            Issue.record("expected update")
            return
        }
        #expect(
            plan.transitions == [
                TransitionPlan(
                    repositoryField: "status", from: "Open", to: "Closed",
                    path: [
                        Transition(from: "Open", to: "In Progress", name: "Start"), Transition(from: "In Progress", to: "Resolved", name: "Resolve"),
                        Transition(from: "Resolved", to: "Closed", name: "Close"),
                    ]
                )
            ])
        #expect(d.writes["status"] == nil)
        let applied = d.apply(to: Fixture.jiraIssue())
        #expect(applied.fields["status"] == .select("Closed"))
        #expect(d.apply(to: applied) == applied)
    }

    @Test func statusWithoutPathIsAClearError() throws {
        let graph = try TransitionGraph([Transition(from: "Open", to: "In Progress", name: "Start")])
        var rules = Fixture.rules()
        rules.left.transitions = ["status": graph]
        let sync = Fixture.synchronizer(rules)
        #expect(
            throws: SyncError(
                .noTransitionPath, subject: "field 'status'", reason: "no transitions lead from 'Open' to 'Closed' (states: In Progress, Open)")
        ) {
            try update(sync, right: Fixture.qtestDefect(status: "Closed"), source: .right)
        }
    }

    @Test func unmappedSelectValueIsNotAccepted() throws {
        var left = Fixture.jiraIssue()
        left.fields["priority"] = .select("Blocker")
        #expect(
            throws: SyncError(
                .valueNotAccepted, subject: "field 'Priority'",
                reason: "value 'Blocker' of 'priority' is not mapped and the model does not allow unmapped values")
        ) {
            try sync.decide(SyncInput(source: .left, sourceArtifact: left))
        }
    }
}

@Suite("Decisions: comments and attachments")
struct CommentAttachmentTests {
    let sync = Fixture.synchronizer()
    let ada = Person(id: "j1", username: "ada", email: "ada@example.com", displayName: "Ada")

    @Test func commentsFlowWithAuthorPrefixWhenTargetCannotImpersonate() throws {
        let comments = [
            Comment(id: "c1", author: ada, body: "Seen on **Safari**", markup: .markdown),
            Comment(id: "c2", body: "Status changed", isSynthetic: true),
            Comment(id: "c3", author: ada, body: "internal", isPrivate: true),
        ]
        let d = try sync.decide(SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue(comments: comments)))
        guard case .create(let plan) = d.action else {
            Issue.record("expected create")
            return
        }
        #expect(plan.comments.map(\.body) == ["Ada: Seen on <strong>Safari</strong>"])
        #expect(plan.comments.first?.author == nil)
        #expect(d.reasons.contains(Reason(.commentSkipped, "c2", "synthetic comments do not flow")))
        #expect(d.reasons.contains(Reason(.commentSkipped, "c3", "private comments do not flow")))
    }

    /// The target's declared markups decide the conversion; text already in the target's markup is written as it is, so
    /// plain text never gains tags or entities (issue 13: `Tom & Jerry say 2 < 3` arrived as `Tom &amp; Jerry …`).
    @Test func declaredMarkupsDecideTheConversionAndTheSameMarkupStaysAsItIs() throws {
        let text = "Tom & Jerry say 2 < 3\n- one\n  <b>*x*</b>  \n"
        var left = Fixture.jiraIssue(comments: [Comment(id: "c1", author: ada, body: text, markup: .plain)])
        left.fields["description"] = .richText(text, markup: .plain)
        func plan(_ markups: TextMarkups?) throws -> CreatePlan {
            let d = try sync.decide(SyncInput(source: .left, sourceArtifact: left, targetMarkups: markups))
            guard case .create(let plan) = d.action else { throw SyncError(.invalidMapping, subject: "test", reason: "expected a create") }
            return plan
        }
        let plain = try plan(TextMarkups(.plain, fields: ["description"]))
        #expect(plain.fields.first { $0.repositoryField == "description" }?.value == .richText(text, markup: .plain))
        #expect(plain.comments.map(\.body) == ["Ada: " + text])
        #expect(plain.comments.map(\.markup) == [.plain])
        let markdown = try plan(TextMarkups(.markdown, fields: ["description"]))
        let escaped = "Tom & Jerry say 2 < 3\n\\- one\n  \\<b>\\*x\\*\\</b>  \n"
        #expect(markdown.fields.first { $0.repositoryField == "description" }?.value == .richText(escaped, markup: .markdown))
        #expect(markdown.comments.map(\.body) == ["Ada: " + escaped])
        // Nothing declared: the mapping's markup (HTML here), as configured.
        let configured = try plan(nil)
        guard case .richText(let html, .html)? = configured.fields.first(where: { $0.repositoryField == "description" })?.value else {
            Issue.record("expected HTML")
            return
        }
        #expect(html.hasPrefix("Tom &amp; Jerry say 2 &lt; 3<br>"))
    }

    /// A comment into ADF (Jira Cloud) with its author's name before it is one ADF document: the name was converted on
    /// its own and put in front, two documents side by side, which Jira refused ("not an ADF document"; found by the
    /// Jira ↔ Redmine end-to-end test).
    @Test func anAuthorPrefixGoesInsideAnADFDocument() throws {
        let left = Fixture.jiraIssue(comments: [Comment(id: "c1", author: ada, body: "Seen on **Safari**", markup: .markdown)])
        let d = try sync.decide(SyncInput(source: .left, sourceArtifact: left, targetMarkups: TextMarkups(.adf, fields: ["description"])))
        guard case .create(let plan) = d.action, let body = plan.comments.first?.body else {
            Issue.record("expected a create with a comment")
            return
        }
        #expect(plan.comments.first?.markup == .adf)
        let document = try JSONNode.parse(body)
        #expect(document["type"] == .string("doc"))
        #expect(Markup.convert(body, from: .adf, to: .markdown) == "Ada: Seen on **Safari**")
        // Text that is not an ADF document yet is carried as plain text, still one document.
        #expect(Markup.convert(Markup.prefixed("two < three", markup: .adf, with: "Bo: "), from: .adf, to: .plain) == "Bo: two < three")
    }

    @Test func commentsImpersonateWhenTheTargetCan() throws {
        let bob = Person(id: "q2", username: "bob")
        let stranger = Person(username: "zed", displayName: "Zed")
        var right = Fixture.qtestDefect()
        right.comments = [
            Comment(id: "k1", author: bob, body: "<p>Fixed in <em>build 7</em></p>", markup: .html), Comment(id: "k2", author: stranger, body: "hi"),
        ]
        let d = try sync.decide(SyncInput(source: .right, sourceArtifact: right, targetArtifact: Fixture.jiraIssue(), pair: Fixture.syncedPair(sync)))
        guard case .update(let plan) = d.action else {
            Issue.record("expected update")
            return
        }
        #expect(plan.comments[0].author == Person(id: "j2", username: "bob", email: "bob@example.com"))
        #expect(plan.comments[0].body == "Fixed in *build 7*")
        #expect(plan.comments[1].author == nil)
        #expect(plan.comments[1].body == "Zed: hi")
    }

    @Test func editedCommentsBecomeNewCommentsAndOwnCommentsDoNotEcho() throws {
        var pair = Fixture.syncedPair(sync)
        pair.left.flowedComments = ["c1": "1", "c2": "1"]
        pair.left.createdComments = ["mine"]
        let comments = [
            Comment(id: "c1", body: "unchanged", version: "1"), Comment(id: "c2", body: "edited", version: "2"),
            Comment(id: "mine", body: "Bob: from qTest"),
        ]
        let d = try sync.decide(
            SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue(comments: comments), targetArtifact: Fixture.qtestDefect(), pair: pair))
        guard case .update(let plan) = d.action else {
            Issue.record("expected update")
            return
        }
        #expect(plan.comments.map(\.sourceID) == ["c2"])
        #expect(d.reasons.contains(Reason(.commentEdited, "c2", "edited: flows as a new comment")))
        var recorded = pair
        recorded.recordComment(plan.comments[0], createdID: "q-9", on: .right)
        #expect(recorded.left.flowedComments["c2"] == "2")
        #expect(recorded.right.createdComments == ["q-9"])
    }

    @Test func commentFlowDirectionAndSupport() throws {
        let comments = [Comment(id: "c1", body: "hello")]
        let oneWay = Fixture.synchronizer(Fixture.rules(comments: CommentFlow(leftToRight: false, rightToLeft: true)))
        guard case .create(let plan) = try oneWay.decide(SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue(comments: comments))).action
        else {
            Issue.record("expected create")
            return
        }
        #expect(plan.comments.isEmpty)
        var rules = Fixture.rules(comments: CommentFlow(includePrivate: true))
        rules.right.supportsComments = false
        guard
            case .create(let none) = try Fixture.synchronizer(rules).decide(
                SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue(comments: comments))
            ).action
        else {
            Issue.record("expected create")
            return
        }
        #expect(none.comments.isEmpty)
        #expect(CommentFlow.disabled.allows(from: .left) == false)
    }

    /// Guide L7515–7535: only new attachments, under the size cap, not excluded, each content once.
    @Test func attachmentRules() throws {
        let attachments = [
            Attachment(id: "a1", fileName: "screen.png", size: 500, checksum: "x1"),
            Attachment(id: "a2", fileName: "huge.mov", size: 5_000, checksum: "x2"),
            Attachment(id: "a3", fileName: "setup.EXE", size: 10, checksum: "x3"),
            Attachment(id: "a4", fileName: "copy.png", size: 500, checksum: "x1"),
            Attachment(id: "a5", fileName: "secret.pdf", size: 10, checksum: "x5", isEncrypted: true),
            Attachment(id: "a6", fileName: "old.txt", size: 10, checksum: "x6"),
            Attachment(id: "a7", fileName: "there.txt", size: 10, checksum: "x7"),
            Attachment(id: "a8", fileName: "README", size: 10, checksum: "x8"),
        ]
        var pair = Fixture.syncedPair(sync)
        pair.left.flowedAttachments = ["a6"]
        var right = Fixture.qtestDefect()
        right.attachments = [Attachment(id: "q1", fileName: "there.txt", size: 10, checksum: "x7")]
        let d = try sync.decide(
            SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue(attachments: attachments), targetArtifact: right, pair: pair))
        guard case .update(let plan) = d.action else {
            Issue.record("expected update")
            return
        }
        #expect(plan.attachments.map(\.sourceID) == ["a1", "a8"])
        #expect(
            d.reasons.filter { $0.kind == .attachmentSkipped }.map(\.description) == [
                "attachment-skipped 'huge.mov': 5000 bytes is over the 1000-byte limit",
                "attachment-skipped 'setup.EXE': file type 'exe' is excluded",
                "attachment-skipped 'copy.png': the same content is already there",
                "attachment-skipped 'secret.pdf': encrypted attachments are excluded",
                "attachment-skipped 'there.txt': the same content is already there",
            ])
        var recorded = pair
        recorded.recordAttachment(plan.attachments[0], createdID: "q-a1", on: .right)
        #expect(recorded.left.flowedAttachments == ["a6", "a1"])
        #expect(AttachmentFlow.disabled.allows(from: .right) == false)
    }
}

@Suite("Integration rules validation")
struct ValidationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var change: @Sendable (inout IntegrationRules) -> Void
        var error: String
        var testDescription: String { self.name }
    }

    static let cases: [Case] = [
        Case(
            name: "route to a missing project", change: { $0.routes = [.fixed(from: .left, sourceProjects: ["PROJ"], targetProject: "QZ")] },
            error: "1415E route to right project 'QZ': the right collection has no project 'QZ'"),
        Case(
            name: "route from a missing project", change: { $0.routes = [.fixed(from: .right, sourceProjects: ["QZ"], targetProject: "PROJ")] },
            error: "1415E route from right project 'QZ': the right collection has no project 'QZ'"),
        Case(
            name: "conditional route on a non-select",
            change: {
                $0.routes = [.conditional(from: .left, sourceProjects: ["PROJ"], field: "Summary", targets: ["QA": ["x"]], fallback: .error)]
            }, error: "1412E conditional route: field 'Summary' is string, not single-select"),
        Case(
            name: "conditional route on an unknown value",
            change: {
                $0.routes = [.conditional(from: .left, sourceProjects: ["PROJ"], field: "Priority", targets: ["QA": ["Urgent"]], fallback: .error)]
            }, error: "1412E conditional route: 'Urgent' is not a value of 'Priority'"),
        Case(
            name: "value map on a non-select field", change: { $0.left.fields[0].valueMap = ValueMap([("a", "b")]) },
            error: "17002E mapping 'summary' ↔ 'Summary': a value map needs select fields on both sides, not string → string"),
        Case(
            name: "value map onto an unknown model value", change: { $0.left.fields[2].valueMap = ValueMap([("P1", "Urgent")]) },
            error: "17002E mapping 'priority' ↔ 'Priority': value 'Urgent' is not a value of model field 'Priority'"),
        Case(
            name: "copy between incompatible types", change: { $0.left.fields[6] = FieldMapping("duedate", .date, to: "Summary") },
            error: "17002E mapping 'duedate' ↔ 'Summary': cannot copy date into string; use a conversion"),
        Case(
            name: "conversion of the wrong type",
            change: { $0.left.fields[6] = FieldMapping("duedate", .date, to: "Due", toModel: .convert(.longToDouble)) },
            error: "17002E mapping 'duedate' ↔ 'Due': Long to Double reads long, not date"),
        Case(
            name: "conversion writing the wrong type",
            change: { $0.left.fields[6] = FieldMapping("duedate", .date, to: "Due", toModel: .convert(.dateToDateTime(.gmt))) },
            error: "17002E mapping 'duedate' ↔ 'Due': Date to Date Time (GMT) writes date-time, not date"),
        Case(
            name: "append into a date", change: { $0.left.fields[6] = FieldMapping("duedate", .date, to: "Due", toRepository: .append) },
            error: "17002E mapping 'duedate' ↔ 'Due': cannot append into date"),
        Case(
            name: "append of the wrong type", change: { $0.right.fields[5] = FieldMapping("tags", .string, to: "Labels", toModel: .append) },
            error: "17002E mapping 'tags' ↔ 'Labels': cannot append string to multi-select"),
        Case(
            name: "constant of the wrong type",
            change: {
                $0.left.fields[9] = FieldMapping("component", .singleSelect, to: "Component", toModel: .none, toRepository: .constant(.long(1)))
            },
            error: "17002E mapping 'component' ↔ 'Component': constant \"1\" is not a single-select value"),
        Case(
            name: "per-project constant of the wrong type",
            change: {
                $0.left.fields[9] = FieldMapping(
                    "component", .singleSelect, to: "Component", toModel: .none,
                    toRepository: .constantPerProject(["PROJ": .long(1)], fallback: .null))
            }, error: "17002E mapping 'component' ↔ 'Component': constant for project 'PROJ' is not a single-select value"),
        Case(
            name: "per-project default of the wrong type",
            change: {
                $0.left.fields[9] = FieldMapping(
                    "component", .singleSelect, to: "Component", toModel: .none, toRepository: .constantPerProject([:], fallback: .long(1)))
            }, error: "17002E mapping 'component' ↔ 'Component': default constant is not a single-select value"),
        Case(
            name: "mapping to an unknown model field", change: { $0.left.fields.append(FieldMapping("x", .string, to: "Nope")) },
            error: "17002E left mapping 'x': model field 'Nope' does not exist"),
        Case(
            name: "two mappings into one model field",
            change: { $0.left.fields.append(FieldMapping("title", .string, to: "Summary", toRepository: .none)) },
            error: "17002E left mapping 'title': model field 'Summary' already receives a value from the left collection"),
        Case(
            name: "two mappings out of one model field",
            change: { $0.left.fields.append(FieldMapping("title", .string, to: "Summary", toModel: .none)) },
            error: "17002E left mapping 'title': model field 'Summary' already writes to the left collection"),
        Case(
            name: "duplicate model field", change: { $0.model.append(ModelField("Summary", .string)) },
            error: "17002E model field 'Summary': defined twice"),
        Case(
            name: "transitions on an unmapped field", change: { $0.right.transitions = ["state": Fixture.jiraWorkflow] },
            error: "17002E right state transitions for 'state': the field is not mapped from the model"),
        Case(
            name: "creation into a read-only repository", change: { $0.right.canCreate = false },
            error: "17017E right collection: the repository cannot create artifacts, but creation flows into it"),
        Case(
            name: "field flow of an unknown field", change: { $0.fieldFlows = ["Nope": .bothWays] },
            error: "17005E field flow: model field 'Nope' does not exist"),
        Case(
            name: "conflict policy of an unknown field", change: { $0.conflicts = ConflictPolicy(perField: ["Nope": .error]) },
            error: "17007E conflict resolution: model field 'Nope' does not exist"),
        Case(
            name: "conditional field flow on an unknown field",
            change: {
                $0.conditionalFieldFlows = [ConditionalFieldFlow("c", when: .condition(FilterCondition("Nope", .isEmpty)), flows: [:])]
            }, error: "17027E conditional field flow 'c': model field 'Nope' does not exist"),
        Case(
            name: "conditional field flow for an unknown field",
            change: {
                $0.conditionalFieldFlows = [
                    ConditionalFieldFlow("c", when: .condition(FilterCondition("Summary", .isEmpty)), flows: ["Nope": .bothWays])
                ]
            }, error: "17027E conditional field flow 'c': model field 'Nope' does not exist"),
        Case(
            name: "filter on an unfilterable type",
            change: {
                $0.filter = ArtifactFilter([FilterStatement(.bothCollections, .condition(FilterCondition("Assignee", .isEmpty)))])
            }, error: "1409E artifact filter: field 'Assignee' of type person cannot be filtered"),
        Case(
            name: "filter on an unknown field",
            change: {
                $0.filter = ArtifactFilter([FilterStatement(.bothCollections, .condition(FilterCondition("Nope", .isEmpty)))])
            }, error: "1409E artifact filter: model field 'Nope' does not exist"),
        Case(
            name: "twinless update of an unknown field", change: { $0.twinless = TwinlessUpdate(fields: [.left: ["Nope": .null]]) },
            error: "17002E twinless update: model field 'Nope' does not exist"),
        Case(
            name: "conditional route on an unknown field",
            change: {
                $0.routes = [.conditional(from: .left, sourceProjects: ["PROJ"], field: "Nope", targets: [:], fallback: .defaultProject("QA"))]
            }, error: "1412E conditional route: model field 'Nope' does not exist"),
    ]

    @Test(arguments: cases)
    func rejects(_ c: Case) {
        var rules = Fixture.rules()
        c.change(&rules)
        do {
            _ = try Synchronizer(rules)
            Issue.record("accepted")
        } catch {
            #expect(error.description == c.error)
        }
    }

    @Test func transitionGraphRules() {
        #expect(throws: SyncError(.invalidMapping, subject: "transition 'Stay'", reason: "loops on state 'Open'")) {
            try TransitionGraph([Transition(from: "Open", to: "Open", name: "Stay")])
        }
        #expect(throws: SyncError(.invalidMapping, subject: "transition 'B'", reason: "a second transition from 'Open' to 'Done'")) {
            try TransitionGraph([Transition(from: "Open", to: "Done", name: "A"), Transition(from: "Open", to: "Done", name: "B")])
        }
        // Guide L6122: 15 states need 210 transitions.
        let states = (1...15).map { "S\($0)" }
        let all = TransitionGraph.allToAll(states)
        #expect(all.count == 210)
        let graph = try? TransitionGraph(all)
        #expect(graph?.path(from: "S1", to: "S15")?.count == 1)
        #expect(graph?.path(from: "S3", to: "S3") == [])
        #expect(graph?.path(from: "S3", to: "Unknown") == nil)
    }
}

@Suite("Recording decisions and edge cases")
struct RecordTests {
    @Test func recordingACreateMakesThePair() throws {
        let sync = Fixture.synchronizer(Fixture.rules(flows: ["Points": FieldFlow(leftToRight: .noUpdate, rightToLeft: .updateNormally)]))
        let input = SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue())
        let d = try sync.decide(input)
        #expect(d.writes["points"] == nil)
        #expect(d.reasons.contains(Reason(.flowNoUpdate, "Points", "not written on creation")))
        let (pair, ledger) = try sync.record(d, for: input, targetID: "D-9")
        #expect(pair.leftID == "PROJ-1" && pair.rightID == "D-9" && pair.eligible)
        #expect(pair.left.synced["Summary"] == .string("Login fails"))
        #expect(pair.right.synced["Summary"] == .string("Login fails"))
        #expect(ledger.right["name"] == .string("Login fails"))
        // From the right: the create goes the other way and records the left ID.
        let back = SyncInput(source: .right, sourceArtifact: Fixture.qtestDefect())
        let (other, _) = try sync.record(try sync.decide(back), for: back, targetID: "PROJ-7")
        #expect(other.leftID == "PROJ-7" && other.rightID == "D-7")
    }

    @Test func recordingTransitionsMovesTheStatusSnapshot() throws {
        let sync = Fixture.synchronizer()
        let input = SyncInput(
            source: .right, sourceArtifact: Fixture.qtestDefect(status: "Fixed"), targetArtifact: Fixture.jiraIssue(), pair: Fixture.syncedPair(sync)
        )
        let d = try sync.decide(input)
        let (pair, ledger) = try sync.record(d, for: input)
        #expect(pair.left.synced["Status"] == .select("Fixed"))
        #expect(ledger.left["status"] == .select("Resolved"))
        #expect(SyncDecision(source: .right, action: .nothing, reasons: []).apply(to: Fixture.jiraIssue()) == Fixture.jiraIssue())
    }

    @Test func perProjectConstantsAndAlwaysUpdateLeaveTargetChanges() throws {
        var rules = Fixture.rules(flows: ["Points": FieldFlow(leftToRight: .alwaysUpdate, rightToLeft: .updateNormally)])
        rules.right.fields.append(
            FieldMapping(
                "team", .singleSelect, to: "Component", toModel: .none,
                toRepository: .constantPerProject(["QA": .select("Web")], fallback: .select("Desktop"))))
        let sync = Fixture.synchronizer(rules)
        var right = Fixture.qtestDefect()
        right.fields["points"] = .long(21)
        let d = try sync.decide(
            SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue(summary: "Changed"), targetArtifact: right, pair: Fixture.syncedPair(sync)))
        // Points changed on qTest only: always-update does not overwrite it; the constant comes along.
        #expect(d.writes == ["name": .string("Changed"), "team": .select("Web")])
        #expect(d.reasons.contains(Reason(.fieldChanged, "Points", "changed on right only; not overwritten")))
    }

    @Test func impersonationWithoutADirectoryKeepsTheAuthor() throws {
        var rules = Fixture.rules()
        rules.right.canImpersonate = true
        rules.right.people = nil
        let sync = Fixture.synchronizer(rules)
        let author = Person(username: "ada")
        let d = try sync.decide(
            SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue(comments: [Comment(id: "c1", author: author, body: "hi")])))
        guard case .create(let plan) = d.action else {
            Issue.record("expected create")
            return
        }
        #expect(plan.comments.first?.author == author)
        #expect(plan.comments.first?.body == "hi")
    }
}

@Suite("Traces and encodings")
struct TraceTests {
    @Test func explanationListsActionAndReasons() throws {
        let sync = Fixture.synchronizer()
        let create = try sync.decide(SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue()))
        #expect(
            create.explanation.hasPrefix("left → right: create\n  create in project 'QA' with 9 fields, 0 comments, 0 attachments\n  - routed 'QA'"))
        var left = Fixture.jiraIssue()
        left.fields["points"] = .double(8)
        var right = Fixture.qtestDefect()
        right.fields["points"] = .long(13)
        let conflict = try sync.decide(SyncInput(source: .left, sourceArtifact: left, targetArtifact: right, pair: Fixture.syncedPair(sync)))
        #expect(conflict.explanation.contains("conflict on 'Points': left \"8\", right \"13\""))
        let update = try sync.decide(
            SyncInput(
                source: .left, sourceArtifact: Fixture.jiraIssue(summary: "x"), targetArtifact: Fixture.qtestDefect(), pair: Fixture.syncedPair(sync))
        )
        #expect(update.explanation.contains("update 1 fields, 0 transitions"))
        let nothing = try sync.decide(
            SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue(), targetArtifact: Fixture.qtestDefect(), pair: Fixture.syncedPair(sync)))
        #expect(nothing.explanation == "left → right: nothing\n  - no-changes: nothing changed on left since the last sync")
        let twinless = try Fixture.synchronizer(Fixture.rules(twinless: TwinlessUpdate(comment: [.right: "bye"]))).decide(
            SyncInput(
                source: .left, sourceArtifact: Fixture.jiraIssue(project: "OPS"), targetArtifact: Fixture.qtestDefect(),
                pair: Fixture.syncedPair(sync))
        )
        #expect(twinless.explanation.contains("final update of the twin: 0 fields and a comment"))
    }

    @Test func schedulesEncodeAsText() throws {
        let schedule = Schedule.cron(try CronExpression("0 0/30 9-16 ? * MON-FRI"))
        let data = try JSONEncoder().encode(schedule)
        #expect(try JSONDecoder().decode(Schedule.self, from: data) == schedule)
        #expect(String(decoding: try JSONEncoder().encode(try CronExpression("0 0 12 * * ?")), as: UTF8.self) == "\"0 0 12 * * ?\"")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(CronExpression.self, from: Data("\"0 0 12 * * MON\"".utf8)) }
    }
}

@Suite("Write ledger")
struct LedgerTests {
    /// Tandem wrote "A" to qTest; a user changed it to "B" (which flowed back), then back to "A": that is a change.
    @Test func ledgerForgetsWritesTheRepositoryNoLongerShows() throws {
        let sync = Fixture.synchronizer()
        let pair = Fixture.syncedPair(sync)
        let userEdit = SyncInput(
            source: .right, sourceArtifact: Fixture.qtestDefect(summary: "B"), targetArtifact: Fixture.jiraIssue(), pair: pair,
            ledger: WriteLedger(right: ["name": .string("Login fails")])
        )
        let d = try sync.decide(userEdit)
        #expect(d.writes == ["summary": .string("B")])
        let (afterB, ledger) = try sync.record(d, for: userEdit)
        #expect(ledger.right["name"] == nil)
        #expect(ledger.left["summary"] == .string("B"))
        let backToA = SyncInput(
            source: .right, sourceArtifact: Fixture.qtestDefect(summary: "Login fails"), targetArtifact: Fixture.jiraIssue(summary: "B"),
            pair: afterB,
            ledger: ledger
        )
        #expect(try sync.decide(backToA).writes == ["summary": .string("Login fails")])
    }
}

@Suite("Rules read as configured")
struct RuleDescriptionTests {
    /// Traces print a filter in the configuration's words, not Swift's reflection (issue 13: `condition(TandemCore.…)`).
    @Test func filtersReadAsTheConfigurationWritesThem() {
        #expect("\(FilterExpression.condition(FilterCondition("status", .notEquals(.select("Closed")))))" == "status not-equals Closed")
        #expect(
            "\(FilterExpression.not(.condition(FilterCondition("priority", .oneOf([.select("Low"), .select("Normal")])))))"
                == "priority not-in [Low, Normal]")
        let both = FilterExpression.all([
            .condition(FilterCondition("title", .contains("x"))), .not(.condition(FilterCondition("points", .atMost(.long(3))))),
        ])
        #expect("\(both)" == "(title contains x and points greater-than 3)")
        #expect("\(FilterExpression.condition(FilterCondition("due", .isEmpty)))" == "due is-empty")
    }
}
