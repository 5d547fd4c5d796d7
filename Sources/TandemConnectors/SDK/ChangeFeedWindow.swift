import Foundation
import HTTP

/// The change-feed logic every connector shares: a cursor holding the high-water mark (the greatest
/// `updated` delivered) and the versions delivered within the overlap window behind it.
///
/// Each read asks the repository for everything updated at or after `mark − overlap`, in (updated, id)
/// order, skips entries whose (id, version) the cursor already delivered, and returns at most `pageSize`
/// new ones. So entries sharing a second with the mark, late commits with earlier timestamps inside the
/// window, and several updates of one artifact within a second (new version) are all seen.
///
/// A version can hide a change: Redmine's list shows neither journals nor attachments and its times have
/// whole seconds, so a comment added in the same second as the update before it leaves `updated_on` and
/// every listed field unchanged. An entry read while its timestamp's second may still be open on the
/// repository's clock is therefore *unsettled*: it is delivered once more by the first read after that
/// second has passed, so whatever happened within the second is read by a sync that starts after it. An
/// entry read when its second has passed is delivered once per version.
///
/// The repository's clock is the `Date` of its answer, with a second of slack (the header and the row's time
/// are taken at different moments, perhaps by a proxy). A repository that sends no `Date` (Redmine behind
/// Puma) is read by the local clock, with `localClockSlack` more for the hosts' clocks to differ by.
struct ChangeFeedWindow {
    private struct Position: Codable {
        /// High-water mark: epoch seconds of the greatest delivered `updated`.
        var m: Double?
        /// id → version delivered with `updated` ≥ mark − overlap.
        var s: [String: Seen] = [:]
    }

    private struct Seen: Codable {
        var u: Double
        var v: String
        /// Delivered while its second could still take changes the version does not show (nil: settled).
        var o: Bool?
    }

    let overlap: TimeInterval
    /// The repository's timestamp resolution (0: every change shows in the version; nothing is unsettled).
    let resolution: TimeInterval
    private var position: Position

    init(cursor: FeedCursor?, overlap: TimeInterval, resolution: TimeInterval = 0) throws(ConnectorError) {
        self.overlap = overlap
        self.resolution = resolution
        guard let cursor else {
            self.position = Position()
            return
        }
        guard let position = try? JSONDecoder().decode(Position.self, from: Data(cursor.rawValue.utf8)) else {
            throw .invalidArgument("not a cursor of this connector: \(cursor.rawValue.prefix(80))")
        }
        self.position = position
    }

    static func cursor(startingAt time: Date) -> FeedCursor {
        Self.encode(Position(m: time.timeIntervalSince1970))
    }

    /// Where the repository query starts (nil: from the beginning).
    var queryFrom: Date? { self.position.m.map { Date(timeIntervalSince1970: $0 - self.overlap) } }

    /// How far the local clock may run ahead of a repository's that sends no `Date` (NTP keeps hosts far closer).
    static let localClockSlack: TimeInterval = 5

    /// A reading of the repository's clock, and how far it may be from the clock that stamped the entries.
    struct Clock {
        var now: Double
        var slack: TimeInterval

        /// The answer's `Date`, else the local clock (nil: no reading needed, the versions show every change).
        static func reading(_ repositoryTime: Date?, resolution: TimeInterval) -> Clock? {
            guard resolution > 0 else { return nil }
            if let repositoryTime { return Clock(now: repositoryTime.timeIntervalSince1970, slack: 1) }
            return Clock(now: Date().timeIntervalSince1970, slack: 1 + ChangeFeedWindow.localClockSlack)
        }
    }

    /// Whether a change stamped `updated` can no longer be followed by another one stamped alike: its
    /// timestamp's period has ended, by `clock`, with its slack.
    func isSettled(_ updated: Double, by clock: Clock) -> Bool {
        clock.now >= (updated / self.resolution).rounded(.down) * self.resolution + self.resolution + clock.slack
    }

    func isNew(_ entry: ChangedArtifact, clock: Clock?) -> Bool {
        guard let seen = self.position.s[entry.id] else { return true }
        if seen.v != entry.version || seen.u != entry.updated.timeIntervalSince1970 { return true }
        guard seen.o == true, let clock else { return false }
        return self.isSettled(seen.u, by: clock)
    }

    private mutating func deliver(_ entry: ChangedArtifact, clock: Clock?) {
        let updated = entry.updated.timeIntervalSince1970
        let open = clock.map { !self.isSettled(updated, by: $0) } ?? false
        self.position.s[entry.id] = Seen(u: updated, v: entry.version, o: open ? true : nil)
        self.position.m = max(self.position.m ?? updated, updated)
    }

    private var cursor: FeedCursor {
        var position = self.position
        if let mark = position.m { position.s = position.s.filter { $0.value.u >= mark - self.overlap } }
        return Self.encode(position)
    }

    private static func encode(_ position: Position) -> FeedCursor {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return FeedCursor(rawValue: String(decoding: (try? encoder.encode(position)) ?? Data("{}".utf8), as: UTF8.self))
    }

    /// One repository page, in (updated, id) order.
    struct RemotePage {
        var entries: [ChangedArtifact]
        /// The repository has no entries after these.
        var isLast: Bool
        var repositoryTime: Date?
    }

    /// Reads up to `pageSize` new entries, fetching repository pages of `remotePageSize` from `offset`s.
    /// `resolution`: the repository's timestamp resolution when its versions can miss a change (see above).
    static func read(
        cursor: FeedCursor?, pageSize: Int, overlap: TimeInterval, resolution: TimeInterval = 0, remotePageSize: Int, tool: String,
        fetch: (_ from: Date?, _ offset: Int, _ limit: Int) async throws -> RemotePage
    ) async throws -> ChangePage {
        guard pageSize > 0 else { throw ConnectorError.invalidArgument("page size must be positive") }
        var window = try ChangeFeedWindow(cursor: cursor, overlap: overlap, resolution: resolution)
        let from = window.queryFrom
        var delivered: [(entry: ChangedArtifact, clock: Clock?)] = []
        var offset = 0
        var hasMore = false
        var repositoryTime: Date?
        var previous: ChangedArtifact?
        reading: while true {
            let page = try await fetch(from, offset, remotePageSize)
            repositoryTime = page.repositoryTime ?? repositoryTime
            let clock = Clock.reading(page.repositoryTime, resolution: resolution)
            for entry in page.entries {
                if let previous, entry.updated < previous.updated {
                    throw ConnectorError(
                        .invalidResponse, kind: .transient,
                        message: "\(tool) change feed is not ordered by update time (\(entry.id) after \(previous.id))")
                }
                previous = entry
                // Before the window: delivered by an earlier read (Redmine's ">=T" really means "> T - 1 s").
                if let from, entry.updated < from { continue }
                guard window.isNew(entry, clock: clock),
                    !delivered.contains(where: { $0.entry.id == entry.id && $0.entry.version == entry.version })
                else { continue }
                if delivered.count == pageSize {
                    hasMore = true
                    break reading
                }
                delivered.append((entry, clock))
            }
            if page.isLast || page.entries.isEmpty { break }
            offset += page.entries.count
        }
        for (entry, clock) in delivered { window.deliver(entry, clock: clock) }
        return ChangePage(changes: delivered.map(\.entry), cursor: window.cursor, hasMore: hasMore, repositoryTime: repositoryTime)
    }
}

/// A short, stable fingerprint of the fields a feed entry shows (FNV-1a over canonical JSON).
enum Fingerprint {
    static func of(_ value: JSONValue) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in value.serialized() {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
