import Foundation
import TandemConnectors
import TandemCore
import Testing

@testable import TandemCluster

/// A file the target cannot keep (GitHub keeps no files on issues) is named in a comment there, linked to where it is:
/// in the target's markup, the name's own characters kept (not read as syntax), the link intact.
@Suite struct AttachmentNoteTests {
    static let source = RepositoryArtifact(
        id: "12", formattedID: "#12", url: nil, project: "p", artifactType: "1", created: nil, updated: Date(), version: "1", fields: [:],
        comments: [], attachments: [])

    @Test func aFileTheTargetCannotKeepIsNamedAndLinked() {
        let info = AttachmentInfo(
            id: "a1", filename: "trace_[1]*.log", contentType: "text/plain", size: 2048, created: nil, author: nil,
            url: "https://redmine.example.com/attachments/download/7/trace_[1]*.log")
        let markdown = SyncEngine.attachmentNote(info, of: Self.source, on: "GitHub", markup: .markdown)
        #expect(markdown.hasPrefix("📎 [trace\\_[1]\\*.log](<https://redmine.example.com/attachments/download/7/trace_[1]*.log>)"), "\(markdown)")
        #expect(markdown.contains("#12") && markdown.contains("text/plain") && markdown.contains("GitHub keeps no files"))
        #expect(Markup.convert(markdown, from: .markdown, to: .plain).contains("trace_[1]*.log"), "the name reads as written")
        let plain = SyncEngine.attachmentNote(info, of: Self.source, on: "X", markup: .plain)
        #expect(plain.hasPrefix("📎 trace_[1]*.log <https://redmine.example.com/attachments/download/7/trace_[1]*.log> is attached to #12"))
        var unlinked = info
        unlinked.url = nil
        unlinked.size = nil
        #expect(
            SyncEngine.attachmentNote(unlinked, of: Self.source, on: "X", markup: .plain).hasPrefix(
                "📎 trace_[1]*.log is attached to #12 (text/plain);"))
    }
}
