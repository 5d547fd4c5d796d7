import Foundation

/// Comments and attachments on one side of a pair that the pair does not account for — neither created there by Tandem
/// nor flowed from there to the other side — and that a write of Tandem's may match.
///
/// An earlier attempt can write a comment or an attachment and not record it: the repository applied the write but its
/// answer was lost (a timeout after the commit, a dropped connection), or the job died between the write and saving
/// the pair. Its retry would write the same item again — a duplicate — and the unrecorded copy would later flow back as
/// a user's own — an echo. Before writing, the retry claims such an item instead: a comment with the same text, or an
/// attachment with the same file name whose content the caller found equal. Each item is claimed at most once, so a
/// comment written twice on purpose is still written twice.
public struct UnrecordedWrites: Sendable {
    private var comments: [(id: String, text: String)]
    private var attachments: [(id: String, fileName: String, size: Int64)]

    /// - Parameters:
    ///   - artifact: the side's artifact as read before the writes (nil: nothing to claim).
    ///   - pair: the pair as stored (nil for a twin being created: nothing on it is accounted for).
    ///   - side: the side `artifact` is on.
    public init(_ artifact: Artifact?, pair: ArtifactPair?, on side: Side) {
        let state = pair?[side] ?? SideState()
        self.comments = (artifact?.comments ?? []).filter { !state.createdComments.contains($0.id) && state.flowedComments[$0.id] == nil }
            .map { ($0.id, Self.normalized($0.body, $0.markup)) }
        self.attachments = (artifact?.attachments ?? []).filter {
            !state.createdAttachments.contains($0.id) && !state.flowedAttachments.contains($0.id)
        }.map { ($0.id, $0.fileName, $0.size) }
    }

    /// Nothing to claim.
    public static let none = UnrecordedWrites(nil, pair: nil, on: .left)

    public var isEmpty: Bool { self.comments.isEmpty && self.attachments.isEmpty }

    /// Whitespace at either end aside, and line ends as `\n` (a tool may store `\r\n` for what it was sent). A document
    /// markup (ADF) compares by its text: the tool stores the document it was sent in its own serialization (key order,
    /// attributes), so the bytes differ while the comment is the same.
    static func normalized(_ text: String, _ markup: TextMarkup = .plain) -> String {
        let text = markup == .adf ? Markup.convert(text, from: .adf, to: .plain) : text
        return text.replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The id of an unaccounted comment whose text is `body` (compared `normalized`), now claimed; nil when
    /// there is none and the comment is to be written.
    public mutating func claimComment(_ body: String, markup: TextMarkup = .plain) -> String? {
        let text = Self.normalized(body, markup)
        guard let index = self.comments.firstIndex(where: { $0.text == text }) else { return nil }
        return self.comments.remove(at: index).id
    }

    /// Unaccounted attachments named `fileName` whose listed size is `size` or unknown (0): the ones whose content the
    /// caller compares before claiming one.
    public func attachmentCandidates(fileName: String, size: Int64) -> [String] {
        self.attachments.filter { $0.fileName == fileName && ($0.size == size || $0.size == 0) }.map(\.id)
    }

    /// Marks an attachment as claimed (its content matched): no other write claims it.
    public mutating func claimAttachment(_ id: String) {
        self.attachments.removeAll { $0.id == id }
    }
}
