import Foundation
import HTTP

/// The change-feed logic every connector shares: a cursor holding the high-water mark (the greatest
/// `updated` delivered) and the versions delivered within the overlap window behind it.
///
/// Each read asks the repository for everything updated at or after `mark − overlap`, in (updated, id)
/// order, skips entries whose (id, version) the cursor already delivered, and returns at most `pageSize`
/// new ones. So entries sharing a second with the mark, late commits with earlier timestamps inside the
/// window, and several updates of one artifact within a second (new version) are all seen, and none twice.
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
    }

    let overlap: TimeInterval
    private var position: Position

    init(cursor: FeedCursor?, overlap: TimeInterval) throws(ConnectorError) {
        self.overlap = overlap
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

    func isNew(_ entry: ChangedArtifact) -> Bool {
        guard let seen = self.position.s[entry.id] else { return true }
        return seen.v != entry.version || seen.u != entry.updated.timeIntervalSince1970
    }

    private mutating func deliver(_ entry: ChangedArtifact) {
        let updated = entry.updated.timeIntervalSince1970
        self.position.s[entry.id] = Seen(u: updated, v: entry.version)
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
    static func read(
        cursor: FeedCursor?, pageSize: Int, overlap: TimeInterval, remotePageSize: Int, tool: String,
        fetch: (_ from: Date?, _ offset: Int, _ limit: Int) async throws -> RemotePage
    ) async throws -> ChangePage {
        guard pageSize > 0 else { throw ConnectorError.invalidArgument("page size must be positive") }
        var window = try ChangeFeedWindow(cursor: cursor, overlap: overlap)
        let from = window.queryFrom
        var delivered: [ChangedArtifact] = []
        var offset = 0
        var hasMore = false
        var repositoryTime: Date?
        var previous: ChangedArtifact?
        reading: while true {
            let page = try await fetch(from, offset, remotePageSize)
            repositoryTime = page.repositoryTime ?? repositoryTime
            for entry in page.entries {
                if let previous, entry.updated < previous.updated {
                    throw ConnectorError(
                        .invalidResponse, kind: .transient,
                        message: "\(tool) change feed is not ordered by update time (\(entry.id) after \(previous.id))")
                }
                previous = entry
                // Before the window: delivered by an earlier read (Redmine's ">=T" really means "> T - 1 s").
                if let from, entry.updated < from { continue }
                guard window.isNew(entry), !delivered.contains(where: { $0.id == entry.id && $0.version == entry.version })
                else { continue }
                if delivered.count == pageSize {
                    hasMore = true
                    break reading
                }
                delivered.append(entry)
            }
            if page.isLast || page.entries.isEmpty { break }
            offset += page.entries.count
        }
        for entry in delivered { window.deliver(entry) }
        return ChangePage(changes: delivered, cursor: window.cursor, hasMore: hasMore, repositoryTime: repositoryTime)
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
