import Foundation
import TandemCore
import Testing

@Suite("The error catalogue and change detection settings")
struct FailureTests {
    /// Our codes carry the guide's catalogue numbers (spec part 3 §3).
    @Test(arguments: [
        (ErrorCode.fieldConflict, "50002E"),
        (.targetArtifactRemoved, "50001E"),
        (.valueNotAccepted, "17003E"),
        (.noConditionalRoute, "17008E"),
        (.createOutcomeUnknown, "17016E"),
        (.relationshipNotYetSynchronized, "17014E"),
        (.artifactInUse, "17004W"),
        (.repositoryOverloaded, "61104E"),
        (.repositoryUnreachable, "1000E"),
        (.routingInvalid, "1415E"),
        (.invalidFilter, "1409E"),
        (.credentialsRejected, "61101E"),
    ])
    func catalogue(_ code: ErrorCode, _ guide: String) {
        #expect(code.guideCode == guide)
    }

    @Test func everyCodeHasAGuideNumber() {
        for code in ErrorCode.allCases {
            #expect(code.guideCode.first?.isNumber == true)
            #expect(code.guideCode.last == "E" || code.guideCode.last == "W")
        }
        #expect(
            SyncError(.fieldConflict, subject: "field 'Priority'", reason: "changed on both sides").description
                == "50002E field 'Priority': changed on both sides")
    }

    @Test func changeDetectionOverrideChain() throws {
        let builtIn = ResolvedChangeDetection()
        #expect(builtIn.changeDetection == .interval(seconds: 60))
        #expect(builtIn.fullScan == .interval(seconds: 86_400))
        #expect(builtIn.fullScanStyle == .optimized && builtIn.fullScanEnabled)
        #expect(builtIn.changeDetectionLevel == .builtIn)
        let cron = try CronExpression("0 0/30 9-16 ? * MON-FRI")
        let resolved = ResolvedChangeDetection(
            global: ChangeDetectionSettings(changeDetection: .interval(seconds: 120)),
            integration: ChangeDetectionSettings(fullScan: .cron(cron), fullScanStyle: .highFidelity),
            collection: ChangeDetectionSettings(changeDetection: .interval(seconds: 30), fullScanEnabled: false)
        )
        #expect(resolved.changeDetection == .interval(seconds: 30))
        #expect(resolved.changeDetectionLevel == .collection)
        #expect(resolved.fullScan == .cron(cron))
        #expect(resolved.fullScanLevel == .integration)
        #expect(resolved.fullScanStyle == .highFidelity)
        #expect(resolved.fullScanEnabled == false)
        let global = ResolvedChangeDetection(global: ChangeDetectionSettings(changeDetection: .interval(seconds: 120)))
        #expect(global.changeDetectionLevel == .global)
        #expect(throws: ScheduleError.self) { try ChangeDetectionSettings(fullScan: .interval(seconds: -1)).validate() }
        try ChangeDetectionSettings(changeDetection: .cron(cron)).validate()
    }
}

@Suite("Odd input does not trap")
struct OddInputTests {
    @Test func oddDatesAndParameters() throws {
        let huge = LocalDate(year: Int.max, month: 1, day: 1)
        #expect(Conversion.dateToDateTime(.gmt).apply(.date(huge)) == .null)
        #expect(Conversion.dateTimeToDate(.gmt).apply(.dateTime(Date(timeIntervalSince1970: .infinity))) == .null)
        #expect(FieldValue.dateTime(Date(timeIntervalSince1970: .nan)).text == "")
        #expect(try CronExpression("0 0 12 * * ?").nextFire(after: Date(timeIntervalSince1970: 1e300), in: .gmt) == nil)
    }
}
