public import Foundation
public import TandemCore

/// What a connector can do, so the hub plans without guessing.
public struct ConnectorCapabilities: Sendable, Hashable {
    public var comments: Bool
    public var attachments: Bool
    /// Writes can be made on behalf of another user (Redmine `X-Redmine-Switch-User`).
    public var impersonation: Bool
    public var relationships: Bool
    /// Status changes go through `applyTransition` (workflow) rather than a plain field write.
    public var transitions: Bool
    /// Writes need the artifact's current version (ETag / If-Match).
    public var optimisticConcurrency: Bool
    /// The largest page the change feed asks the repository for.
    public var maxPageSize: Int
    /// Precision of the repository's timestamps, in seconds.
    public var timestampPrecision: TimeInterval
    /// How far behind the cursor the feed re-reads (coarse or late timestamps).
    public var overlapWindow: TimeInterval
    /// How the tool signals rate limits (status codes and headers), for operators.
    public var rateLimitSignals: [String]
    /// How deletions are detected.
    public var deletion: DeletionDetection

    public enum DeletionDetection: String, Sendable, Hashable {
        /// `artifact(id:)` fails with `artifactGone` (404 afterwards; no tombstones in the feed).
        case notFoundOnRead = "not-found-on-read"
        /// Items are retired: still readable by id, absent from lists; `artifact(id:)` reports them gone.
        case retired
    }

    public init(
        comments: Bool, attachments: Bool, impersonation: Bool, relationships: Bool, transitions: Bool,
        optimisticConcurrency: Bool, maxPageSize: Int, timestampPrecision: TimeInterval, overlapWindow: TimeInterval,
        rateLimitSignals: [String], deletion: DeletionDetection
    ) {
        self.comments = comments
        self.attachments = attachments
        self.impersonation = impersonation
        self.relationships = relationships
        self.transitions = transitions
        self.optimisticConcurrency = optimisticConcurrency
        self.maxPageSize = maxPageSize
        self.timestampPrecision = timestampPrecision
        self.overlapWindow = overlapWindow
        self.rateLimitSignals = rateLimitSignals
        self.deletion = deletion
    }
}

public struct ProjectInfo: Sendable, Hashable {
    /// The key used in every other call (Redmine: the identifier).
    public var id: String
    public var name: String
    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}

public struct ArtifactTypeInfo: Sendable, Hashable {
    public var id: String
    public var name: String
    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}

/// One allowed value of a select field.
public struct FieldOption: Sendable, Hashable {
    public var id: String
    /// The value as it appears in `FieldValue.select` / `.multiSelect`.
    public var name: String
    /// A status that closes the artifact.
    public var isClosed: Bool
    public init(id: String, name: String, isClosed: Bool = false) {
        self.id = id
        self.name = name
        self.isClosed = isClosed
    }
}

/// A field of an artifact type, as discovered from the repository.
public struct FieldDescriptor: Sendable, Hashable {
    public var id: String
    public var name: String
    public var type: FieldType
    public var options: [FieldOption]
    public var required: Bool
    public var readOnly: Bool
    /// Multi-valued (select, person, relationship).
    public var multiple: Bool

    public init(
        id: String, name: String, type: FieldType, options: [FieldOption] = [], required: Bool = false,
        readOnly: Bool = false, multiple: Bool = false
    ) {
        self.id = id
        self.name = name
        self.type = type
        self.options = options
        self.required = required
        self.readOnly = readOnly
        self.multiple = multiple
    }
}

public struct RepositoryComment: Sendable, Hashable {
    public var id: String
    public var author: Person?
    public var created: Date?
    public var text: String
    public var markup: TextMarkup
    public init(id: String, author: Person?, created: Date?, text: String, markup: TextMarkup = .plain) {
        self.id = id
        self.author = author
        self.created = created
        self.text = text
        self.markup = markup
    }
}

public struct AttachmentInfo: Sendable, Hashable {
    public var id: String
    public var filename: String
    public var contentType: String?
    public var size: Int?
    public var created: Date?
    public var author: Person?
    /// Where the content can be downloaded (with the connection's credentials).
    public var url: String?
    public init(
        id: String, filename: String, contentType: String?, size: Int?, created: Date?, author: Person?, url: String?
    ) {
        self.id = id
        self.filename = filename
        self.contentType = contentType
        self.size = size
        self.created = created
        self.author = author
        self.url = url
    }
}

/// An artifact as read from the repository.
public struct RepositoryArtifact: Sendable, Hashable {
    public var id: String
    /// The id as people write it (`#12`, `issue12`).
    public var formattedID: String
    public var url: String?
    public var project: String
    public var artifactType: String
    public var created: Date?
    /// The repository's own last-change time.
    public var updated: Date
    /// Changes whenever the artifact's feed entry changes; equals the `version` of the feed entry and of the
    /// `WriteResult` that produced this state.
    public var version: String
    public var fields: [String: FieldValue]
    public var comments: [RepositoryComment]
    public var attachments: [AttachmentInfo]
    /// The `ArtifactDraft.marker` it was created with, where the repository keeps one (nil otherwise): how a twin whose
    /// pair is not recorded yet is told from a new artifact.
    public var marker: String?

    public init(
        id: String, formattedID: String, url: String?, project: String, artifactType: String, created: Date?,
        updated: Date, version: String, fields: [String: FieldValue], comments: [RepositoryComment], attachments: [AttachmentInfo],
        marker: String? = nil
    ) {
        self.marker = marker
        self.id = id
        self.formattedID = formattedID
        self.url = url
        self.project = project
        self.artifactType = artifactType
        self.created = created
        self.updated = updated
        self.version = version
        self.fields = fields
        self.comments = comments
        self.attachments = attachments
    }
}

/// What to create.
public struct ArtifactDraft: Sendable, Hashable {
    public var project: String
    public var artifactType: String
    public var fields: [String: FieldValue]
    /// A key that `findByMarker` finds again (resolves a create that may or may not have happened).
    public var marker: String?
    public init(project: String, artifactType: String, fields: [String: FieldValue], marker: String? = nil) {
        self.project = project
        self.artifactType = artifactType
        self.fields = fields
        self.marker = marker
    }
}

/// The outcome of a write: the artifact's state right after it, so the caller can recognise its own write
/// when it comes back through the change feed (same `version`) and record what the repository changed on
/// its own (`changedByRepository`, e.g. Roundup's unread → chatting on a new message) as not a user edit.
public struct WriteResult: Sendable, Hashable {
    public var artifactID: String
    /// The comment or attachment created, if any.
    public var itemID: String?
    public var updated: Date
    public var version: String
    public var changedByRepository: [String: FieldValue]

    public init(
        artifactID: String, itemID: String? = nil, updated: Date, version: String,
        changedByRepository: [String: FieldValue] = [:]
    ) {
        self.artifactID = artifactID
        self.itemID = itemID
        self.updated = updated
        self.version = version
        self.changedByRepository = changedByRepository
    }
}

/// One entry of the change feed.
public struct ChangedArtifact: Sendable, Hashable {
    public var id: String
    public var updated: Date
    public var version: String
    public init(id: String, updated: Date, version: String) {
        self.id = id
        self.updated = updated
        self.version = version
    }
}

/// A position in a repository's change feed; its content belongs to the connector that made it.
public struct FeedCursor: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { self.rawValue }
}

/// A page of the change feed, in (updated, id) order. Call again with `cursor` while `hasMore`.
public struct ChangePage: Sendable, Hashable {
    public var changes: [ChangedArtifact]
    public var cursor: FeedCursor
    public var hasMore: Bool
    /// The repository's clock when the page was read (its `Date` header), never the local one.
    public var repositoryTime: Date?
    public init(changes: [ChangedArtifact], cursor: FeedCursor, hasMore: Bool, repositoryTime: Date?) {
        self.changes = changes
        self.cursor = cursor
        self.hasMore = hasMore
        self.repositoryTime = repositoryTime
    }
}

/// The outcome of "test connection": reachable, credentials accepted, project exists.
public struct ConnectionTestResult: Sendable, CustomStringConvertible {
    public var reachable: Bool
    public var authenticated: Bool
    /// nil when no project was asked about.
    public var projectFound: Bool?
    /// Who the credentials belong to, when the tool says.
    public var user: Person?
    public var error: ConnectorError?

    public init(reachable: Bool, authenticated: Bool, projectFound: Bool?, user: Person? = nil, error: ConnectorError? = nil) {
        self.reachable = reachable
        self.authenticated = authenticated
        self.projectFound = projectFound
        self.user = user
        self.error = error
    }

    public var success: Bool { self.reachable && self.authenticated && self.projectFound != false && self.error == nil }

    public var description: String {
        if self.success { return "connection OK" + (self.user?.username.map { " as \($0)" } ?? "") }
        return "connection failed: " + (self.error?.description ?? "unknown")
    }

    static func failed(_ error: ConnectorError) -> ConnectionTestResult {
        let reachable = error.code != .unavailable && error.code != .insecureConnection && error.code != .misconfigured
        let authenticated =
            reachable && error.code != .credentialsRejected && error.code != .permissionDenied
            && error.code != .proxyCredentialsRejected
        return ConnectionTestResult(reachable: reachable, authenticated: authenticated, projectFound: nil, error: error)
    }
}
