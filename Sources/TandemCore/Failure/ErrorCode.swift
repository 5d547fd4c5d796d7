/// Tandem's error codes. Each maps to the Hub guide's catalogue (spec part 3 §3, guide L11873–13893), so that users
/// of the guide recognise them: `guideCode` is the guide's number, e.g. `50002E` for a field conflict.
public enum ErrorCode: String, Sendable, Hashable, Codable, CaseIterable {
    // Runtime, per artifact.
    case unexpected = "unexpected"
    case repositoryUnreachable = "repository-unreachable"
    case repositoryOverloaded = "repository-overloaded"
    case repositoryTemporary = "repository-temporary"
    case artifactLocked = "artifact-locked"
    case artifactInUse = "artifact-in-use"
    case authenticationExpired = "authentication-expired"
    case credentialsRejected = "credentials-rejected"
    case connectionDisabled = "connection-disabled"
    case insecureConnection = "insecure-connection"
    case valueNotAccepted = "value-not-accepted"
    case partialCreate = "partial-create"
    case createOutcomeUnknown = "create-outcome-unknown"
    case noConditionalRoute = "no-conditional-route"
    case noRoute = "no-route"
    case stateTransitionFailed = "state-transition-failed"
    case noTransitionPath = "no-transition-path"
    case relationshipNotYetSynchronized = "relationship-not-yet-synchronized"
    case relationshipAmbiguous = "relationship-ambiguous"
    case targetContainerUnresolved = "target-container-unresolved"
    case targetArtifactRemoved = "target-artifact-removed"
    case fieldConflict = "field-conflict"
    case containmentConflict = "containment-conflict"
    case concurrentCreation = "concurrent-creation"
    case dependencyNotSynchronized = "dependency-not-synchronized"
    case artifactLookupFailed = "artifact-lookup-failed"
    // Configuration: blockers.
    case invalidMapping = "invalid-mapping"
    case collectionProjectNotFound = "collection-project-not-found"
    case routingInvalid = "routing-invalid"
    case invalidConditionalRoute = "invalid-conditional-route"
    case invalidFilter = "invalid-filter"
    case fieldFlowInvalid = "field-flow-invalid"
    case conflictStrategyInvalid = "conflict-strategy-invalid"
    case conditionalFieldFlowInvalid = "conditional-field-flow-invalid"
    case commentFlowInvalid = "comment-flow-invalid"
    case invalidSchedule = "invalid-schedule"
    case repositoryCannotCreate = "repository-cannot-create"

    /// The guide's catalogue number.
    public var guideCode: String {
        switch self {
        case .unexpected: "0001E"
        case .repositoryUnreachable: "1000E"
        case .repositoryOverloaded: "61104E"
        case .repositoryTemporary: "30013E"
        case .artifactLocked: "1112E"
        case .artifactInUse: "17004W"
        case .authenticationExpired: "1104W"
        case .credentialsRejected: "61101E"
        case .connectionDisabled: "61106E"
        case .insecureConnection: "1113E"
        case .valueNotAccepted: "17003E"
        case .partialCreate: "17006E"
        case .createOutcomeUnknown: "17016E"
        case .noConditionalRoute: "17008E"
        case .noRoute: "17019E"
        case .stateTransitionFailed, .noTransitionPath: "17021E"
        case .relationshipNotYetSynchronized: "17014E"
        case .relationshipAmbiguous: "17015E"
        case .targetContainerUnresolved: "17020E"
        case .targetArtifactRemoved: "50001E"
        case .fieldConflict: "50002E"
        case .containmentConflict: "50005E"
        case .concurrentCreation: "50013W"
        case .dependencyNotSynchronized: "50018E"
        case .artifactLookupFailed: "1408E"
        case .invalidMapping: "17002E"
        case .collectionProjectNotFound: "1110E"
        case .routingInvalid: "1415E"
        case .invalidConditionalRoute: "1412E"
        case .invalidFilter: "1409E"
        case .fieldFlowInvalid: "17005E"
        case .conflictStrategyInvalid: "17007E"
        case .conditionalFieldFlowInvalid: "17027E"
        case .commentFlowInvalid: "17026E"
        case .invalidSchedule: "1402E"
        case .repositoryCannotCreate: "17017E"
        }
    }
}

/// An error of the sync core: a code from the catalogue, the subject it concerns (a field, a route, a project) and the
/// reason, phrased for a user.
public struct SyncError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: ErrorCode
    public var subject: String
    public var reason: String

    public init(_ code: ErrorCode, subject: String, reason: String) {
        self.code = code
        self.subject = subject
        self.reason = reason
    }

    public var description: String { "\(self.code.guideCode) \(self.subject): \(self.reason)" }
}
