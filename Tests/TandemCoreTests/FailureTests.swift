import Foundation
import TandemCore
import Testing

@Suite("Failures, backoff and change detection settings")
struct FailureTests {
    /// Our codes carry the guide's catalogue numbers (spec part 3 §3).
    @Test(arguments: [
        (ErrorCode.fieldConflict, "50002E", FailureClass.permanent),
        (.targetArtifactRemoved, "50001E", .permanent),
        (.valueNotAccepted, "17003E", .permanent),
        (.noConditionalRoute, "17008E", .permanent),
        (.createOutcomeUnknown, "17016E", .permanent),
        (.relationshipNotYetSynchronized, "17014E", .transient),
        (.artifactInUse, "17004W", .transient),
        (.repositoryOverloaded, "61104E", .transient),
        (.repositoryUnreachable, "1000E", .transient),
        (.routingInvalid, "1415E", .blocker),
        (.invalidFilter, "1409E", .blocker),
        (.credentialsRejected, "61101E", .blocker),
    ])
    func catalogue(_ code: ErrorCode, _ guide: String, _ failureClass: FailureClass) {
        #expect(code.guideCode == guide)
        #expect(code.failureClass == failureClass)
        #expect(code.isRetryable == (failureClass == .transient))
    }

    @Test func everyCodeHasAGuideNumber() {
        for code in ErrorCode.allCases {
            #expect(code.guideCode.first?.isNumber == true)
            #expect(code.guideCode.last == "E" || code.guideCode.last == "W")
            _ = code.failureClass
        }
        #expect(
            SyncError(.fieldConflict, subject: "field 'Priority'", reason: "changed on both sides").description
                == "50002E field 'Priority': changed on both sides")
    }

    @Test(arguments: [
        (200, ErrorCode.unexpected), (400, .valueNotAccepted), (401, .credentialsRejected), (403, .credentialsRejected),
        (404, .targetArtifactRemoved),
        (408, .repositoryTemporary), (409, .artifactLocked), (422, .valueNotAccepted), (423, .artifactLocked), (429, .repositoryOverloaded),
        (500, .repositoryTemporary), (502, .repositoryTemporary), (503, .repositoryOverloaded),
    ])
    func httpClassification(_ status: Int, _ code: ErrorCode) {
        #expect(FailureClassifier.classify(httpStatus: status) == code)
        #expect(FailureClassifier.transport == .repositoryUnreachable)
    }

    @Test func backoffGrowsJittersAndCaps() throws {
        let backoff = Backoff()
        try backoff.validate()
        #expect((1...8).map { backoff.baseDelay(attempt: $0) } == [30, 60, 120, 240, 480, 960, 1_920, 3_600])
        #expect(backoff.baseDelay(attempt: 10_000) == 3_600)
        var rng = SplitMix(7)
        for attempt in 1...12 {
            let base = backoff.baseDelay(attempt: attempt)
            let d = backoff.delay(attempt: attempt, using: &rng)
            #expect(d >= base * 0.8 && d <= min(base * 1.2, 3_600))
        }
        // The same random source gives the same delays: the function is pure.
        var a = SplitMix(1), b = SplitMix(1)
        #expect(backoff.delay(attempt: 3, using: &a) == backoff.delay(attempt: 3, using: &b))
        // Retry-After wins when longer.
        #expect(backoff.delay(attempt: 1, retryAfter: 120, using: &rng) == 120)
        #expect(Backoff(jitter: 0).delay(attempt: 2, retryAfter: 5, using: &rng) == 60)
    }

    @Test(arguments: [
        (Backoff(initial: 0), "initial delay 0.0 must be positive"),
        (Backoff(multiplier: 0.5), "multiplier 0.5 must be at least 1"),
        (Backoff(initial: 60, maximum: 30), "maximum delay 30.0 must be at least the initial delay 60.0"),
        (Backoff(jitter: 2), "jitter 2.0 must be between 0 and 1"),
    ])
    func invalidBackoff(_ backoff: Backoff, _ reason: String) {
        #expect(throws: SyncError(.invalidSchedule, subject: "backoff", reason: reason)) { try backoff.validate() }
    }

    /// Guide L7653–7739: defaults of one minute and 24 hours; overrides per integration and per collection.
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
        var rng = SplitMix(3)
        #expect(Backoff(initial: .infinity, maximum: .infinity).delay(attempt: 2, using: &rng) == .infinity)
        #expect(Backoff(initial: -5, jitter: 0.5).delay(attempt: 1, using: &rng) == 0)
        #expect((0...3_600).contains(Backoff(initial: .nan).delay(attempt: 1, using: &rng)))
    }
}
