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
        func page(from: Date?, offset: Int, limit: Int) -> ChangeFeedWindow.RemotePage {
            self.calls += 1
            let all = self.rows.filter { from == nil || $0.value.0 >= from! }
                .sorted { ($0.value.0, Int($0.key)!) < ($1.value.0, Int($1.key)!) }
                .map { ChangedArtifact(id: $0.key, updated: $0.value.0, version: $0.value.1) }
            let page = Array(all.dropFirst(offset).prefix(limit))
            return .init(entries: page, isLast: offset + page.count >= all.count, repositoryTime: nil)
        }
    }

    func drain(_ feed: FakeFeed, from cursor: FeedCursor?, pageSize: Int) async throws -> ([ChangedArtifact], FeedCursor) {
        var cursor = cursor
        var all: [ChangedArtifact] = []
        for _ in 0..<100 {
            let page = try await ChangeFeedWindow.read(
                cursor: cursor, pageSize: pageSize, overlap: 5, remotePageSize: 3, tool: "fake"
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
}
