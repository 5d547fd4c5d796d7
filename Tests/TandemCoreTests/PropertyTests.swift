import Foundation
import PropertyBased
import TandemCore
import Testing

/// A small deterministic generator, so one seed from PropertyBased describes a whole scenario.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: Int) { self.state = UInt64(bitPattern: Int64(seed)) }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Scenario {
    static let words = ["login", "fails", "on", "Safari", "crash", "42", "retry", "UI", "slow", "again"]

    static func text(_ rng: inout SplitMix) -> String {
        (0..<Int.random(in: 1...4, using: &rng)).map { _ in words.randomElement(using: &rng)! }.joined(separator: " ")
    }

    /// Random edits of a Jira issue within what the mappings carry losslessly.
    static func jira(_ rng: inout SplitMix) -> Artifact {
        let labels = ["ui", "auth", "perf", "db"].filter { _ in Bool.random(using: &rng) }
        return Fixture.jiraIssue(
            summary: text(&rng), priority: ["High", "Medium", "Low"].randomElement(using: &rng)!,
            status: ["Open", "In Progress", "Resolved", "Closed"].randomElement(using: &rng)!,
            extra: [
                "description": .richText(text(&rng), markup: .markdown), "labels": .multiSelect(labels),
                "duedate": .date(LocalDate(year: 2024, month: Int.random(in: 1...12, using: &rng), day: Int.random(in: 1...28, using: &rng))),
                "timeestimate": .long(Int64.random(in: 0...100, using: &rng) * 60), "points": .double(Double(Int.random(in: 0...13, using: &rng))),
            ]
        )
    }

    /// Random edits of a qTest defect: some fields changed, others as synchronised.
    static func qtest(_ rng: inout SplitMix, from base: Artifact = Fixture.qtestDefect()) -> Artifact {
        var a = base
        if Bool.random(using: &rng) { a.fields["name"] = .string(text(&rng)) }
        if Bool.random(using: &rng) { a.fields["priority"] = .select(["High", "Medium", "Low"].randomElement(using: &rng)!) }
        if Bool.random(using: &rng) { a.fields["status"] = .select(["New", "In Progress", "Fixed", "Closed"].randomElement(using: &rng)!) }
        if Bool.random(using: &rng) { a.fields["points"] = .long(Int64.random(in: 0...13, using: &rng)) }
        if Bool.random(using: &rng) {
            a.fields["tags"] = .string(["ui", "perf", "db"].filter { _ in Bool.random(using: &rng) }.joined(separator: ","))
        }
        return a
    }

    static func rules(_ rng: inout SplitMix) -> IntegrationRules {
        let policies: [ConflictResolution] = [.error, .leftDominates, .rightDominates]
        let perField = Dictionary(
            uniqueKeysWithValues: ["Summary", "Priority", "Status", "Points", "Labels"].map { ($0, policies.randomElement(using: &rng)!) })
        return Fixture.rules(conflicts: ConflictPolicy(policies.randomElement(using: &rng)!, perField: perField))
    }
}

@Suite("Properties of decisions")
struct DecisionProperties {
    static let seeds = Gen.int(in: 0...Int.max)

    /// Applying a decision twice gives what applying it once gives; deciding again after recording it gives nothing.
    @Test func applyingTwiceEqualsOnce() async {
        await propertyCheck(count: 150, input: Self.seeds) { seed in
            var rng = SplitMix(seed)
            let sync = try! Synchronizer(Scenario.rules(&rng))
            let left = Scenario.jira(&rng)
            let right = Scenario.qtest(&rng)
            let input = SyncInput(source: .left, sourceArtifact: left, targetArtifact: right, pair: Fixture.syncedPair(sync))
            guard let d = try? sync.decide(input) else { return }
            let once = d.apply(to: right)
            #expect(d.apply(to: once) == once)
            guard case .update = d.action, let (pair, ledger) = try? sync.record(d, for: input) else { return }
            let again = try? sync.decide(SyncInput(source: .left, sourceArtifact: left, targetArtifact: once, pair: pair, ledger: ledger))
            let fieldsAgain = again?.writes ?? [:]
            #expect(fieldsAgain.isEmpty, "seed \(seed): \(again?.reasons ?? [])")
        }
    }

    /// Syncing Tandem's own write back yields nothing.
    @Test func ownWriteComesBackAsNothing() async {
        await propertyCheck(count: 150, input: Self.seeds) { seed in
            var rng = SplitMix(seed)
            let sync = try! Synchronizer(Scenario.rules(&rng))
            var left = Scenario.jira(&rng)
            left.comments = (0..<Int.random(in: 0...3, using: &rng)).map {
                Comment(id: "c\($0)", author: Person(username: "ada"), body: Scenario.text(&rng), markup: .markdown)
            }
            left.attachments = (0..<Int.random(in: 0...2, using: &rng)).map {
                Attachment(id: "a\($0)", fileName: "f\($0).png", size: 10, checksum: "x\($0)")
            }
            let right = Fixture.qtestDefect()
            let input = SyncInput(source: .left, sourceArtifact: left, targetArtifact: right, pair: Fixture.syncedPair(sync))
            guard let d = try? sync.decide(input), let recorded = try? sync.record(d, for: input) else {
                Issue.record("seed \(seed): no decision")
                return
            }
            var pair = recorded.pair
            let ledger = recorded.ledger
            var written = d.apply(to: right)
            if case .update(let plan) = d.action {
                // The worker creates the comments and attachments and records their IDs.
                for (n, c) in plan.comments.enumerated() {
                    pair.recordComment(c, createdID: "q\(n)", on: .right)
                    written.comments.append(Comment(id: "q\(n)", body: c.body, markup: c.markup))
                }
                for (n, a) in plan.attachments.enumerated() {
                    pair.recordAttachment(a, createdID: "qa\(n)", on: .right)
                    written.attachments.append(Attachment(id: "qa\(n)", fileName: a.fileName, size: 10, checksum: a.checksum))
                }
            }
            let back = try? sync.decide(SyncInput(source: .right, sourceArtifact: written, targetArtifact: left, pair: pair, ledger: ledger))
            #expect(back?.action == .nothing, "seed \(seed): \(back?.reasons ?? [])")
        }
    }

    /// A → B → A preserves every value where the mappings are lossless (all of the fixture's, for these values).
    @Test func roundTripPreservesValues() async {
        await propertyCheck(count: 200, input: Self.seeds) { seed in
            var rng = SplitMix(seed)
            let sync = Fixture.synchronizer()
            let original = Scenario.jira(&rng)
            let there: SyncDecision
            do {
                there = try sync.decide(SyncInput(source: .left, sourceArtifact: original))
            } catch {
                Issue.record("seed \(seed): \(error)")
                return
            }
            guard case .create(let plan) = there.action else {
                Issue.record("seed \(seed): \(there.reasons)")
                return
            }
            var created = there.apply(to: Artifact(id: "D-1", project: plan.project, fields: [:]))
            // qTest has no workflow: its status is a plain field the create sets.
            created.fields["status"] = plan.fields.first { $0.repositoryField == "status" }?.value
            guard let back = try? sync.decide(SyncInput(source: .right, sourceArtifact: created)), case .create(let returned) = back.action else {
                Issue.record("seed \(seed): no create back")
                return
            }
            let result = back.apply(to: Artifact(id: "PROJ-9", project: returned.project, fields: [:]))
            for field in ["summary", "description", "priority", "labels", "duedate", "timeestimate", "points", "component"] {
                // An empty value is not written on creation.
                let expected = original.fields[field].flatMap { $0.isEmpty ? nil : $0 }
                #expect(result.fields[field] == expected, "seed \(seed) field \(field)")
            }
            #expect(returned.statuses["status"] == original.fields["status"]?.text)
        }
    }

    /// Conflicts are symmetric: deciding from either side finds the same error-policy conflicts.
    @Test func conflictsAreSymmetric() async {
        await propertyCheck(count: 200, input: Self.seeds) { seed in
            var rng = SplitMix(seed)
            let sync = try! Synchronizer(Scenario.rules(&rng))
            let pair = Fixture.syncedPair(sync)
            let left = Scenario.jira(&rng)
            let right = Scenario.qtest(&rng)
            let fromLeft = try? sync.decide(SyncInput(source: .left, sourceArtifact: left, targetArtifact: right, pair: pair))
            let fromRight = try? sync.decide(SyncInput(source: .right, sourceArtifact: right, targetArtifact: left, pair: pair))
            func conflicts(_ d: SyncDecision?) -> [FieldConflict] {
                if case .conflict(let c) = d?.action { return c }
                return []
            }
            #expect(conflicts(fromLeft) == conflicts(fromRight), "seed \(seed)")
            // The dominant side's value wins from whichever side the decision is taken.
            let won = Set((fromLeft?.reasons ?? []).filter { $0.kind == .conflictWon }.map(\.subject))
            let lost = Set((fromRight?.reasons ?? []).filter { $0.kind == .conflictLost }.map(\.subject))
            #expect(won == lost, "seed \(seed)")
        }
    }

    @Test func plainTextSurvivesHTMLAndMarkdown() async {
        let alphabet = Gen.element(of: Array("ab *_`[]#-+<>&\"\\\n\t.!é"))
        await propertyCheck(count: 300, input: alphabet.map { $0 ?? "a" }.array(of: 0...30)) { chars in
            let text = String(chars)
            #expect(
                Markup.convert(Markup.convert(text, from: .plain, to: .html), from: .html, to: .plain)
                    == text.replacingOccurrences(of: "\t", with: " "))
            // Plain → Markdown → plain gives back every character, line end and space (issue 13).
            #expect(Markup.convert(Markup.convert(text, from: .plain, to: .markdown), from: .markdown, to: .plain) == text)
        }
    }

    /// Text is converted only between different markups: in the same markup every byte stays (issue 13).
    @Test func sameMarkupIsNeverConverted() async {
        let alphabet = Gen.element(of: Array("ab *_`[]#-+<>&;\"'\\\n\t.!é😀 "))
        await propertyCheck(count: 300, input: alphabet.map { $0 ?? "a" }.array(of: 0...40)) { chars in
            let text = String(chars)
            for markup in TextMarkup.allCases { #expect(Markup.convert(text, from: markup, to: markup) == text) }
        }
    }

    /// Plain text that Markdown would not read as syntax goes into Markdown unchanged: `& < > " '`, Unicode, line ends,
    /// trailing spaces — no tags, no entities, no backslashes.
    @Test func plainTextWithoutSyntaxIsMarkdownAsItIs() async {
        let alphabet = Gen.element(of: Array("abcXYZ 019&<>\"',;:?é—😀\n\t "))
        await propertyCheck(count: 300, input: alphabet.map { $0 ?? "a" }.array(of: 0...40)) { chars in
            var text = String(chars)
            // `&x;` would be an entity and `<a` a tag: those are escaped, by design.
            text = text.replacingOccurrences(of: "<", with: "< ").replacingOccurrences(of: "&", with: "& ")
            if let first = text.unicodeScalars.first, ("0"..."9").contains(first) { text = "n" + text }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.contains(where: { line in
                let t = line.drop(while: { $0 == " " })
                return t.first == ">" || (t.first?.isNumber == true && line.contains(where: { $0 == "." || $0 == ")" }))
            }) {
                return
            }
            #expect(Markup.convert(text, from: .plain, to: .markdown) == text)
            #expect(Markup.convert(text, from: .markdown, to: .plain) == text)
        }
    }
}
