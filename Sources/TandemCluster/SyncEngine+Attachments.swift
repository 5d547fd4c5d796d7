import Foundation
import HTTP
import Postgres
import TandemConfig
import TandemConnectors
import TandemCore
import TandemStore

extension SyncEngine {
    /// What copying a plan's attachments did: how many were created on the target, why others were left, and the
    /// failure that stopped it. The caller saves the pair first (what was copied is recorded in it), then throws the
    /// failure, so a retry copies only the rest.
    struct AttachmentOutcome {
        var copied = 0
        var reasons: [Reason] = []
        var failure: (any Error)?
    }

    /// Downloads each attachment of the plan from the source, uploads it to the target and records it in the pair
    /// (`recordAttachment`: it never flows again, and its copy never flows back).
    ///
    /// The core already leaves out attachments over `maximumBytes` or of an excluded type when the source lists their
    /// size; a source that does not (Roundup) is measured here after the download, and a file over the limit, or over
    /// the connection's download limit, is recorded as handled so that it is not downloaded again. A file the target
    /// refuses (its validation) is recorded too; each of these leaves a trace reason and an info activity. An attachment
    /// gone meanwhile is left out (a trace reason only).
    ///
    /// A file that `twin` (the target as read before the writes) already holds unrecorded — same name, same bytes: an
    /// earlier attempt uploaded it and lost the answer or died before saving the pair — is recorded, not uploaded again.
    func copyAttachments(
        _ copies: [AttachmentCopy], of sourceArtifact: RepositoryArtifact, context: Context, target: any Connector, twin: RepositoryArtifact?,
        targetID: String, unrecorded: inout UnrecordedWrites, pair: inout ArtifactPair, connection: PostgresConnection
    ) async -> AttachmentOutcome {
        var outcome = AttachmentOutcome()
        guard !copies.isEmpty else { return outcome }
        let s = context.side
        let t = s.opposite
        let source: any Connector
        do { source = try self.connector(context, s).0 } catch {
            outcome.failure = error
            return outcome
        }
        if source.capabilities.attachments, !target.capabilities.attachments, target.capabilities.comments {
            // The target keeps no files (GitHub): each is named, with its link, in a comment there instead of dropped.
            let markup = ((try? await target.textMarkups(projects: [])) ?? nil)?.comments ?? .plain
            for copy in copies {
                guard let info = sourceArtifact.attachments.first(where: { $0.id == copy.sourceID }) else { continue }
                do {
                    let written = try await target.addComment(
                        id: targetID, text: Self.attachmentNote(info, of: sourceArtifact, on: target.tool, markup: markup))
                    pair[s].flowedAttachments.insert(copy.sourceID)
                    if let id = written.itemID { pair[t].createdComments.insert(id) }
                    outcome.reasons.append(Reason(.attachmentSkipped, info.filename, "\(target.tool) keeps no files: named in a comment"))
                } catch {
                    outcome.failure = error
                    return outcome
                }
            }
            return outcome
        }
        guard source.capabilities.attachments, target.capabilities.attachments else {
            let tool = source.capabilities.attachments ? target.tool : source.tool
            outcome.reasons = copies.map { Reason(.attachmentSkipped, $0.fileName, "\(tool) has no attachments") }
            return outcome
        }
        let limit = context.synchronizer.rules.attachments.maximumBytes
        /// Left out for good: recorded as handled, with a reason in the trace and an info activity for operators.
        func leaveOut(_ copy: AttachmentCopy, _ info: AttachmentInfo, _ why: String) async {
            pair[s].flowedAttachments.insert(copy.sourceID)
            outcome.reasons.append(Reason(.attachmentSkipped, info.filename, why))
            try? await self.pairs.activity(
                kind: .info, code: "attachment-skipped", integration: context.integrationID, artifact: sourceArtifact.id,
                message: "\(sourceArtifact.formattedID): attachment \(info.filename) not copied: \(why)", on: connection)
        }
        for copy in copies {
            guard let info = sourceArtifact.attachments.first(where: { $0.id == copy.sourceID }) else { continue }
            let data: Data
            do {
                data = try await source.attachmentContent(artifactID: sourceArtifact.id, attachment: info)
            } catch let error as ConnectorError where error.code == .artifactGone {
                outcome.reasons.append(Reason(.attachmentSkipped, info.filename, "gone before it was read"))
                continue
            } catch let error as ConnectorError where error.httpCode == .responseTooLarge {
                await leaveOut(copy, info, "larger than the download limit: \(error.message)")
                continue
            } catch {
                outcome.failure = error
                return outcome
            }
            if let limit, Int64(data.count) > limit {
                await leaveOut(copy, info, "\(data.count) bytes is over the \(limit)-byte limit")
                continue
            }
            do {
                if let twin, let earlier = try await Self.unrecordedCopy(of: data, named: info.filename, on: twin, target: target, &unrecorded) {
                    pair.recordAttachment(copy, createdID: earlier, on: t)
                    outcome.reasons.append(
                        Reason(.alreadyOnTarget, info.filename, "an earlier attempt uploaded it without recording it: recorded, not uploaded again"))
                    continue
                }
                let result = try await target.uploadAttachment(
                    id: targetID, filename: info.filename, contentType: info.contentType ?? "application/octet-stream", data: data)
                pair.recordAttachment(copy, createdID: result.itemID ?? "", on: t)
                outcome.copied += 1
            } catch let error as ConnectorError where error.code == .validation {
                await leaveOut(copy, info, "\(target.tool) refused it: \(error.message)")
            } catch {
                outcome.failure = error
                return outcome
            }
        }
        return outcome
    }
}

extension SyncEngine {
    /// The unrecorded attachment of `twin` named `fileName` whose bytes are `data`, now claimed; nil when none is.
    static func unrecordedCopy(
        of data: Data, named fileName: String, on twin: RepositoryArtifact, target: any Connector, _ unrecorded: inout UnrecordedWrites
    ) async throws -> String? {
        for id in unrecorded.attachmentCandidates(fileName: fileName, size: Int64(data.count)) {
            guard let info = twin.attachments.first(where: { $0.id == id }) else { continue }
            if try await target.attachmentContent(artifactID: twin.id, attachment: info) == data {
                unrecorded.claimAttachment(id)
                return id
            }
        }
        return nil
    }

    /// Writes each comment of a plan on the target and records it in the pair — or, when the target already holds the
    /// same text unrecorded (an earlier attempt wrote it and lost the answer or died before saving the pair), records
    /// that one instead of writing it again. Returns the trace reasons of those found.
    func writeComments(
        _ comments: [CommentWrite], target: any Connector, targetID: String, on t: Side, unrecorded: inout UnrecordedWrites,
        pair: inout ArtifactPair, changedByRepository: inout [String: FieldValue]
    ) async throws -> [Reason] {
        var reasons: [Reason] = []
        for comment in comments {
            if let earlier = unrecorded.claimComment(comment.body, markup: comment.markup) {
                pair.recordComment(comment, createdID: earlier, on: t)
                reasons.append(
                    Reason(
                        .alreadyOnTarget, comment.sourceID, "comment \(earlier) holds it (an earlier attempt's write): recorded, not written again"))
                continue
            }
            let result = try await target.addComment(id: targetID, text: comment.body)
            pair.recordComment(comment, createdID: result.itemID ?? "", on: t)
            changedByRepository.merge(result.changedByRepository) { _, new in new }
        }
        return reasons
    }
}

extension SyncEngine {
    /// The decision's reasons followed by the engine's own (for the trace).
    static func joined(_ reasons: String, _ more: [Reason]) -> String {
        ([reasons].filter { !$0.isEmpty } + more.map(\.description)).joined(separator: "; ")
    }
}

extension SyncEngine {
    /// Puts back what the target changed on its own while Tandem wrote to it — Roundup reopens a resolved issue
    /// (`chatting`) when a message is added — where Tandem synchronises that field: the twin ends in the state the
    /// source has, and the repository's reaction neither stays nor flows back as a user's edit. `intended` holds the
    /// values the fields should have; only fields of the collection are restored. One write, only when needed.
    func restore(
        _ changed: [String: FieldValue], intended: [String: FieldValue], collection: CollectionConfig, target: any Connector,
        targetID: String
    ) async throws -> [Reason] {
        let mapped = Set(collection.fields.map(\.field))
        var restore: [String: FieldValue] = [:]
        for (field, now) in changed where mapped.contains(field) {
            if let value = intended[field], value != now { restore[field] = value }
        }
        guard !restore.isEmpty else { return [] }
        _ = try await target.updateFields(id: targetID, restore)
        return restore.keys.sorted().map { Reason(.fieldChanged, $0, "changed by the \(target.tool) itself while Tandem wrote to it: restored") }
    }
}

extension SyncEngine {
    /// A comment naming a file the target cannot keep: its name linked to where it is, its type and size, and why.
    static func attachmentNote(_ info: AttachmentInfo, of source: RepositoryArtifact, on tool: String, markup: TextMarkup) -> String {
        let size = info.size.map { ByteCountFormatter.string(fromByteCount: Int64($0), countStyle: .file) }
        let details = [info.contentType, size].compactMap(\.self).joined(separator: ", ")
        let name = Markup.convert(info.filename, from: .plain, to: markup)
        let named: String
        switch (markup, info.url) {
        case (.markdown, let url?): named = "[\(name)](<\(url)>)"
        case (_, let url?): named = "\(name) <\(url)>"
        default: named = name
        }
        let note =
            " is attached to \(source.formattedID)" + (details.isEmpty ? "" : " (\(details))")
            + "; \(tool) keeps no files on its items, so it is linked here, not copied."
        return "📎 " + named + Markup.convert(note, from: .plain, to: markup)
    }
}
