/// What the last sync of an artifact did, as its trace records it (`artifact_trace.last_outcome`): the decision's action,
/// or why no decision was carried out.
public enum TraceOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    case create
    case update
    case nothing
    case conflict
    case noLongerEligible = "no-longer-eligible"
    /// The sync failed permanently (the trace's error says why).
    case failed
    /// The artifact was deleted.
    case gone
    /// An operator ignores the pair's changes until a retry.
    case ignored
}

extension SyncAction {
    /// The outcome a sync that carried out this action records.
    public var outcome: TraceOutcome {
        switch self {
        case .create: .create
        case .update: .update
        case .nothing: .nothing
        case .conflict: .conflict
        case .noLongerEligible: .noLongerEligible
        }
    }
}
