import Foundation
import HTTP
import Postgres
import Redis
import TandemCluster
import TandemConnectors
import TandemCore
import TandemStore
import TandemTestSupport
import Testing

/// The cluster against the real trackers (Ops/trackers/up.sh): a Redmine project made for the run ↔ Roundup's `lab`
/// tracker, through the demo's mappings — status and priority value maps, descriptions upon creation, comments both
/// ways. N issues (half on each side, each with a comment, in assorted states) must each get exactly one twin, with
/// mapped values and comments once; then changes on both sides flow; then, once synced, a quiet period must write
/// nothing to either tracker (every artifact's version unchanged, no artifact added).
///
/// Environment: TANDEM_REDMINE_URL/_API_KEY/_MARKER_FIELD and TANDEM_ROUNDUP_URL/_USER/_PASSWORD (skipped without
/// them); TANDEM_E2E_REAL_ISSUES (default 200); TANDEM_E2E_REAL_QUIET_SECONDS (default 600, the issue's ten minutes).
/// Roundup's tracker is shared with other tests, so its feed starts at the test's start and the integration only takes
/// Roundup issues titled with this run's tag (a right-side filter); every Redmine issue of the run's project takes part.
@Suite(
    "Cluster end to end against real Redmine and Roundup", .serialized, .timeLimit(.minutes(35)),
    .disabled(if: ProcessInfo.processInfo.environment["TANDEM_E2E"] == "0", "TANDEM_E2E=0"),
    .enabled(
        if: ["TANDEM_REDMINE_URL", "TANDEM_REDMINE_API_KEY", "TANDEM_ROUNDUP_URL", "TANDEM_ROUNDUP_PASSWORD"].allSatisfy {
            ProcessInfo.processInfo.environment[$0] != nil
        }, "needs the real trackers (Ops/trackers/up.sh)"))
struct RealTrackerEndToEndTests {
    /// The process's environment, with the trackers' credentials also under the names a configuration's secrets may
    /// use (`${TANDEM_SECRET_…}`, docs/configuration.md).
    static let environment: [String: String] = {
        var environment = ProcessInfo.processInfo.environment
        for name in ["REDMINE_API_KEY", "ROUNDUP_PASSWORD"] { environment["TANDEM_SECRET_" + name] = environment["TANDEM_" + name] }
        return environment
    }()
    static let issues = environment["TANDEM_E2E_REAL_ISSUES"].flatMap(Int.init) ?? 200
    static let quietSeconds = environment["TANDEM_E2E_REAL_QUIET_SECONDS"].flatMap(Int.init) ?? 600

    /// Model values of each side's statuses and priorities (the demo's value maps).
    static let redmineStatus = ["New": "New", "In Progress": "In Progress", "Feedback": "In Progress", "Resolved": "Resolved", "Closed": "Closed"]
    static let roundupStatus = [
        "unread": "New", "chatting": "New", "in-progress": "In Progress", "need-eg": "In Progress", "testing": "In Progress",
        "done-cbb": "Resolved", "resolved": "Closed",
    ]
    static let redminePriority = ["Low": "Low", "Normal": "Normal", "High": "High", "Urgent": "Urgent", "Immediate": "Urgent"]
    static let roundupPriority = ["wish": "Low", "feature": "Normal", "bug": "High", "critical": "Urgent", "urgent": "Urgent"]

    /// Creates a Redmine project for the run (as the admin whose API key the tests have); returns its identifier.
    static func createRedmineProject(_ identifier: String) async throws -> String {
        try await offThePool { try createRedmineProjectBlocking(identifier) }
    }

    /// `createRedmineProject` for a static initializer, which cannot wait; it blocks its thread for one short request.
    static func createRedmineProjectBlocking(_ identifier: String) throws -> String {
        let url = environment["TANDEM_REDMINE_URL"]!
        let body = """
            {"project": {"name": "E2E \(identifier)", "identifier": "\(identifier)", "is_public": true, "tracker_ids": [1, 2, 3],
             "enabled_module_names": ["issue_tracking"]}}
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = [
            "-sS", "-X", "POST", "-H", "Content-Type: application/json", "-H", "X-Redmine-API-Key: \(environment["TANDEM_REDMINE_API_KEY"]!)",
            "--data", body, "\(url)/projects.json",
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any], let project = json["project"] as? [String: Any],
            project["id"] is Int
        else { throw POSIXError(.EIO) }
        return identifier
    }

    static func yaml(redmineProject: String, tag: String, descriptionLeftToRight: String = "upon-creation") -> String {
        """
        version: 1
        settings:
          changeDetectionInterval: 2s
        repositories:
        \(RealTrackerYAML.redmineRepository)
          - name: roundup
            type: roundup
            url: \(environment["TANDEM_ROUNDUP_URL"]!)
            auth:
              kind: basic
              username: \(environment["TANDEM_ROUNDUP_USER"] ?? "admin")
              password: ${TANDEM_SECRET_ROUNDUP_PASSWORD}
            eventRateLimit:
              eventsPerMinute: 100000
        models:
        \(RealTrackerYAML.defectModel())
        collections:
        \(RealTrackerYAML.redmineBugs(project: redmineProject))
          - name: roundup-issues
            repository: roundup
            artifactType: issue
            projects: [lab]
            model: Defect
            fields:
              - field: title
                modelField: title
              - field: description
                modelField: description
              - field: status
                modelField: status
                valueMap:
                  - repository: [unread, chatting]
                    model: New
                  - repository: [in-progress, need-eg, testing]
                    model: In Progress
                  - repository: done-cbb
                    model: Resolved
                  - repository: resolved
                    model: Closed
              - field: priority
                modelField: priority
                valueMap:
                  - repository: wish
                    model: Low
                  - repository: feature
                    model: Normal
                  - repository: bug
                    model: High
                  - repository: [critical, urgent]
                    model: Urgent
        integrations:
          - name: sync
            left: redmine-bugs
            right: roundup-issues
            running: true
            comments: both
            fieldFlows:
              description:
                leftToRight: \(descriptionLeftToRight)
                rightToLeft: upon-creation
            routes:
              - from: left
                sourceProjects: ["\(redmineProject)"]
                targetProject: lab
              - from: right
                sourceProjects: [lab]
                targetProject: "\(redmineProject)"
            filters:
              conditions:
                - side: right
                  field: title
                  operator: contains
                  value: "\(tag)"
            schedule:
              fullScanEnabled: false

        """
    }

    struct Sides: Sendable {
        let redmine: any Connector
        let roundup: any Connector
        let redmineProject: String
    }

    /// Every artifact of the run on one side, by id (Roundup: only those titled with the tag).
    static func artifacts(_ connector: any Connector, project: String, tag: String?) async throws -> [String: RepositoryArtifact] {
        var cursor: FeedCursor?
        var ids: [String] = []
        while true {
            let page = try await connector.changes(project: project, since: cursor, pageSize: 100)
            ids += page.changes.map(\.id)
            cursor = page.cursor
            if !page.hasMore { break }
        }
        var result: [String: RepositoryArtifact] = [:]
        for id in Set(ids) {
            guard let artifact = try? await connector.artifact(id: id) else { continue }
            if let tag, case .string(let title)? = artifact.fields["title"], !title.contains(tag) { continue }
            result[id] = artifact
        }
        return result
    }

    struct Report: CustomStringConvertible {
        var redmine = 0
        var roundup = 0
        var pairs = 0
        var unpairedOrDuplicated = 0
        var differing: [String] = []
        var description: String {
            "redmine \(self.redmine), roundup \(self.roundup), pairs \(self.pairs), unpaired/duplicated \(self.unpairedOrDuplicated), "
                + "differing \(self.differing.count) \(self.differing.prefix(4))"
        }
        func converged(_ n: Int) -> Bool {
            self.redmine == n && self.roundup == n && self.pairs == n && self.unpairedOrDuplicated == 0 && self.differing.isEmpty
        }
    }

    static func text(_ value: FieldValue?) -> String {
        switch value {
        case .string(let s)?, .select(let s)?: s
        case .richText(let s, _)?: s
        default: ""
        }
    }

    static func report(
        _ h: ClusterHarness, _ sides: Sides, tag: String
    ) async throws -> (Report, [String: RepositoryArtifact], [String: RepositoryArtifact]) {
        let left = try await Self.artifacts(sides.redmine, project: sides.redmineProject, tag: nil)
        let right = try await Self.artifacts(sides.roundup, project: "lab", tag: tag)
        let pairs = try await h.pairs()
        var report = Report(redmine: left.count, roundup: right.count, pairs: pairs.count)
        var leftSeen: [String: Int] = [:]
        var rightSeen: [String: Int] = [:]
        for pair in pairs {
            leftSeen[pair.left, default: 0] += 1
            rightSeen[pair.right, default: 0] += 1
        }
        report.unpairedOrDuplicated =
            left.keys.filter { leftSeen[$0] != 1 }.count + right.keys.filter { rightSeen[$0] != 1 }.count
        for pair in pairs {
            guard let l = left[pair.left], let r = right[pair.right] else {
                report.differing.append("#\(pair.left)↔issue\(pair.right) missing")
                continue
            }
            var problems: [String] = []
            if Self.text(l.fields["subject"]) != Self.text(r.fields["title"]) { problems.append("title") }
            if Self.redmineStatus[Self.text(l.fields["status"])] != Self.roundupStatus[Self.text(r.fields["status"])] {
                problems.append("status \(Self.text(l.fields["status"]))/\(Self.text(r.fields["status"]))")
            }
            if Self.redminePriority[Self.text(l.fields["priority"])] != Self.roundupPriority[Self.text(r.fields["priority"])] {
                problems.append("priority")
            }
            // Each side's comments appear on the other exactly once (a copy may carry its author's name first).
            func matches(_ a: String, _ b: String) -> Bool {
                let x = a.trimmingCharacters(in: .whitespacesAndNewlines)
                let y = b.trimmingCharacters(in: .whitespacesAndNewlines)
                return !x.isEmpty && !y.isEmpty && (x.contains(y) || y.contains(x))
            }
            for (from, to, name) in [(l.comments, r.comments, "roundup"), (r.comments, l.comments, "redmine")] {
                for c in from where !c.text.isEmpty {
                    let copies = to.filter { matches($0.text, c.text) }.count
                    if copies != 1 { problems.append("comment on \(name) \(copies) times") }
                }
            }
            if !problems.isEmpty { report.differing.append("#\(pair.left)↔issue\(pair.right) \(problems.joined(separator: ","))") }
        }
        return (report, left, right)
    }

    @Test("N issues with comments both ways between real trackers: one twin each, value maps, comments once; changes flow; then no writes")
    func realTrackers() async throws {
        // The trackers are this test's alone until it has converged; its quiet period checks only its own issues.
        await RealTrackerLock.shared.acquire()
        var locked = true
        func unlock() async {
            if locked { await RealTrackerLock.shared.release() }
            locked = false
        }
        let tag = "e2e" + UUID().uuidString.prefix(8).lowercased()
        let project: String
        let h: ClusterHarness
        do {
            project = try await Self.createRedmineProject(tag)
            h = try await ClusterHarness.start(environment: Self.environment) { _, _ in Self.yaml(redmineProject: project, tag: tag) }
        } catch {
            await unlock()
            throw error
        }
        do {
            let snapshot = try await h.runtime.snapshot(force: true)
            let sides = Sides(
                redmine: try h.runtime.connector(for: try #require(snapshot.repository("redmine"))),
                roundup: try h.runtime.connector(for: try #require(snapshot.repository("roundup"))), redmineProject: project)
            // Roundup's tracker holds every earlier test's issues: its feed starts now (and Redis's epoch is set, so the
            // coordinator does not rewind the cursor to the beginning as for a new installation).
            _ = try await h.redis.send("SET", h.prefix + "epoch", "\(Date().timeIntervalSince1970)")
            let integration = try #require(
                try await h.database.client.query("SELECT id FROM integrations WHERE name = 'sync'").first?.decode(Int64.self, at: 0))
            let roundupStart = sides.roundup.cursor(startingAt: try await sides.roundup.repositoryTime())
            try await PairStore(client: h.database.client).saveCursors(["lab": roundupStart.rawValue], integration: integration, side: .right)
            h.startCoordinator(id: "coordinator")
            try await h.startWorker(id: "worker-1")
            try await h.startWorker(id: "worker-2")
            let start = ContinuousClock.now
            let redmineStates = [("New", "Normal"), ("In Progress", "High"), ("Feedback", "Low"), ("Resolved", "Urgent")]
            let roundupStates = [("unread", "feature"), ("in-progress", "bug"), ("testing", "wish"), ("done-cbb", "critical")]
            for i in 0..<Self.issues {
                if i.isMultiple(of: 2) {
                    let (status, priority) = redmineStates[(i / 2) % redmineStates.count]
                    let id = try await sides.redmine.createArtifact(
                        ArtifactDraft(
                            project: project, artifactType: "1",
                            fields: [
                                "subject": .string("\(tag) redmine \(i)"), "description": .richText("about redmine \(i)", markup: .markdown),
                                "status": .select(status), "priority": .select(priority),
                            ])
                    ).artifactID
                    _ = try await sides.redmine.addComment(id: id, text: "comment on redmine \(i) \(tag)")
                } else {
                    let (status, priority) = roundupStates[(i / 2) % roundupStates.count]
                    let id = try await sides.roundup.createArtifact(
                        ArtifactDraft(
                            project: "lab", artifactType: "issue",
                            fields: [
                                "title": .string("\(tag) roundup \(i)"), "description": .richText("about roundup \(i)", markup: .plain),
                                "status": .select(status), "priority": .select(priority),
                            ])
                    ).artifactID
                    _ = try await sides.roundup.addComment(id: id, text: "comment on roundup \(i) \(tag)")
                }
            }
            let created = start.duration(to: .now)
            // Converged: pairs first (cheap), then the full comparison.
            _ = try await h.waitUntil(timeout: .seconds(600)) { try await h.pairs().count >= Self.issues }
            var (report, _, _) = try await Self.report(h, sides, tag: tag)
            for _ in 0..<12 where !report.converged(Self.issues) {
                try await Task.sleep(for: .seconds(5))
                (report, _, _) = try await Self.report(h, sides, tag: tag)
            }
            #expect(report.converged(Self.issues), "\(report)")
            print("e2e real trackers: \(Self.issues) issues created in \(created), converged \(start.duration(to: .now)) after the first: \(report)")

            // Changes on both sides: titles on Redmine, statuses on Roundup, comments each way — on different pairs (a
            // message added to a Roundup issue moves its status to "chatting": Roundup's own auditor).
            let pairs = try await h.pairs()
            let changed = Array(pairs.prefix(10))
            for (k, pair) in changed.enumerated() {
                if k.isMultiple(of: 2) {
                    _ = try await sides.redmine.updateFields(id: pair.left, ["subject": .string("\(tag) renamed on redmine \(k)")])
                } else {
                    _ = try await sides.roundup.updateFields(id: pair.right, ["status": .select("done-cbb")])
                }
            }
            for (k, pair) in pairs.dropFirst(10).prefix(6).enumerated() {
                if k.isMultiple(of: 2) {
                    _ = try await sides.roundup.addComment(id: pair.right, text: "later roundup comment \(k) \(tag)")
                } else {
                    _ = try await sides.redmine.addComment(id: pair.left, text: "later redmine comment \(k) \(tag)")
                }
            }
            // The changed pairs first (cheap to read), then everything once.
            let commented = Array(pairs.dropFirst(10).prefix(6))
            let flowed = try await h.waitUntil(timeout: .seconds(180)) {
                for (k, pair) in changed.enumerated() {
                    if k.isMultiple(of: 2) {
                        let twin = try await sides.roundup.artifact(id: pair.right)
                        if Self.text(twin.fields["title"]) != "\(tag) renamed on redmine \(k)" { return false }
                    } else if Self.text(try await sides.redmine.artifact(id: pair.left).fields["status"]) != "Resolved" {
                        return false
                    }
                }
                for (k, pair) in commented.enumerated() {
                    let text = k.isMultiple(of: 2) ? "later roundup comment \(k) \(tag)" : "later redmine comment \(k) \(tag)"
                    let other =
                        k.isMultiple(of: 2) ? try await sides.redmine.artifact(id: pair.left) : try await sides.roundup.artifact(id: pair.right)
                    if !other.comments.contains(where: { $0.text.contains(text) }) { return false }
                }
                return true
            }
            #expect(flowed, "titles Redmine → Roundup, statuses Roundup → Redmine (done-cbb → Resolved), comments both ways")
            (report, _, _) = try await Self.report(h, sides, tag: tag)
            #expect(report.converged(Self.issues), "after changes: \(report)")

            await unlock()
            // Quiet: nothing is written to either tracker. Every write moves an issue's update time, so each feed read
            // from the start of the quiet period must hold no issue of the run updated since then.
            try await Task.sleep(for: .seconds(6))  // let the last detections pass
            let quietFrom = (try await sides.redmine.repositoryTime(), try await sides.roundup.repositoryTime())
            let calls = h.runtime.http.apiCalls.snapshot()
            try await Task.sleep(for: .seconds(Self.quietSeconds))
            func updatedSince(_ connector: any Connector, project: String, _ from: Date, ids: Set<String>) async throws -> [String] {
                var cursor: FeedCursor? = connector.cursor(startingAt: from)
                var found: [String] = []
                while true {
                    let page = try await connector.changes(project: project, since: cursor, pageSize: 100)
                    found += page.changes.filter { $0.updated > from && ids.contains($0.id) }.map(\.id)
                    cursor = page.cursor
                    if !page.hasMore { return found }
                }
            }
            let finalPairs = try await h.pairs()
            let writtenLeft = try await updatedSince(sides.redmine, project: project, quietFrom.0, ids: Set(finalPairs.map(\.left)))
            let writtenRight = try await updatedSince(sides.roundup, project: "lab", quietFrom.1, ids: Set(finalPairs.map(\.right)))
            let callsAfter = h.runtime.http.apiCalls.snapshot()
            #expect(writtenLeft.isEmpty, "Redmine issues written while quiet: \(writtenLeft)")
            #expect(writtenRight.isEmpty, "Roundup issues written while quiet: \(writtenRight)")
            #expect(try await h.pairs().count == Self.issues, "no pair added while quiet")
            print(
                "e2e real trackers quiet: \(Self.quietSeconds) s, no write to \(finalPairs.count)+\(finalPairs.count) issues; API calls (reads) "
                    + "redmine \(callsAfter["redmine", default: 0] - calls["redmine", default: 0]), roundup \(callsAfter["roundup", default: 0] - calls["roundup", default: 0])"
            )
            #expect(h.exitedProcesses.isEmpty)
        } catch {
            await unlock()
            await h.finish()
            throw error
        }
        await unlock()
        await h.finish()
    }
}
