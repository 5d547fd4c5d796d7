public import Foundation
import HTTP
public import TandemCore

/// The JSON of the repository simulator's API (`tandem simulate`), shared by the server (`TandemSimulator`) and
/// its client (`RemoteMemoryConnector`). Times are epoch seconds (JSON numbers); field values use
/// `FieldValue`'s own Codable form.
///
/// Routes, under `/repos/<name>` (a repository is created on first use, with projects demo, left and right):
///
/// | call | route | answer |
/// |---|---|---|
/// | repositoryTime | `GET /time` | `Time` |
/// | projects | `GET /projects` | `Projects` |
/// | artifactTypes | `GET /projects/<p>/types` | `Types` |
/// | fields | `GET /projects/<p>/fields?type=` | `Fields` |
/// | changes (one repository page) | `GET /projects/<p>/feed?from=&offset=&limit=` | `FeedPage` |
/// | findByMarker | `GET /projects/<p>/markers?marker=` | `IDs` |
/// | createArtifact | `POST /artifacts` (`Draft`) | `Written`, 201 |
/// | artifact | `GET /artifacts/<id>` | `Artifact` |
/// | updateFields | `PUT /artifacts/<id>/fields` (`FieldsUpdate`) | `Written` |
/// | addComment | `POST /artifacts/<id>/comments` (`CommentText`) | `Written` |
/// | uploadAttachment | `POST /artifacts/<id>/attachments?filename=&contentType=` (the bytes) | `Written` |
/// | attachment content | `GET /artifacts/<id>/attachments/<attachment>` | the bytes |
/// | applyTransition | `POST /artifacts/<id>/transition` (`Transition`) | `Written` |
/// | deleteArtifact | `DELETE /artifacts/<id>` | 204 |
///
/// Failures answer `ErrorBody` with 401 (credentials rejected), 404 (artifact gone, project not found), 422
/// (validation), 400 (a bad request), 500 (anything else).
public enum SimulatorWire {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }

    public struct Time: Codable, Sendable {
        public var time: Date
        public init(time: Date) { self.time = time }
    }

    public struct Projects: Codable, Sendable {
        public var projects: [String]
        public init(projects: [String]) { self.projects = projects }
    }

    public struct Types: Codable, Sendable {
        public struct TypeInfo: Codable, Sendable {
            public var id: String
            public var name: String
        }
        public var types: [TypeInfo]
        public init(_ types: [ArtifactTypeInfo]) { self.types = types.map { TypeInfo(id: $0.id, name: $0.name) } }
        public var model: [ArtifactTypeInfo] { self.types.map { ArtifactTypeInfo(id: $0.id, name: $0.name) } }
    }

    public struct Fields: Codable, Sendable {
        public struct Option: Codable, Sendable {
            public var id: String
            public var name: String
            public var isClosed: Bool
        }
        public struct Field: Codable, Sendable {
            public var id: String
            public var name: String
            public var type: FieldType
            public var options: [Option]
            public var required: Bool
            public var readOnly: Bool
            public var multiple: Bool
        }
        public var fields: [Field]

        public init(_ fields: [FieldDescriptor]) {
            self.fields = fields.map { f in
                Field(
                    id: f.id, name: f.name, type: f.type, options: f.options.map { Option(id: $0.id, name: $0.name, isClosed: $0.isClosed) },
                    required: f.required, readOnly: f.readOnly, multiple: f.multiple)
            }
        }

        public var model: [FieldDescriptor] {
            self.fields.map { f in
                FieldDescriptor(
                    id: f.id, name: f.name, type: f.type, options: f.options.map { FieldOption(id: $0.id, name: $0.name, isClosed: $0.isClosed) },
                    required: f.required, readOnly: f.readOnly, multiple: f.multiple)
            }
        }
    }

    public struct FeedEntry: Codable, Sendable {
        public var id: String
        public var updated: Date
        public var version: String
    }

    public struct FeedPage: Codable, Sendable {
        public var entries: [FeedEntry]
        public var isLast: Bool
        /// The repository's clock when the page was read.
        public var time: Date

        public init(entries: [ChangedArtifact], isLast: Bool, time: Date) {
            self.entries = entries.map { FeedEntry(id: $0.id, updated: $0.updated, version: $0.version) }
            self.isLast = isLast
            self.time = time
        }

        public var changes: [ChangedArtifact] { self.entries.map { ChangedArtifact(id: $0.id, updated: $0.updated, version: $0.version) } }
    }

    public struct IDs: Codable, Sendable {
        public var ids: [String]
        public init(ids: [String]) { self.ids = ids }
    }

    public struct Draft: Codable, Sendable {
        public var project: String
        public var type: String
        public var fields: [String: FieldValue]
        public var marker: String?

        public init(_ draft: ArtifactDraft) {
            self.project = draft.project
            self.type = draft.artifactType
            self.fields = draft.fields
            self.marker = draft.marker
        }

        public var model: ArtifactDraft { ArtifactDraft(project: self.project, artifactType: self.type, fields: self.fields, marker: self.marker) }
    }

    public struct FieldsUpdate: Codable, Sendable {
        public var fields: [String: FieldValue]
        public init(fields: [String: FieldValue]) { self.fields = fields }
    }

    public struct CommentText: Codable, Sendable {
        public var text: String
        public init(text: String) { self.text = text }
    }

    public struct Transition: Codable, Sendable {
        public var status: String
        public init(status: String) { self.status = status }
    }

    public struct Written: Codable, Sendable {
        public var artifactID: String
        public var itemID: String?
        public var updated: Date
        public var version: String

        public init(_ result: WriteResult) {
            self.artifactID = result.artifactID
            self.itemID = result.itemID
            self.updated = result.updated
            self.version = result.version
        }

        public var model: WriteResult { WriteResult(artifactID: self.artifactID, itemID: self.itemID, updated: self.updated, version: self.version) }
    }

    public struct Comment: Codable, Sendable {
        public var id: String
        public var author: Person?
        public var created: Date?
        public var text: String
        public var markup: TextMarkup
    }

    public struct Attachment: Codable, Sendable {
        public var id: String
        public var filename: String
        public var contentType: String?
        public var size: Int?
        public var created: Date?
        public var author: Person?
        public var url: String?
    }

    public struct Artifact: Codable, Sendable {
        public var id: String
        public var formattedID: String
        public var url: String?
        public var project: String
        public var type: String
        public var created: Date?
        public var updated: Date
        public var version: String
        public var fields: [String: FieldValue]
        public var comments: [Comment]
        public var attachments: [Attachment]
        public var marker: String?

        public init(_ a: RepositoryArtifact) {
            self.marker = a.marker
            self.id = a.id
            self.formattedID = a.formattedID
            self.url = a.url
            self.project = a.project
            self.type = a.artifactType
            self.created = a.created
            self.updated = a.updated
            self.version = a.version
            self.fields = a.fields
            self.comments = a.comments.map { Comment(id: $0.id, author: $0.author, created: $0.created, text: $0.text, markup: $0.markup) }
            self.attachments = a.attachments.map {
                Attachment(
                    id: $0.id, filename: $0.filename, contentType: $0.contentType, size: $0.size, created: $0.created, author: $0.author,
                    url: $0.url)
            }
        }

        public var model: RepositoryArtifact {
            RepositoryArtifact(
                id: self.id, formattedID: self.formattedID, url: self.url, project: self.project, artifactType: self.type,
                created: self.created, updated: self.updated, version: self.version, fields: self.fields,
                comments: self.comments.map {
                    RepositoryComment(id: $0.id, author: $0.author, created: $0.created, text: $0.text, markup: $0.markup)
                },
                attachments: self.attachments.map {
                    AttachmentInfo(
                        id: $0.id, filename: $0.filename, contentType: $0.contentType, size: $0.size, created: $0.created, author: $0.author,
                        url: $0.url)
                }, marker: self.marker)
        }
    }

    /// A failure: the `ConnectorError`'s code, kind and message.
    public struct ErrorBody: Codable, Sendable {
        public struct Detail: Codable, Sendable {
            public var code: String
            public var kind: String
            public var message: String
        }
        public var error: Detail

        public init(_ error: ConnectorError) {
            self.error = Detail(code: error.code.rawValue, kind: error.kind.rawValue, message: error.message)
        }

        /// The HTTP status that carries `error`.
        public static func status(of error: ConnectorError) -> Int {
            switch error.code {
            case .credentialsRejected: 401
            case .permissionDenied: 403
            case .artifactGone, .projectNotFound, .notFound: 404
            case .validation: 422
            case .invalidArgument: 400
            default: 500
            }
        }
    }

    /// The test and operations counters of one repository (`GET /repos/<name>/stats`).
    public struct Stats: Codable, Sendable {
        /// Writes served: creates, field updates, comments, attachments, transitions, deletes.
        public var writes: Int
        /// API calls served under `/repos/<name>` (the stats and log routes not included).
        public var calls: Int
        /// Artifacts held, per project.
        public var artifacts: [String: Int]

        public init(writes: Int, calls: Int, artifacts: [String: Int]) {
            self.writes = writes
            self.calls = calls
            self.artifacts = artifacts
        }
    }

    /// One write, as the simulator logged it (`GET /repos/<name>/log?after=<seq>`): when it was served (wall clock,
    /// sub-second, unlike the repository's whole-second timestamps) and the artifact's title after it.
    public struct WriteEvent: Codable, Sendable {
        public var seq: Int
        public var time: Date
        public var id: String
        public var operation: String
        public var title: String?

        public init(seq: Int, time: Date, id: String, operation: String, title: String?) {
            self.seq = seq
            self.time = time
            self.id = id
            self.operation = operation
            self.title = title
        }
    }

    public struct WriteLog: Codable, Sendable {
        public var events: [WriteEvent]
        public init(events: [WriteEvent]) { self.events = events }
    }
}

extension Credentials {
    /// The header fields and query items these credentials put on a request (for a server that checks them).
    public var wireFields: (headers: [(name: String, value: String)], query: [(name: String, value: String)]) {
        var request = HTTPRequest(.get, URL(string: "http://127.0.0.1/")!)
        self.apply(to: &request)
        let query = URLComponents(url: request.url, resolvingAgainstBaseURL: false)?.queryItems ?? []
        return (request.headers.map { ($0.name, $0.value) }, query.map { ($0.name, $0.value ?? "") })
    }
}
