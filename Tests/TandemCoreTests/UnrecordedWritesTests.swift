import TandemCore
import Testing

@Suite("Unrecorded writes: what a retry claims instead of writing again")
struct UnrecordedWritesTests {
    static func artifact(comments: [(String, String)], attachments: [(String, String, Int64)]) -> Artifact {
        Artifact(
            id: "7", project: "P", fields: [:], comments: comments.map { Comment(id: $0.0, body: $0.1) },
            attachments: attachments.map { Attachment(id: $0.0, fileName: $0.1, size: $0.2, checksum: "") })
    }

    @Test func onlyItemsThePairDoesNotAccountForAreClaimedEachOnce() {
        let target = Self.artifact(
            comments: [
                ("c1", "hello"), ("c2", "  hello\n"), ("c3", "copied before"), ("c4", "the target's own, flowed"), ("c5", "two\r\nlines"),
            ],
            attachments: [("a1", "log.txt", 10), ("a2", "log.txt", 0), ("a3", "log.txt", 10), ("a4", "shot.png", 5)])
        var pair = ArtifactPair(leftID: "1", rightID: "7")
        pair.right.createdComments = ["c3"]
        pair.right.flowedComments = ["c4": "1"]
        pair.right.createdAttachments = ["a3"]
        var unrecorded = UnrecordedWrites(target, pair: pair, on: .right)
        #expect(!unrecorded.isEmpty)

        // A comment Tandem created there, or one of the target's that already flowed, is never claimed.
        #expect(unrecorded.claimComment("copied before") == nil)
        #expect(unrecorded.claimComment("the target's own, flowed") == nil)
        // The same text (whitespace at either end aside) is claimed once per copy held; a third write is written.
        #expect(unrecorded.claimComment("hello") == "c1")
        #expect(unrecorded.claimComment("hello  ") == "c2")
        #expect(unrecorded.claimComment("hello") == nil)
        #expect(unrecorded.claimComment("Hello") == nil)
        // Line ends as a tool may store them (\r\n for what was sent as \n).
        #expect(unrecorded.claimComment("two\nlines") == "c5")

        // Attachments: same name and the size, or an unknown size (0); the recorded one is not a candidate.
        #expect(unrecorded.attachmentCandidates(fileName: "log.txt", size: 10) == ["a1", "a2"])
        #expect(unrecorded.attachmentCandidates(fileName: "log.txt", size: 11) == ["a2"])
        #expect(unrecorded.attachmentCandidates(fileName: "shot.png", size: 6).isEmpty)
        #expect(unrecorded.attachmentCandidates(fileName: "other.txt", size: 10).isEmpty)
        unrecorded.claimAttachment("a1")
        #expect(unrecorded.attachmentCandidates(fileName: "log.txt", size: 10) == ["a2"])
    }

    @Test func aTwinBeingCreatedOrNoArtifactAccountsForNothing() {
        let target = Self.artifact(comments: [("c1", "hello")], attachments: [("a1", "f", 1)])
        // A twin found by its marker (no pair yet): all of it may be the earlier attempt's.
        var fresh = UnrecordedWrites(target, pair: nil, on: .left)
        #expect(fresh.claimComment("hello") == "c1")
        #expect(fresh.attachmentCandidates(fileName: "f", size: 1) == ["a1"])
        // The left side's records do not account for the right's items.
        var pair = ArtifactPair(leftID: "7", rightID: "9")
        pair.left.createdComments = ["c1"]
        var other = UnrecordedWrites(target, pair: pair, on: .right)
        #expect(other.claimComment("hello") == "c1")
        var none = UnrecordedWrites.none
        #expect(none.isEmpty)
        #expect(none.claimComment("hello") == nil)
    }

    /// An ADF comment read back in the tool's own serialization (keys reordered) is the comment written: claimed, not
    /// written again (the Jira end to end under kills had a Redmine comment twice on its twin).
    @Test func anADFCommentIsClaimedByItsTextNotItsBytes() {
        let written = Markup.convert("Ada: seen on *Safari*", from: .markdown, to: .adf)
        let stored =
            #"{"version":1,"type":"doc","content":[{"content":[{"text":"Ada: seen on ","type":"text"},{"type":"text","text":"Safari","marks":[{"type":"em"}]}],"type":"paragraph"}]}"#
        let target = Artifact(id: "T-1", project: "P", fields: [:], comments: [Comment(id: "c9", body: stored, markup: .adf)], attachments: [])
        var unrecorded = UnrecordedWrites(target, pair: nil, on: .right)
        #expect(unrecorded.claimComment(written, markup: .adf) == "c9")
    }
}
