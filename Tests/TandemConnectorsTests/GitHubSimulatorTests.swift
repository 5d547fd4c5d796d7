import Foundation
import HTTP
import TandemSimulator
import Testing

/// The GitHub simulator (REST API 2022-11-28) over real HTTP: GitHub's description enforced on requests and answers,
/// tokens and private repositories, `Link` paging with pull requests mixed in, `since` at second granularity, ETags,
/// the primary quota, the secondary limit, bare 429s and archived repositories.
@Suite(.timeLimit(.minutes(3)))
struct GitHubSimulatorTests {
    static var fixtures: URL { GitHubSpecs.locate()! }

    static func recorded(_ file: String) throws -> JSONValue {
        try JSONValue.parse(try Data(contentsOf: Self.fixtures.appending(path: "github/octokit/\(file).raw-fixture.json")))
    }

    @Test func aMissingOrWrongTokenAnswers401AndPrivateRepositoriesAreHiddenFromTheNoScopeToken() async throws {
        let site = try await GitHubTestSite.make("auth")
        for token in [nil, "ghs-wrong"] {
            let response = try await site.call(.get, "/user", token: token)
            #expect(response.status == 401)
            #expect(
                try JSONValue.parse(response.body) == [
                    "message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401",
                ])
            #expect(response.header("x-ratelimit-limit") == "60")
        }
        let user = try await site.expect(200, .get, "/user")
        #expect(user["login"]?.string == "tandem")
        #expect(user["id"]?.int == 1)
        let classic = try await site.raw(.get, site.api + "/user", scheme: "token")
        #expect(classic.status == 200)
        let repository = try await site.expect(200, .get, "/repos/tandem/private")
        #expect(repository["private"]?.bool == true)
        for path in ["/repos/tandem/private", "/repos/tandem/private/issues", "/repos/tandem/private/labels"] {
            let hidden = try await site.expect(404, .get, path, token: GitHubTestSite.noScopeToken)
            #expect(hidden["message"]?.string == "Not Found")
        }
        try await site.expect(404, .post, "/repos/tandem/private/issues", ["title": "hidden"], token: GitHubTestSite.noScopeToken)
        // The `Link` form of its paths (`/repositories/<id>/…`) hides it the same way.
        let id = try #require(repository["id"]?.int)
        try await site.expect(200, .get, "/repositories/\(id)/issues")
        try await site.expect(404, .get, "/repositories/\(id)/issues", token: GitHubTestSite.noScopeToken)
        let visible = try await site.expect(200, .get, "/repos/tandem/demo", token: GitHubTestSite.noScopeToken)
        #expect(visible["private"]?.bool == false)
        #expect(visible["has_issues"]?.bool == true)
        #expect(visible["archived"]?.bool == false)
        // Another API version than the one pinned is refused.
        let version = try await site.raw(.get, site.api + "/user", headers: [HTTPHeader("X-GitHub-Api-Version", "2021-01-01")])
        #expect(version.status == 400)
        let pinned = try await site.raw(.get, site.api + "/user", headers: [HTTPHeader("X-GitHub-Api-Version", "2022-11-28")])
        #expect(pinned.status == 200)
        try await site.expectResponsesValid()
    }

    @Test func requestsOffTheDescriptionAreRefusedAndCounted() async throws {
        let site = try await GitHubTestSite.make("validate")
        let undeclared = try await site.expect(400, .get, "/repos/tandem/demo/issues?colour=blue")
        #expect(undeclared["message"]?.string?.contains("colour") == true)
        try await site.expect(400, .get, "/repos/tandem/demo/issues?per_page=many")
        try await site.expect(400, .get, "/repos/tandem/demo/issues?state=half-open")
        let wrongType = try await site.expect(422, .post, "/repos/tandem/demo/issues", ["title": "t", "labels": "bug"])
        #expect(wrongType["message"]?.string?.hasPrefix("Invalid request.\n\nFor 'properties/labels'") == true)
        let noTitle = try await site.expect(422, .post, "/repos/tandem/demo/issues", ["body": "no title"])
        #expect(noTitle["message"]?.string == "Invalid request.\n\n\"title\" wasn't supplied.")
        let notJSON = try await site.raw(.post, site.api + "/repos/tandem/demo/issues", body: Data("{title".utf8))
        #expect(notJSON.status == 400)
        #expect(try JSONValue.parse(notJSON.body)["message"]?.string == "Problems parsing JSON")
        let stats = try await site.stats()
        #expect(stats["requestValidationFailures"]?.int == 6)
        #expect(stats["creates"]?.int == 0)
        // GitHub's own checks: an unknown assignee or milestone is a 422 `Validation Failed`, not a schema failure.
        let assignee = try await site.expect(422, .post, "/repos/tandem/demo/issues", ["title": "t", "assignees": ["nobody"]])
        #expect(assignee["message"]?.string == "Validation Failed")
        #expect(assignee["errors"]?[0]?["field"]?.string == "assignees")
        #expect(assignee["errors"]?[0]?["value"]?.string == "nobody")
        try await site.expect(422, .post, "/repos/tandem/demo/issues", ["title": "t", "milestone": 99])
        #expect(try await site.stats()["requestValidationFailures"]?.int == 6)
        try await site.expectResponsesValid()
    }

    @Test func aScenarioAnswersWhatGitHubAnswers() async throws {
        let site = try await GitHubTestSite.make("scenario")
        #expect(try await site.expect(200, .get, "/users/octocat")["email"]?.string == "octocat@example.com")
        #expect(try await site.expect(200, .get, "/users/mona")["email"]?.string == "mona@example.com")
        try await site.expect(404, .get, "/users/nobody")
        let limits = try await site.expect(200, .get, "/rate_limit")
        #expect(limits["resources"]?["core"]?["limit"]?.int == 5000)
        let labels = try await site.expect(200, .get, "/repos/tandem/demo/labels")
        #expect(labels.array?.compactMap { $0["name"]?.string } == ["bug", "enhancement", "priority: high", "priority: low"])
        let milestones = try await site.expect(200, .get, "/repos/tandem/demo/milestones")
        #expect(milestones.array?.compactMap { $0["title"]?.string } == ["v1", "v2"])
        let assignees = try await site.expect(200, .get, "/repos/tandem/demo/assignees")
        #expect(Set(assignees.array?.compactMap { $0["login"]?.string } ?? []) == ["tandem", "octocat", "mona"])
        let created = try await site.call(
            .post, "/repos/tandem/demo/issues",
            ["title": "Scenario", "body": "Text", "labels": ["bug", "sync"], "assignees": ["octocat"], "milestone": 1])
        #expect(created.status == 201)
        let issue = try JSONValue.parse(created.body)
        let number = issue["number"]?.int ?? 0
        #expect(created.header("Location") == "\(site.api)/repos/tandem/demo/issues/\(number)")
        #expect(issue["html_url"]?.string == "https://github.com/tandem/demo/issues/\(number)")
        #expect(issue["labels"]?.array?.compactMap { $0["name"]?.string } == ["bug", "sync"])
        #expect(issue["assignee"]?["login"]?.string == "octocat")
        #expect(issue["milestone"]?["title"]?.string == "v1")
        // The members of a recorded create answer, all there.
        let recorded = try Self.recorded("add-labels-to-issue").array?.first {
            $0["method"] == "post" && $0["status"]?.int == 201 && ($0["path"]?.string?.hasSuffix("/issues") ?? false)
        }
        let members = Set((recorded?["response"]?.object ?? [:]).keys)
        let missing = members.subtracting((issue.object ?? [:]).keys)
        #expect(!members.isEmpty)
        #expect(missing.isEmpty, "missing \(missing)")
        #expect(try await site.expect(200, .get, "/repos/tandem/demo/labels").array?.count == 5)
        for (query, count) in [
            ("labels=bug,SYNC", 1), ("labels=bug,enhancement", 0), ("assignee=octocat", 1), ("assignee=none", 0), ("milestone=1", 1),
            ("milestone=none", 0), ("creator=tandem", 1), ("state=closed", 0),
        ] {
            #expect(try await site.expect(200, .get, "/repos/tandem/demo/issues?\(query)").array?.count == count, "\(query)")
        }
        let closed = try await site.expect(
            200, .patch, "/repos/tandem/demo/issues/\(number)", ["state": "closed", "state_reason": "not_planned", "labels": ["enhancement"]])
        #expect(closed["state"]?.string == "closed")
        #expect(closed["state_reason"]?.string == "not_planned")
        #expect(closed["closed_by"]?["login"]?.string == "tandem")
        let added = try await site.expect(200, .post, "/repos/tandem/demo/issues/\(number)/labels", ["labels": ["Priority: High", "new-one"]])
        #expect(added.array?.compactMap { $0["name"]?.string } == ["enhancement", "priority: high", "new-one"])
        let comment = try await site.expect(201, .post, "/repos/tandem/demo/issues/\(number)/comments", ["body": "A comment"])
        #expect(comment["html_url"]?.string == "https://github.com/tandem/demo/issues/\(number)#issuecomment-\(comment["id"]?.int ?? 0)")
        #expect(try await site.expect(200, .get, "/repos/tandem/demo/issues/\(number)/comments").array?.count == 1)
        #expect(try await site.expect(200, .get, "/repos/tandem/demo/issues/comments?sort=updated&direction=asc").array?.count == 1)
        try await site.expect(200, .patch, "/repos/tandem/demo/issues/comments/\(comment["id"]?.int ?? 0)", ["body": "Edited"])
        try await site.expect(204, .put, "/repos/tandem/demo/issues/\(number)/lock")
        let got = try await site.expect(200, .get, "/repos/tandem/demo/issues/\(number)")
        #expect(got["locked"]?.bool == true)
        #expect(got["comments"]?.int == 1)
        try await site.expect(204, .delete, "/repos/tandem/demo/issues/\(number)/lock")
        try await site.expect(404, .get, "/repos/tandem/demo/issues/9999")
        let stats = try await site.stats()
        #expect(stats["creates"]?.int == 1)
        #expect(stats["writes"]?.int == 7)
        try await site.expectResponsesValid()
    }

    @Test func linkPagingOver250IssuesWithPullRequestsMixedInReturnsEveryIssueOnceInUpdatedOrder() async throws {
        let site = try await GitHubTestSite.make("paging")
        // 250 items, every fifth a pull request; updated three to a second, in an order unlike their numbers.
        let base = try #require(ISO8601DateFormatter().date(from: "2026-12-08T01:00:00Z"))
        let items: [JSONValue] = (0..<250).map { n in
            let updated = ISO8601DateFormatter().string(from: base.addingTimeInterval(TimeInterval(((n * 7) % 250) / 3)))
            return [
                "title": .string("Paged \(n)"), "pullRequest": .bool(n % 5 == 4), "createdAt": "2026-12-01T00:00:00Z", "updatedAt": .string(updated),
                "state": n % 3 == 0 ? "closed" : "open",
            ]
        }
        #expect(try await site.seed(["items": .array(items)]).count == 250)
        let (all, pages) = try await site.all("/repos/tandem/demo/issues?state=all&sort=updated&direction=asc&per_page=100")
        #expect(pages.count == 3)
        #expect(all.count == 250)
        #expect(Set(all.compactMap { $0["number"]?.int }).count == 250)
        #expect(all.count { $0["pull_request"] != nil } == 50)
        #expect(all.filter { $0["pull_request"] != nil }.allSatisfy { $0["html_url"]?.string?.contains("/pull/") == true })
        let stamps = all.compactMap { $0["updated_at"]?.string }
        #expect(stamps == stamps.sorted())
        #expect(stamps.first == "2026-12-08T01:00:00Z")
        // The links, as recorded: by repository id, the request's query with `page` set.
        let first = GitHubTestSite.links(pages[0])
        #expect(Set(first.keys) == ["next", "last"])
        #expect(first["next"]?.hasPrefix("\(site.api)/repositories/") == true)
        #expect(first["next"]?.hasSuffix("/issues?state=all&sort=updated&direction=asc&per_page=100&page=2") == true)
        #expect(Set(GitHubTestSite.links(pages[1]).keys) == ["prev", "next", "last", "first"])
        #expect(Set(GitHubTestSite.links(pages[2]).keys) == ["prev", "first"])
        // Defaults: open only, newest first, 30 a page.
        let open = try await site.all("/repos/tandem/demo/issues")
        #expect(open.items.count == items.count { $0["state"] != "closed" })
        #expect(open.pages.count == 6)
        #expect(try JSONValue.parse(try #require(open.pages.first).body).array?.count == 30)
        try await site.expectResponsesValid()
    }

    @Test func sinceIsSecondGranularAndKeepsEveryUpdateOfThatSecond() async throws {
        let site = try await GitHubTestSite.make("since")
        let numbers = try await site.seed([
            "items": [
                ["title": "before", "updatedAt": "2026-12-08T01:02:02Z"], ["title": "same 1", "updatedAt": "2026-12-08T01:02:03Z"],
                ["title": "same 2", "updatedAt": "2026-12-08T01:02:03Z"],
                ["title": "same 3", "pullRequest": true, "updatedAt": "2026-12-08T01:02:03Z"],
                ["title": "after", "updatedAt": "2026-12-08T01:02:04Z"],
            ]
        ])
        #expect(numbers.count == 5)
        for since in ["2026-12-08T01:02:03Z", "2026-12-08T01:02:03.900Z", "2026-12-08T02:02:03%2B01:00"] {
            let page = try await site.expect(200, .get, "/repos/tandem/demo/issues?state=all&sort=updated&direction=asc&since=\(since)")
            #expect(page.array?.compactMap { $0["title"]?.string } == ["same 1", "same 2", "same 3", "after"], "since=\(since)")
        }
        try await site.expect(400, .get, "/repos/tandem/demo/issues?since=yesterday")
        // Comments: the repository-wide feed filters the same way.
        let issue = numbers[0]
        try await site.expect(201, .post, "/repos/tandem/demo/issues/\(issue)/comments", ["body": "now"])
        #expect(try await site.expect(200, .get, "/repos/tandem/demo/issues/comments?since=2000-01-01T00:00:00Z").array?.count == 1)
        #expect(try await site.expect(200, .get, "/repos/tandem/demo/issues/comments?since=2999-01-01T00:00:00Z").array?.count == 0)
        try await site.expectResponsesValid()
    }

    @Test func anETagAnswers304WithoutSpendingTheQuota() async throws {
        let site = try await GitHubTestSite.make("etag")
        try await site.seed(["count": 3])
        let first = try await site.call(.get, "/repos/tandem/demo/issues")
        let tag = try #require(first.header("ETag"))
        let remaining = try #require(first.header("x-ratelimit-remaining").flatMap { Int($0) })
        let notModified = try await site.call(.get, "/repos/tandem/demo/issues", headers: [HTTPHeader("If-None-Match", tag)])
        #expect(notModified.status == 304)
        #expect(notModified.body.isEmpty)
        #expect(notModified.header("ETag") == tag)
        #expect(notModified.header("x-ratelimit-remaining").flatMap { Int($0) } == remaining)
        let again = try await site.call(.get, "/repos/tandem/demo/issues")
        #expect(again.header("x-ratelimit-remaining").flatMap { Int($0) } == remaining - 1)
        // A change makes the old tag stale.
        try await site.expect(201, .post, "/repos/tandem/demo/issues", ["title": "new"])
        let changed = try await site.call(.get, "/repos/tandem/demo/issues", headers: [HTTPHeader("If-None-Match", tag)])
        #expect(changed.status == 200)
        #expect(changed.header("ETag") != tag)
        #expect(try await site.stats()["notModified"]?.int == 1)
        try await site.expectResponsesValid()
    }

    @Test func the81stContentCreatingRequestInAMinuteIsSecondaryLimited() async throws {
        let site = try await GitHubTestSite.make("secondary")
        for n in 1...80 {
            let response = try await site.call(.post, "/repos/tandem/demo/issues", ["title": .string("Burst \(n)")])
            #expect(response.status == 201, "create \(n): \(response.status)")
        }
        let limited = try await site.call(.post, "/repos/tandem/demo/issues", ["title": "Burst 81"])
        #expect(limited.status == 403)
        #expect(limited.header("retry-after") == "60")
        #expect(try JSONValue.parse(limited.body)["message"]?.string?.hasPrefix("You have exceeded a secondary rate limit.") == true)
        // Reads go on.
        try await site.expect(200, .get, "/repos/tandem/demo/issues?per_page=1")
        let stats = try await site.stats()
        #expect(stats["creates"]?.int == 80)
        #expect(stats["secondaryLimited"]?.int == 1)
        // The hourly threshold is a setting too.
        let hourly = try await GitHubTestSite.make("secondary-hour", settings: ["secondaryPerHour": 2])
        for status in [201, 201, 403] { try await hourly.expect(status, .post, "/repos/tandem/demo/issues", ["title": "h"]) }
        try await site.expectResponsesValid()
        try await hourly.expectResponsesValid()
    }

    @Test func anExhaustedPrimaryQuotaAnswers403Or429UntilItsWindowEnds() async throws {
        let site = try await GitHubTestSite.make("primary", settings: ["primaryLimit": 3])
        for remaining in [2, 1, 0] {
            let response = try await site.call(.get, "/user")
            #expect(response.status == 200)
            #expect(response.header("x-ratelimit-remaining") == String(remaining))
            #expect(response.header("x-ratelimit-limit") == "3")
            #expect(response.header("x-ratelimit-resource") == "core")
        }
        // `GET /rate_limit` costs nothing.
        #expect(try await site.expect(200, .get, "/rate_limit")["rate"]?["remaining"]?.int == 0)
        let exhausted = try await site.call(.get, "/user")
        #expect(exhausted.status == 403)
        #expect(exhausted.header("x-ratelimit-remaining") == "0")
        #expect(try JSONValue.parse(exhausted.body)["message"]?.string?.hasPrefix("API rate limit exceeded") == true)
        let reset = try #require(exhausted.header("x-ratelimit-reset").flatMap { Double($0) })
        #expect(reset > Date().timeIntervalSince1970 + 3000)
        try await site.settings(["primaryLimitStatus": 429])
        #expect(try await site.call(.get, "/user").status == 429)
        // Once the window is over, the quota is whole again.
        try await site.settings(["primaryWindowSeconds": 1])
        try await Task.sleep(for: .milliseconds(1100))
        #expect(try await site.call(.get, "/user").status == 200)
        #expect(try await site.stats()["rateLimited"]?.int == 2)
        try await site.expectResponsesValid()
    }

    @Test func bare429sCarryNoRateLimitHeaders() async throws {
        let site = try await GitHubTestSite.make("bare429", settings: ["bare429Count": 2])
        for _ in 0..<2 {
            let response = try await site.call(.get, "/repos/tandem/demo/issues")
            #expect(response.status == 429)
            #expect(response.body.isEmpty)
            #expect(response.headers.allSatisfy { !$0.name.lowercased().hasPrefix("x-ratelimit") })
            #expect(response.header("retry-after") == nil)
        }
        let served = try await site.call(.get, "/repos/tandem/demo/issues")
        #expect(served.status == 200)
        #expect(served.header("x-ratelimit-remaining") != nil)
        #expect(try await site.stats()["rateLimited"]?.int == 2)
    }

    @Test func anArchivedRepositoryRefusesWrites() async throws {
        let site = try await GitHubTestSite.make("archived")
        let number = try await site.expect(201, .post, "/repos/tandem/demo/issues", ["title": "before"])["number"]?.int ?? 0
        try await site.settings(["archived": ["tandem/demo"]])
        let refused = try await site.expect(403, .post, "/repos/tandem/demo/issues", ["title": "after"])
        #expect(refused["message"]?.string == "Repository was archived so is read-only.")
        try await site.expect(403, .patch, "/repos/tandem/demo/issues/\(number)", ["title": "renamed"])
        try await site.expect(403, .post, "/repos/tandem/demo/issues/\(number)/comments", ["body": "c"])
        #expect(try await site.expect(200, .get, "/repos/tandem/demo")["archived"]?.bool == true)
        #expect(try await site.expect(200, .get, "/repos/tandem/demo/issues").array?.count == 1)
        try await site.expect(201, .post, "/repos/tandem/private/issues", ["title": "elsewhere"])
        #expect(try await site.stats()["creates"]?.int == 2)
        try await site.expectResponsesValid()
    }

    /// The validator reads GitHub's JSON Schema 2020-12: the recorded answers pass (with the quirks list), and a
    /// recorded answer with one thing wrong fails.
    @Test func recordedAnswersPassGitHubsDescriptionAndAlteredOnesFail() throws {
        let document = try GitHubSpecs(directory: Self.fixtures).document
        func check(_ method: String, _ path: String, status: Int, _ body: JSONValue) -> [String] {
            guard case .operation(let operation, _) = document.match(method: method, path: path) else { return ["no operation for \(path)"] }
            return document.validateResponse(operation, status: status, body: body).map(\.description)
        }
        var checked = 0
        for file in ["add-labels-to-issue", "paginate-issues"] {
            for exchange in try Self.recorded(file).array ?? [] {
                guard let path = exchange["path"]?.string?.split(separator: "?").first, path.hasPrefix("/repos/"),
                    path.split(separator: "/").count > 3,
                    let status = exchange["status"]?.int, status < 300, let response = exchange["response"], response != .null
                else { continue }
                #expect(check(exchange["method"]?.string?.uppercased() ?? "", String(path), status: status, response) == [], "\(path)")
                checked += 1
            }
        }
        #expect(checked == 16)
        // The recorded 422 is a `ValidationError`, the shape the simulator's 422s take.
        let refused = try #require(try Self.recorded("errors").array?.first { $0["status"]?.int == 422 }?["response"])
        #expect(document.validate(refused, against: "#/$defs/ValidationError") == [])
        #expect(refused["errors"]?[0]?["code"]?.string == "invalid")
        let issue = try #require(try Self.recorded("paginate-issues").array?[1]["response"])
        #expect(check("POST", "/repos/o/r/issues", status: 201, issue) == [])
        var altered = try #require(issue.object)
        altered["number"] = nil
        altered["state_reason"] = "bogus"
        altered["created_at"] = "yesterday"
        altered["assignee"] = "octocat"
        let failures = check("POST", "/repos/o/r/issues", status: 201, .object(altered))
        #expect(failures.count == 4, "\(failures)")
        #expect(failures.contains { $0.hasPrefix("number: required") })
        #expect(failures.contains { $0.hasPrefix("created_at: \"yesterday\" is not a valid date-time") })
        #expect(failures.contains { $0.hasPrefix("state_reason:") })
        #expect(failures.contains { $0.hasPrefix("assignee: expected object or null, got string") })
    }
}
