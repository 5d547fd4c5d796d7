import Foundation
import Testing

@testable import TandemConnectors

/// The shared feed logic on its own, with a fake repository whose pages are small: many entries in one
/// second, several repository pages per feed page, late arrivals inside the overlap window.
@Suite struct ChangeFeedWindowTests {
    /// A repository list: entries with `updated ≥ from`, ordered by (updated, id), offset-paged.
    final class FakeFeed: @unchecked Sendable {
        var rows: [String: (Date, String)] = [:]
        var calls = 0
        /// The repository's clock, reported with each page (nil: none).
        var now: Date?
        func page(from: Date?, offset: Int, limit: Int) -> ChangeFeedWindow.RemotePage {
            self.calls += 1
            let all = self.rows.filter { from == nil || $0.value.0 >= from! }
                .sorted { ($0.value.0, Int($0.key)!) < ($1.value.0, Int($1.key)!) }
                .map { ChangedArtifact(id: $0.key, updated: $0.value.0, version: $0.value.1) }
            let page = Array(all.dropFirst(offset).prefix(limit))
            return .init(entries: page, isLast: offset + page.count >= all.count, repositoryTime: self.now)
        }
    }

    func drain(
        _ feed: FakeFeed, from cursor: FeedCursor?, pageSize: Int, resolution: TimeInterval = 0
    ) async throws -> ([ChangedArtifact], FeedCursor) {
        var cursor = cursor
        var all: [ChangedArtifact] = []
        for _ in 0..<100 {
            let page = try await ChangeFeedWindow.read(
                cursor: cursor, pageSize: pageSize, overlap: 5, resolution: resolution, remotePageSize: 3, tool: "fake"
            ) { from, offset, limit in feed.page(from: from, offset: offset, limit: limit) }
            all += page.changes
            cursor = page.cursor
            if !page.hasMore { break }
        }
        return (all, cursor!)
    }

    @Test func manyEntriesInOneSecondAcrossSmallPages() async throws {
        let feed = FakeFeed()
        let second = Date(timeIntervalSince1970: 1_800_000_000)
        for id in 1...20 { feed.rows["\(id)"] = (second, "v1") }
        let (first, cursor) = try await self.drain(feed, from: nil, pageSize: 4)
        #expect(first.map(\.id) == (1...20).map(String.init))

        // Late arrivals in the same second (lower and higher ids), one re-edited in the same second.
        feed.rows["0"] = (second, "v1")
        feed.rows["21"] = (second, "v1")
        feed.rows["7"] = (second, "v2")
        let (second2, cursor2) = try await self.drain(feed, from: cursor, pageSize: 4)
        #expect(Set(second2.map(\.id)) == ["0", "7", "21"])
        #expect(second2.count == 3)

        // Nothing new: nothing delivered, however often asked.
        let (third, _) = try await self.drain(feed, from: cursor2, pageSize: 4)
        #expect(third.isEmpty)
    }

    @Test func entriesOlderThanTheWindowAreNotRedelivered() async throws {
        let feed = FakeFeed()
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        feed.rows["1"] = (t, "a")
        let (_, cursor) = try await self.drain(feed, from: nil, pageSize: 10)
        feed.rows["2"] = (t + 60, "b")
        let (next, cursor2) = try await self.drain(feed, from: cursor, pageSize: 10)
        #expect(next.map(\.id) == ["2"])
        // A repository that ignores the lower bound (Roundup with a malformed date) returns everything:
        // entries before the window are dropped, not delivered again.
        let ignoring = try await ChangeFeedWindow.read(cursor: cursor2, pageSize: 10, overlap: 5, remotePageSize: 10, tool: "fake") {
            _, offset, limit in
            feed.page(from: nil, offset: offset, limit: limit)
        }
        #expect(ignoring.changes.isEmpty)
        #expect(!ignoring.hasMore)
    }

    @Test func startingCursorUsesTheGivenRepositoryTime() async throws {
        let feed = FakeFeed()
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        feed.rows["1"] = (t - 3600, "old")
        feed.rows["2"] = (t + 1, "new")
        let (entries, _) = try await self.drain(feed, from: ChangeFeedWindow.cursor(startingAt: t), pageSize: 10)
        #expect(entries.map(\.id) == ["2"])
    }

    /// Redmine's case: a comment in the same second as the update before it changes neither the time nor
    /// any listed field, so the version stays. An entry read while its second was open is delivered once
    /// more by the first read dated after that second (plus a second of slack), and never again.
    @Test func entryReadInItsOpenSecondIsDeliveredOnceMoreAfterIt() async throws {
        let feed = FakeFeed()
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        feed.rows["1"] = (t, "a")
        feed.rows["2"] = (t - 30, "old")
        feed.now = t + 0.4
        let (first, cursor) = try await self.drain(feed, from: ChangeFeedWindow.cursor(startingAt: t - 1), pageSize: 10, resolution: 1)
        #expect(first.map(\.id) == ["1"])
        // Still within the second (and its slack): nothing new, however often asked — no loop across pages.
        feed.now = t + 1.9
        let (early, cursor2) = try await self.drain(feed, from: cursor, pageSize: 1, resolution: 1)
        #expect(early.isEmpty)
        // Settled: delivered once more (the same version), then never again.
        feed.now = t + 2
        let (confirmed, cursor3) = try await self.drain(feed, from: cursor2, pageSize: 10, resolution: 1)
        #expect(confirmed.map(\.id) == ["1"])
        #expect(confirmed.map(\.version) == ["a"])
        feed.now = t + 3
        let (after, _) = try await self.drain(feed, from: cursor3, pageSize: 10, resolution: 1)
        #expect(after.isEmpty)
    }

    @Test func entryReadAfterItsSecondIsDeliveredOnce() async throws {
        let feed = FakeFeed()
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        feed.rows["1"] = (t, "a")
        feed.now = t + 2
        let (first, cursor) = try await self.drain(feed, from: ChangeFeedWindow.cursor(startingAt: t - 1), pageSize: 10, resolution: 1)
        #expect(first.map(\.id) == ["1"])
        feed.now = t + 4
        let (again, _) = try await self.drain(feed, from: cursor, pageSize: 10, resolution: 1)
        #expect(again.isEmpty)
        // For a repository whose versions show every change (resolution 0), an entry is never held open.
        feed.now = t
        let (exact, cursor3) = try await self.drain(feed, from: ChangeFeedWindow.cursor(startingAt: t - 1), pageSize: 10)
        feed.now = t + 10
        #expect(exact.map(\.id) == ["1"])
        #expect(try await self.drain(feed, from: cursor3, pageSize: 10).0.isEmpty)
    }

    /// Redmine behind Puma sends no `Date`: the local clock stands in, with slack for the hosts' clocks.
    @Test func withoutARepositoryClockTheLocalClockDecides() async throws {
        let feed = FakeFeed()
        feed.now = nil
        let t = Date().addingTimeInterval(-0.5)
        feed.rows["1"] = (t, "fresh")
        feed.rows["2"] = (t - 60, "old")
        let (first, cursor) = try await self.drain(feed, from: ChangeFeedWindow.cursor(startingAt: t - 120), pageSize: 10, resolution: 1)
        #expect(Set(first.map(\.id)) == ["1", "2"])
        // Within the local slack: not yet.
        let (early, cursor2) = try await self.drain(feed, from: cursor, pageSize: 10, resolution: 1)
        #expect(early.isEmpty)
        // A repository clock (or the local one, later) past the slack: the fresh one once more, the old one never.
        feed.now = t + 2 + ChangeFeedWindow.localClockSlack
        let (confirmed, cursor3) = try await self.drain(feed, from: cursor2, pageSize: 10, resolution: 1)
        #expect(confirmed.map(\.id) == ["1"])
        #expect(try await self.drain(feed, from: cursor3, pageSize: 10, resolution: 1).0.isEmpty)
    }

    /// Many unsettled entries and a small page: each is confirmed once, in order, and the feed ends.
    @Test func manyUnsettledEntriesAreConfirmedAcrossPages() async throws {
        let feed = FakeFeed()
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        for id in 1...9 { feed.rows["\(id)"] = (t, "v") }
        feed.now = t
        let (first, cursor) = try await self.drain(feed, from: ChangeFeedWindow.cursor(startingAt: t - 1), pageSize: 2, resolution: 1)
        #expect(first.count == 9)
        feed.rows["10"] = (t + 5, "v")
        feed.now = t + 5
        let (second, cursor2) = try await self.drain(feed, from: cursor, pageSize: 2, resolution: 1)
        #expect(second.map(\.id) == (1...10).map(String.init))
        feed.now = t + 7
        let (third, cursor3) = try await self.drain(feed, from: cursor2, pageSize: 2, resolution: 1)
        #expect(third.map(\.id) == ["10"])
        feed.now = t + 60
        #expect(try await self.drain(feed, from: cursor3, pageSize: 2, resolution: 1).0.isEmpty)
    }
}
