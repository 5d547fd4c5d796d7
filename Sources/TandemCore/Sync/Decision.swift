/// A write of one repository field on the target.
public struct FieldWrite: Sendable, Hashable {
    public var repositoryField: String
    public var modelField: String
    public var value: FieldValue

    public init(repositoryField: String, modelField: String, value: FieldValue) {
        self.repositoryField = repositoryField
        self.modelField = modelField
        self.value = value
    }
}

/// The transitions that take a status field from its current state to the wanted one.
public struct TransitionPlan: Sendable, Hashable {
    public var repositoryField: String
    public var from: String
    public var to: String
    public var path: [Transition]

    public init(repositoryField: String, from: String, to: String, path: [Transition]) {
        self.repositoryField = repositoryField
        self.from = from
        self.to = to
        self.path = path
    }
}

/// A comment to create on the target.
public struct CommentWrite: Sendable, Hashable {
    public var sourceID: String
    public var sourceVersion: String
    public var body: String
    public var markup: TextMarkup
    /// Write as this person (impersonation); nil writes as the connection's user, with the author's name prefixed.
    public var author: Person?
    public var isPrivate: Bool

    public init(sourceID: String, sourceVersion: String, body: String, markup: TextMarkup, author: Person?, isPrivate: Bool) {
        self.sourceID = sourceID
        self.sourceVersion = sourceVersion
        self.body = body
        self.markup = markup
        self.author = author
        self.isPrivate = isPrivate
    }
}

/// An attachment to copy to the target.
public struct AttachmentCopy: Sendable, Hashable {
    public var sourceID: String
    public var fileName: String
    public var checksum: String

    public init(sourceID: String, fileName: String, checksum: String) {
        self.sourceID = sourceID
        self.fileName = fileName
        self.checksum = checksum
    }
}

/// A field changed on both sides since the last sync, with the values and how the policy resolved it.
public struct FieldConflict: Sendable, Hashable {
    public var field: String
    public var left: FieldValue
    public var right: FieldValue
    public var resolution: ConflictResolution

    public init(field: String, left: FieldValue, right: FieldValue, resolution: ConflictResolution) {
        self.field = field
        self.left = left
        self.right = right
        self.resolution = resolution
    }
}

/// Creating the twin.
public struct CreatePlan: Sendable, Hashable {
    public var project: String
    public var fields: [FieldWrite]
    /// Status fields to bring to a state through transitions once the artifact exists: repository field → state.
    public var statuses: [String: String]
    public var comments: [CommentWrite]
    public var attachments: [AttachmentCopy]

    public init(project: String, fields: [FieldWrite], statuses: [String: String], comments: [CommentWrite], attachments: [AttachmentCopy]) {
        self.project = project
        self.fields = fields
        self.statuses = statuses
        self.comments = comments
        self.attachments = attachments
    }
}

/// Updating the twin.
public struct UpdatePlan: Sendable, Hashable {
    public var fields: [FieldWrite]
    public var transitions: [TransitionPlan]
    public var comments: [CommentWrite]
    public var attachments: [AttachmentCopy]
    /// The pair re-entered the integration after being twinless.
    public var reentered: Bool

    public init(fields: [FieldWrite], transitions: [TransitionPlan], comments: [CommentWrite], attachments: [AttachmentCopy], reentered: Bool) {
        self.fields = fields
        self.transitions = transitions
        self.comments = comments
        self.attachments = attachments
        self.reentered = reentered
    }
}

/// The final update of a twin whose partner is no longer eligible.
public struct TwinlessPlan: Sendable, Hashable {
    public var fields: [FieldWrite]
    public var comment: String?
    /// The change that made the artifact leave (a status that no longer meets the filter, say): it still reaches the
    /// twin, before the twinless update (which wins where both write a field).
    public var final: UpdatePlan?

    public init(fields: [FieldWrite], comment: String?, final: UpdatePlan? = nil) {
        self.fields = fields
        self.comment = comment
        self.final = final
    }
}

/// What to do.
public enum SyncAction: Sendable, Hashable {
    case create(CreatePlan)
    case update(UpdatePlan)
    case nothing
    /// Error-policy conflicts: nothing is written to the pair until they are resolved.
    case conflict([FieldConflict])
    case noLongerEligible(TwinlessPlan)

    public var name: String { self.outcome.rawValue }
}

/// Why the decision came out as it did, one step at a time, for `tandem trace`.
public struct Reason: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable {
        case creationFlowClosed = "creation-flow-closed"
        case filteredOut = "filtered-out"
        case notRouted = "not-routed"
        case routed
        case conditionalRouteFallback = "conditional-route-fallback"
        case conditionalFieldFlow = "conditional-field-flow"
        case fieldChanged = "field-changed"
        case alwaysUpdate = "always-update"
        case constant
        case flowNoUpdate = "flow-no-update"
        case flowUponCreation = "flow-upon-creation"
        case notMappedOnTarget = "not-mapped-on-target"
        case echo
        case targetAlreadyEqual = "target-already-equal"
        case conflictError = "conflict-error"
        case conflictWon = "conflict-won"
        case conflictLost = "conflict-lost"
        case transition
        case commentNew = "comment-new"
        case commentEdited = "comment-edited"
        case commentSkipped = "comment-skipped"
        case attachmentNew = "attachment-new"
        case attachmentSkipped = "attachment-skipped"
        /// The target already held the copy: an earlier attempt wrote it without recording it (`UnrecordedWrites`).
        case alreadyOnTarget = "already-on-target"
        case noLongerEligible = "no-longer-eligible"
        case stillIneligible = "still-ineligible"
        case reentered
        case reprocessed
        case noChanges = "no-changes"
    }

    public var kind: Kind
    /// The model field (or comment, attachment, project) concerned.
    public var subject: String
    public var detail: String

    public init(_ kind: Kind, _ subject: String = "", _ detail: String = "") {
        self.kind = kind
        self.subject = subject
        self.detail = detail
    }

    public var description: String {
        let head = self.subject.isEmpty ? self.kind.rawValue : "\(self.kind.rawValue) '\(self.subject)'"
        return self.detail.isEmpty ? head : "\(head): \(self.detail)"
    }
}

/// A decision and its reasons.
public struct SyncDecision: Sendable, Hashable {
    public var source: Side
    public var action: SyncAction
    public var reasons: [Reason]

    public init(source: Side, action: SyncAction, reasons: [Reason]) {
        self.source = source
        self.action = action
        self.reasons = reasons
    }

    public var target: Side { self.source.opposite }
}

extension SyncDecision {
    /// The decision and its reasons as lines of text, for `tandem trace`.
    public var explanation: String {
        var lines = ["\(self.source) → \(self.target): \(self.action.name)"]
        switch self.action {
        case .create(let plan):
            lines.append(
                "  create in project '\(plan.project)' with \(plan.fields.count) fields, \(plan.comments.count) comments, \(plan.attachments.count) attachments"
            )
        case .update(let plan):
            lines.append(
                "  update \(plan.fields.count) fields, \(plan.transitions.count) transitions, \(plan.comments.count) comments, \(plan.attachments.count) attachments"
            )
        case .conflict(let conflicts):
            for c in conflicts {
                lines.append("  conflict on '\(c.field)': left \(c.left.text.debugDescription), right \(c.right.text.debugDescription)")
            }
        case .noLongerEligible(let plan):
            if let final = plan.final {
                lines.append(
                    "  the last change: \(final.fields.count) fields, \(final.transitions.count) transitions, \(final.comments.count) comments")
            }
            lines.append("  final update of the twin: \(plan.fields.count) fields\(plan.comment == nil ? "" : " and a comment")")
        case .nothing:
            break
        }
        lines += self.reasons.map { "  - \($0)" }
        return lines.joined(separator: "\n")
    }

    /// The target artifact as it will be once the decision is carried out: field writes applied and statuses set.
    /// Applying a decision to its own result changes nothing.
    public func apply(to artifact: Artifact) -> Artifact {
        var result = artifact
        switch self.action {
        case .update(let plan):
            for write in plan.fields { result.fields[write.repositoryField] = write.value }
            for t in plan.transitions {
                result.fields[t.repositoryField] = Self.state(t.to, like: artifact.fields[t.repositoryField])
            }
        case .create(let plan):
            for write in plan.fields { result.fields[write.repositoryField] = write.value }
            for (field, state) in plan.statuses { result.fields[field] = .select(state) }
        case .noLongerEligible(let plan):
            if let final = plan.final { result = SyncDecision(source: self.source, action: .update(final), reasons: []).apply(to: result) }
            for write in plan.fields { result.fields[write.repositoryField] = write.value }
        case .nothing, .conflict:
            break
        }
        return result
    }

    static func state(_ state: String, like value: FieldValue?) -> FieldValue {
        if case .string = value { return .string(state) }
        return .select(state)
    }
}
