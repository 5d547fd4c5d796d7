import Foundation
import TandemCore
import Testing

@Suite("Transforms and markup")
struct TransformTests {
    struct ConversionCase: Sendable, CustomTestStringConvertible {
        var conversion: Conversion
        var input: FieldValue
        var output: FieldValue
        var summary: String? = nil
        var testDescription: String { "\(self.conversion)" }
    }

    static let berlin = TimeZone(identifier: "Europe/Berlin")!

    /// Guide L5711–5745 and the transform names it uses elsewhere (L9973 String to Relationships (by ID)).
    static let conversions: [ConversionCase] = [
        ConversionCase(
            conversion: .richTextToFormattedString, input: .richText("<b>bold</b> &amp; <i>more</i>", markup: .html), output: .string("bold & more")),
        // Guide L5733–5736: the literal string keeps the raw markup.
        ConversionCase(conversion: .richTextToLiteralString, input: .richText("<b>bold</b>", markup: .html), output: .string("<b>bold</b>")),
        ConversionCase(conversion: .literalStringToRichText(.html), input: .string("<b>bold</b>"), output: .richText("<b>bold</b>", markup: .html)),
        ConversionCase(conversion: .formattedStringToRichText(.html), input: .string("a < b\nc"), output: .richText("a &lt; b<br>c", markup: .html)),
        ConversionCase(
            conversion: .richTextMarkup(.markdown),
            input: .richText("<p>Use <code>x*y</code> and <a href=\"https://e.com\">docs</a></p>", markup: .html),
            output: .richText("Use `x*y` and [docs](https://e.com)", markup: .markdown)),
        ConversionCase(
            conversion: .richTextMarkup(.html), input: .richText("# Title\n\n- one\n- **two**", markup: .markdown),
            output: .richText("<h1>Title</h1><ul><li>one</li><li><strong>two</strong></li></ul>", markup: .html)),
        ConversionCase(conversion: .singleSelectToString, input: .select("High"), output: .string("High")),
        ConversionCase(conversion: .stringToSingleSelect, input: .string("High"), output: .select("High")),
        ConversionCase(conversion: .stringToSingleSelect, input: .string(""), output: .null),
        // Guide L5728–5731: multi-valued to string, joined with a comma.
        ConversionCase(conversion: .multiSelectToString(separator: ", "), input: .multiSelect(["a", "b"]), output: .string("a, b")),
        ConversionCase(conversion: .stringToMultiSelect(separator: ","), input: .string(" a, b ,,c"), output: .multiSelect(["a", "b", "c"])),
        ConversionCase(
            conversion: .stringToRelationships(repository: "jira"), input: .string("PROJ-1, PROJ-2 PROJ-3"),
            output: .relationships(["PROJ-1", "PROJ-2", "PROJ-3"].map { ArtifactReference(repository: "jira", id: $0) })),
        ConversionCase(
            conversion: .relationshipsToString(separator: ","), input: .relationships([ArtifactReference(id: "A"), ArtifactReference(id: "B")]),
            output: .string("A,B")),
        ConversionCase(conversion: .relationshipsToString(separator: ","), input: .relationship(ArtifactReference(id: "A")), output: .string("A")),
        // Guide L5738–5741: Location to Web Link (Summary as Label).
        ConversionCase(
            conversion: .locationToWebLink, input: .location("https://jira/PROJ-1"),
            output: .webLinks([WebLink(url: "https://jira/PROJ-1", label: "Login fails")]), summary: "Login fails"),
        // Midnight in Berlin on 2024-03-31 is 22:00 UTC the day before.
        ConversionCase(
            conversion: .dateToDateTime(berlin), input: .date(LocalDate(year: 2024, month: 3, day: 31)),
            output: .dateTime(Date(timeIntervalSince1970: 1_711_839_600))),
        ConversionCase(
            conversion: .dateTimeToDate(berlin), input: .dateTime(Date(timeIntervalSince1970: 1_711_839_600)),
            output: .date(LocalDate(year: 2024, month: 3, day: 31))),
        ConversionCase(
            conversion: .dateTimeToDate(.gmt), input: .dateTime(Date(timeIntervalSince1970: 1_711_839_600)),
            output: .date(LocalDate(year: 2024, month: 3, day: 30))),
        ConversionCase(conversion: .durationToLong(.minutes), input: .duration(150), output: .long(3)),
        ConversionCase(conversion: .durationToLong(.minutes), input: .duration(-150), output: .long(-3)),
        ConversionCase(conversion: .longToDuration(.workdays), input: .long(2), output: .duration(57_600)),
        ConversionCase(conversion: .durationToDouble(.hours), input: .duration(5_400), output: .double(1.5)),
        ConversionCase(conversion: .doubleToDuration(.hours), input: .double(1.5), output: .duration(5_400)),
        ConversionCase(conversion: .doubleToDuration(.days), input: .double(.infinity), output: .duration(0)),
        ConversionCase(conversion: .longToDouble, input: .long(3), output: .double(3)),
        ConversionCase(conversion: .doubleToLong, input: .double(2.6), output: .long(3)),
        ConversionCase(conversion: .doubleToLong, input: .double(1e300), output: .long(.max)),
        ConversionCase(conversion: .doubleToLong, input: .double(-1e300), output: .long(.min)),
        ConversionCase(conversion: .personToPersons, input: .person(Person(id: "1")), output: .persons([Person(id: "1")])),
        ConversionCase(conversion: .personsToPerson, input: .persons([Person(id: "1"), Person(id: "2")]), output: .person(Person(id: "1"))),
        ConversionCase(conversion: .personsToPerson, input: .persons([]), output: .null),
        ConversionCase(
            conversion: .relationshipToRelationships, input: .relationship(ArtifactReference(id: "A")),
            output: .relationships([ArtifactReference(id: "A")])),
        ConversionCase(conversion: .booleanToString, input: .boolean(true), output: .string("true")),
        ConversionCase(conversion: .stringToBoolean, input: .string("Yes"), output: .boolean(true)),
        ConversionCase(conversion: .stringToBoolean, input: .string("off"), output: .boolean(false)),
        ConversionCase(conversion: .stringToBoolean, input: .string("maybe"), output: .null),
        ConversionCase(conversion: .longToDouble, input: .null, output: .null),
        ConversionCase(conversion: .longToDouble, input: .string("unexpected"), output: .string("unexpected")),
    ]

    @Test(arguments: conversions)
    func converts(_ c: ConversionCase) {
        #expect(c.conversion.apply(c.input, context: TransformContext(summary: c.summary)) == c.output)
        #expect(c.conversion.signature.input.contains { c.input.fits($0) } || c.output == c.input)
        #expect(!c.conversion.description.isEmpty)
    }

    struct MarkupCase: Sendable, CustomTestStringConvertible {
        var text: String
        var from: TextMarkup
        var to: TextMarkup
        var expected: String
        var testDescription: String { "\(self.from.rawValue)→\(self.to.rawValue): \(self.text)" }
    }

    @Test(arguments: [
        MarkupCase(text: "<p>One</p><p>Two<br/>three</p>", from: .html, to: .plain, expected: "One\n\nTwo\nthree"),
        MarkupCase(text: "<ul><li>a</li><li>b</li></ul>", from: .html, to: .plain, expected: "- a\n- b"),
        MarkupCase(text: "<h2>T</h2><table><tr><td>x</td><td>y</td></tr></table>", from: .html, to: .markdown, expected: "## T\n\nx y"),
        MarkupCase(text: "<pre>a *b*\n c</pre>", from: .html, to: .markdown, expected: "```\na *b*\n c\n```"),
        MarkupCase(
            text: "<a href='https://x'>site</a> &#65;&#x42;&nbsp;&apos;&bogus;", from: .html, to: .plain,
            expected: "site (https://x) AB\u{A0}'&bogus;"),
        MarkupCase(text: "<a href=https://x>https://x</a>", from: .html, to: .plain, expected: "https://x"),
        // Plain → Markdown escapes only what Markdown would read as syntax (issue 13: text arrived mangled).
        MarkupCase(text: "a*b_c [d] #e", from: .plain, to: .markdown, expected: "a\\*b_c [d] #e"),
        MarkupCase(text: "Tom & Jerry say 2 < 3", from: .plain, to: .markdown, expected: "Tom & Jerry say 2 < 3"),
        MarkupCase(text: "it's \"quoted\" > that", from: .plain, to: .markdown, expected: "it's \"quoted\" > that"),
        MarkupCase(
            text: "# not a heading\n- not a list\n1. nor this\n<b>&amp; [a](b) _x_ snake_case  ", from: .plain, to: .markdown,
            expected: "\\# not a heading\n\\- not a list\n1\\. nor this\n\\<b>\\&amp; \\[a](b) \\_x\\_ snake_case  "),
        MarkupCase(
            text: "Steps:\n\n- **open** the `app`\n- see [docs](https://d.io)\n\n```\nx *= 2\n```\n## Done", from: .markdown, to: .plain,
            expected: "Steps:\n\n- open the app\n- see docs (https://d.io)\n\nx *= 2\nDone"),
        MarkupCase(text: "a \\*b\\* &amp; &lt;&#233; <https://x.io>", from: .markdown, to: .plain, expected: "a *b* & <é https://x.io"),
        MarkupCase(text: "a\\*b\\_c", from: .markdown, to: .plain, expected: "a*b_c"),
        MarkupCase(
            text: "**b** *i* _u_ `c` [l](https://u)", from: .markdown, to: .html,
            expected: "<strong>b</strong> <em>i</em> <em>u</em> <code>c</code> <a href=\"https://u\">l</a>"),
        MarkupCase(text: "one *unclosed", from: .markdown, to: .html, expected: "one *unclosed"),
        MarkupCase(
            text: "para\n\n```\ncode <x>\n```\nafter", from: .markdown, to: .html,
            expected: "<p>para</p><pre><code>code &lt;x&gt;</code></pre><p>after</p>"),
        MarkupCase(text: "```\nopen", from: .markdown, to: .html, expected: "<pre><code>open</code></pre>"),
        MarkupCase(text: "- a\ntext", from: .markdown, to: .html, expected: "<ul><li>a</li></ul><p>text</p>"),
        MarkupCase(
            text: "h1. Title\n\n*bold* _it_ @code@ \"link\":https://t.co", from: .textile, to: .html,
            expected: "<h1>Title</h1><p><strong>bold</strong> <em>it</em> <code>code</code> <a href=\"https://t.co\">link</a></p>"),
        MarkupCase(
            text: "<h3>T</h3><p><b>b</b> <a href=\"u\">l</a></p><ul><li>x</li></ul>", from: .html, to: .textile,
            expected: "h3. T\n\n*b* \"l\":u\n\n* x"),
        MarkupCase(text: "* item", from: .textile, to: .plain, expected: "- item"),
        MarkupCase(text: "same", from: .html, to: .html, expected: "same"),
    ])
    func markup(_ c: MarkupCase) {
        #expect(Markup.convert(c.text, from: c.from, to: c.to) == c.expected)
    }

    @Test func valueMapsAndDefaults() throws {
        let model = [
            ModelField("Severity", .singleSelect, values: ["Sev 1", "Sev 2", "Sev 3"]),
            ModelField("Tags", .multiSelect, values: ["a"], allowUnmapped: true),
        ]
        let map = ValueMap(
            toModel: ["Blocker": "Sev 1", "Critical": "Sev 1", "Major": "Sev 2"], toRepository: ["Sev 1": "Critical"], defaultModelValue: "Sev 3",
            defaultRepositoryValue: "Minor")
        let left = CollectionRules(
            projects: ["P"],
            fields: [FieldMapping("sev", .singleSelect, to: "Severity", valueMap: map), FieldMapping("tags", .multiSelect, to: "Tags")])
        let right = CollectionRules(
            projects: ["Q"],
            fields: [
                FieldMapping("severity", .singleSelect, to: "Severity"),
                FieldMapping("labels", .multiSelect, to: "Tags", valueMap: ValueMap([("A", "a")])),
            ]
        )
        let sync = try Synchronizer(
            IntegrationRules(
                model: model, left: left, right: right,
                routes: [
                    .fixed(from: .left, sourceProjects: ["P"], targetProject: "Q"), .fixed(from: .right, sourceProjects: ["Q"], targetProject: "P"),
                ]))
        // Many to one: Blocker and Critical are both Sev 1; unmapped Trivial takes the default Sev 3.
        for (value, expected) in [("Blocker", "Sev 1"), ("Critical", "Sev 1"), ("Trivial", "Sev 3")] {
            let d = try sync.decide(
                SyncInput(
                    source: .left,
                    sourceArtifact: Artifact(id: "1", project: "P", fields: ["sev": .select(value), "tags": .multiSelect(["a", "z", "a"])])))
            #expect(d.writes["severity"] == .select(expected))
            #expect(d.writes["labels"] == .multiSelect(["A", "z"]))
        }
        // Written back: the value in brackets (Critical) and the default for values without one.
        for (value, expected) in [("Sev 1", "Critical"), ("Sev 2", "Major"), ("Sev 3", "Minor")] {
            let d = try sync.decide(SyncInput(source: .right, sourceArtifact: Artifact(id: "2", project: "Q", fields: ["severity": .select(value)])))
            #expect(d.writes["sev"] == .select(expected))
        }
        #expect(
            throws: SyncError(
                .valueNotAccepted, subject: "field 'Severity'",
                reason: "value 'Sev 9' of 'severity' is not mapped and the model does not allow unmapped values")
        ) {
            try sync.decide(SyncInput(source: .right, sourceArtifact: Artifact(id: "2", project: "Q", fields: ["severity": .select("Sev 9")])))
        }
        var strict = map
        strict.defaultRepositoryValue = nil
        var rules = sync.rules
        rules.left.fields[0].valueMap = ValueMap(toModel: ["Major": "Sev 2"])
        let noDefault = try Synchronizer(rules)
        #expect(
            throws: SyncError(
                .valueNotAccepted, subject: "field 'sev'", reason: "model value 'Sev 1' of 'Severity' has no repository value and no default")
        ) {
            try noDefault.decide(SyncInput(source: .right, sourceArtifact: Artifact(id: "2", project: "Q", fields: ["severity": .select("Sev 1")])))
        }
    }

    @Test func constantsAndAppend() {
        let perProject = Transform.constantPerProject(["Desktop": .select("D"), "Web": .select("W")], fallback: .select("Other"))
        #expect(perProject.apply(.null, context: TransformContext(project: "Web")) == .select("W"))
        #expect(perProject.apply(.null, context: TransformContext(project: "Mobile")) == .select("Other"))
        #expect(Transform.constant(.string("Sev 3")).apply(.string("x")) == .string("Sev 3"))
        #expect(Transform.none.apply(.string("x")) == nil)
        let cases: [(FieldValue, FieldValue, FieldValue)] = [
            (.string("https://review/1"), .string("Reviews:"), .string("Reviews:\nhttps://review/1")),
            (.string("https://review/1"), .string("Reviews:\nhttps://review/1"), .string("Reviews:\nhttps://review/1")),
            (.string("x"), .null, .string("x")),
            (.null, .string("x"), .string("x")),
            (.string("x"), .string(""), .string("x")),
            (.richText("<b>b</b>", markup: .html), .richText("a", markup: .html), .richText("a<br><b>b</b>", markup: .html)),
            (.string("b"), .richText("a", markup: .markdown), .richText("a\nb", markup: .markdown)),
            (.richText("a", markup: .html), .richText("a", markup: .html), .richText("a", markup: .html)),
            (.richText("x", markup: .plain), .richText("", markup: .plain), .richText("x", markup: .plain)),
            (.multiSelect(["b", "c"]), .multiSelect(["a", "b"]), .multiSelect(["a", "b", "c"])),
            (.select("c"), .multiSelect(["a"]), .multiSelect(["a", "c"])),
            (.select("a"), .multiSelect(["a"]), .multiSelect(["a"])),
            (.webLinks([WebLink(url: "u2")]), .webLinks([WebLink(url: "u1")]), .webLinks([WebLink(url: "u1"), WebLink(url: "u2")])),
            (.location("u1"), .webLinks([WebLink(url: "u1")]), .webLinks([WebLink(url: "u1")])),
            (.location("u2"), .webLinks([]), .webLinks([WebLink(url: "u2")])),
            (.persons([Person(id: "2")]), .persons([Person(id: "1")]), .persons([Person(id: "1"), Person(id: "2")])),
            (.person(Person(id: "1")), .persons([Person(id: "1")]), .persons([Person(id: "1")])),
            (.person(Person(id: "2")), .persons([]), .persons([Person(id: "2")])),
            (
                .relationships([ArtifactReference(id: "B")]), .relationships([ArtifactReference(id: "A")]),
                .relationships([ArtifactReference(id: "A"), ArtifactReference(id: "B")])
            ),
            (.relationship(ArtifactReference(id: "A")), .relationships([ArtifactReference(id: "A")]), .relationships([ArtifactReference(id: "A")])),
            (.relationship(ArtifactReference(id: "B")), .relationships([]), .relationships([ArtifactReference(id: "B")])),
            (.long(2), .long(1), .long(2)),
        ]
        for (value, existing, expected) in cases {
            #expect(Transform.append.apply(value, context: TransformContext(existing: existing)) == expected)
        }
    }

    @Test func fieldValueText() {
        let values: [(FieldValue, String, Bool)] = [
            (.null, "", true), (.string("s"), "s", false), (.richText("<b>x</b>", markup: .html), "x", false), (.select("s"), "s", false),
            (.multiSelect(["a", "b"]), "a, b", false), (.boolean(false), "false", false),
            (.date(LocalDate(year: 2024, month: 1, day: 2)), "2024-01-02", false),
            (.dateTime(Date(timeIntervalSince1970: 1_704_164_645)), "2024-01-02T03:04:05Z", false), (.duration(60), "60", false),
            (.long(7), "7", false),
            (.double(1.5), "1.5", false), (.location("u"), "u", false), (.webLinks([WebLink(url: "u")]), "u", false),
            (.person(Person(username: "ada")), "ada", false), (.persons([Person(email: "e"), Person(id: "i")]), "e, i", false),
            (.persons([]), "", true),
            (.relationship(ArtifactReference(id: "A")), "A", false), (.relationships([]), "", true), (.webLinks([]), "", true),
            (.multiSelect([]), "", true),
        ]
        for (value, text, empty) in values {
            #expect(value.text == text)
            #expect(value.isEmpty == empty)
        }
        #expect(FieldValue.string("x").fits(.literalString))
        #expect(!FieldValue.string("x").fits(.richText))
        #expect(FieldValue.null.fits(.persons))
        #expect(DurationUnit.allCases.map(\.seconds) == [1, 60, 3_600, 86_400, 28_800])
    }
}

@Suite("Person reconciliation")
struct PersonReconciliationTests {
    static let directory = PersonDirectory(
        [
            Person(id: "u-1", username: "alice", email: "alice@corp.com"),
            Person(id: "bob", username: "robert", email: "bob@corp.com"),
            Person(id: "u-3", username: "carol", email: "Carol@Corp.com"),
            Person(id: "u-4", username: "u-9", email: "dave@corp.com"),
        ],
        fallback: Person(id: "svc", username: "tandem")
    )

    struct Case: Sendable, CustomTestStringConvertible {
        var source: Person
        var expected: String?
        var rule: PersonMatchRule
        var testDescription: String { self.rule.rawValue }
    }

    /// Guide L5958–5970: username/username, username/ID, ID/username, ID/ID, email/email, in that order; a step whose
    /// field is missing is skipped.
    @Test(arguments: [
        Case(source: Person(id: "x", username: "alice"), expected: "u-1", rule: .usernameToUsername),
        Case(source: Person(username: "bob"), expected: "bob", rule: .usernameToID),
        Case(source: Person(id: "u-9"), expected: "u-4", rule: .idToUsername),
        Case(source: Person(id: "u-3", username: "nobody"), expected: "u-3", rule: .idToID),
        Case(source: Person(email: "CAROL@corp.com"), expected: "u-3", rule: .emailToEmail),
        Case(source: Person(id: "?", username: "?", email: "?"), expected: "svc", rule: .fallback),
    ])
    func matches(_ c: Case) {
        let (person, rule) = Self.directory.reconcile(c.source)
        #expect(person?.id == c.expected)
        #expect(rule == c.rule)
    }

    /// After the guide's rules, a display name (case and spacing aside) that exactly one person has: Redmine shows an
    /// issue's assignee by id and name only, Jira Cloud by accountId, name and (sometimes) e-mail.
    @Test func aDisplayNameMatchesLastAndOnlyWhenItIsUnique() {
        let people = PersonDirectory([
            Person(id: "7", username: "ada", email: "ada@example.com", displayName: "Ada Lovelace"),
            Person(id: "8", displayName: "Sam Lee"), Person(id: "9", displayName: "sam  lee"),
            Person(id: "10", username: "mia", displayName: "Mia Krystof"),
        ])
        let ada = people.reconcile(Person(id: "5b109f2e9729b51b54dc274d", displayName: "ada  LOVELACE"))
        #expect(ada.person?.id == "7" && ada.rule == .displayNameToDisplayName)
        #expect(people.reconcile(Person(displayName: "Sam Lee")).rule == .unmatched, "two people are called Sam Lee")
        #expect(people.reconcile(Person(email: "ADA@example.com", displayName: "Mia Krystof")).rule == .emailToEmail, "e-mail first")
        #expect(people.reconcile(Person(displayName: "")).rule == .unmatched)
    }

    /// The people a connector lists for the target reach the decision through the input, before the rules' own.
    @Test func theTargetsListedPeopleMatchTheWrittenPersons() throws {
        let listed = PersonDirectory([Person(id: "q9", email: "ada@example.com", displayName: "Ada Q.")])
        let sync = Fixture.synchronizer()
        #expect(sync.writesPeople(to: .right) && sync.writesPeople(to: .left))
        let withListed = try sync.decide(SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue(), targetPeople: listed))
        #expect(withListed.writes["owner"] == .person(Person(id: "q9", email: "ada@example.com", displayName: "Ada Q.")))
        let withRules = try sync.decide(SyncInput(source: .left, sourceArtifact: Fixture.jiraIssue()))
        #expect(withRules.writes["owner"] == .person(Person(id: "ada", username: "q-ada", email: "ADA@example.com", displayName: "Ada L.")))
    }

    @Test func withoutFallbackAndForLists() {
        let bare = PersonDirectory([Person(id: "1", username: "a")])
        #expect(bare.reconcile(Person(username: "z")).rule == .unmatched)
        #expect(bare.reconcile(.person(Person(username: "z"))) == .null)
        #expect(
            bare.reconcile(.persons([Person(username: "a"), Person(id: "1"), Person(username: "z")])) == .persons([Person(id: "1", username: "a")]))
        #expect(bare.reconcile(.string("x")) == .string("x"))
    }
}
