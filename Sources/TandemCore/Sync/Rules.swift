/// One side of an integration.
public enum Side: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case left, right

    public var opposite: Side { self == .left ? .right : .left }

    public var description: String { self.rawValue }
}

/// How often a field flows in one direction (guide L7117–7132).
public enum FlowFrequency: String, Sendable, Hashable, Codable, CaseIterable {
    /// Whenever the field changed on the source.
    case updateNormally = "update-normally"
    /// Whenever any field changed on the source.
    case alwaysUpdate = "always-update"
    /// Only when the target is created.
    case uponCreation = "upon-creation"
    case noUpdate = "no-update"

    /// Whether the field flows on updates.
    public var updates: Bool { self == .updateNormally || self == .alwaysUpdate }
}

/// A field's flow in both directions.
public struct FieldFlow: Sendable, Hashable, Codable {
    public var leftToRight: FlowFrequency
    public var rightToLeft: FlowFrequency

    public init(leftToRight: FlowFrequency = .updateNormally, rightToLeft: FlowFrequency = .updateNormally) {
        self.leftToRight = leftToRight
        self.rightToLeft = rightToLeft
    }

    public static let bothWays = FieldFlow()

    /// The frequency from `side` to the other side.
    public func frequency(from side: Side) -> FlowFrequency { side == .left ? self.leftToRight : self.rightToLeft }
}

/// Conditional field flow (guide L7070–7115): when the condition holds on the source artifact, these flows replace
/// the defaults for the fields they name. The first matching one wins.
public struct ConditionalFieldFlow: Sendable, Hashable {
    public var name: String
    public var condition: FilterExpression
    public var flows: [String: FieldFlow]

    public init(_ name: String, when condition: FilterExpression, flows: [String: FieldFlow]) {
        self.name = name
        self.condition = condition
        self.flows = flows
    }
}

/// Which side creates artifacts on the other (guide L7031–7038).
public enum CreationFlow: Sendable, Hashable {
    case twoWay
    case oneWay(from: Side)
    case none

    public func allows(from side: Side) -> Bool {
        switch self {
        case .twoWay: true
        case .oneWay(let s): s == side
        case .none: false
        }
    }
}

/// What happens when a field changed on both sides since the last sync (guide L7584–7595).
public enum ConflictResolution: String, Sendable, Hashable, Codable, CaseIterable {
    case error
    case leftDominates = "left-dominates"
    case rightDominates = "right-dominates"

    /// The side whose value wins, or nil for an error.
    public var dominant: Side? {
        switch self {
        case .error: nil
        case .leftDominates: .left
        case .rightDominates: .right
        }
    }
}

/// Conflict resolution for the integration, optionally field by field (guide L7611–7637); fields not named take the
/// default, which is `error` unless changed.
public struct ConflictPolicy: Sendable, Hashable, Codable {
    public var `default`: ConflictResolution
    public var perField: [String: ConflictResolution]

    public init(_ default: ConflictResolution = .error, perField: [String: ConflictResolution] = [:]) {
        self.default = `default`
        self.perField = perField
    }

    public func resolution(for field: String) -> ConflictResolution { self.perField[field] ?? self.default }
}

/// What to do with an artifact that matches no conditional route.
public enum RouteFallback: Sendable, Hashable {
    case error
    case ignore
    case defaultProject(String)
}

/// A route for created artifacts (guide L7216–7296).
public enum Route: Sendable, Hashable {
    /// Source projects on one side to one target project on the other (static).
    case fixed(from: Side, sourceProjects: [String], targetProject: String)
    /// Source projects to target projects chosen by the value of a single-select model field (conditional).
    case conditional(from: Side, sourceProjects: [String], field: String, targets: [String: [String]], fallback: RouteFallback)

    public var from: Side {
        switch self {
        case .fixed(let side, _, _), .conditional(let side, _, _, _, _): side
        }
    }

    public var sourceProjects: [String] {
        switch self {
        case .fixed(_, let projects, _), .conditional(_, let projects, _, _, _): projects
        }
    }

    /// The projects on the target side this route may create in.
    public var targetProjects: [String] {
        switch self {
        case .fixed(_, _, let target): [target]
        case .conditional(_, _, _, let targets, let fallback):
            if case .defaultProject(let p) = fallback { targets.keys.sorted() + [p] } else { targets.keys.sorted() }
        }
    }
}

/// A state transition of a repository workflow (guide L6081–6092).
public struct Transition: Sendable, Hashable, Codable {
    public var from: String
    public var to: String
    public var name: String

    public init(from: String, to: String, name: String) {
        self.from = from
        self.to = to
        self.name = name
    }
}

/// A status field's transition graph: the decision returns the shortest path of transitions to a state.
public struct TransitionGraph: Sendable, Hashable {
    public let transitions: [Transition]
    let outgoing: [String: [Int]]

    /// Builds the graph; exact, case- and space-sensitive states. Rejects loops on one state and two transitions
    /// between the same states in one direction (guide L6090–6092).
    public init(_ transitions: [Transition]) throws(SyncError) {
        var outgoing: [String: [Int]] = [:]
        var seen = Set<[String]>()
        for (i, t) in transitions.enumerated() {
            guard t.from != t.to else {
                throw SyncError(.invalidMapping, subject: "transition '\(t.name)'", reason: "loops on state '\(t.from)'")
            }
            guard seen.insert([t.from, t.to]).inserted else {
                throw SyncError(
                    .invalidMapping, subject: "transition '\(t.name)'",
                    reason: "a second transition from '\(t.from)' to '\(t.to)'"
                )
            }
            outgoing[t.from, default: []].append(i)
        }
        self.transitions = transitions
        self.outgoing = outgoing
    }

    /// All transitions between every pair of distinct states: n·(n−1) (guide L6120–6137).
    public static func allToAll(_ states: [String], name: (String, String) -> String = { "\($0) → \($1)" }) -> [Transition] {
        states.flatMap { a in states.filter { $0 != a }.map { b in Transition(from: a, to: b, name: name(a, b)) } }
    }

    /// The shortest path of transitions from one state to another (empty when they are equal), or nil.
    public func path(from start: String, to goal: String) -> [Transition]? {
        if start == goal { return [] }
        var previous: [String: Int] = [:]
        var queue = [start]
        var head = 0
        var visited: Set<String> = [start]
        while head < queue.count {
            let state = queue[head]
            head += 1
            for i in self.outgoing[state] ?? [] {
                let next = self.transitions[i].to
                guard visited.insert(next).inserted else { continue }
                previous[next] = i
                if next == goal {
                    var path: [Transition] = []
                    var cursor = goal
                    while let edge = previous[cursor] {
                        path.append(self.transitions[edge])
                        cursor = self.transitions[edge].from
                        if cursor == start { break }
                    }
                    return path.reversed()
                }
                queue.append(next)
            }
        }
        return nil
    }

    /// Every state named by a transition, sorted.
    public var states: [String] { Array(Set(self.transitions.flatMap { [$0.from, $0.to] })).sorted() }
}

/// One collection as the integration sees it.
public struct CollectionRules: Sendable, Hashable {
    public var projects: [String]
    public var fields: [FieldMapping]
    /// Status-like repository fields written through transitions, by repository field.
    public var transitions: [String: TransitionGraph]
    /// The people of the repository, for person reconciliation; nil copies persons unchanged.
    public var people: PersonDirectory?
    public var canCreate: Bool
    public var supportsComments: Bool
    /// Whether comments and attachments can be written as their author (guide L7466–7496).
    public var canImpersonate: Bool
    /// The markup comments are written in; nil: the markup the repository declares (`TextMarkups`), or, when it
    /// declares none, the comment's own.
    public var commentMarkup: TextMarkup?

    public init(
        projects: [String], fields: [FieldMapping], transitions: [String: TransitionGraph] = [:], people: PersonDirectory? = nil,
        canCreate: Bool = true, supportsComments: Bool = true, canImpersonate: Bool = false, commentMarkup: TextMarkup? = nil
    ) {
        self.projects = projects
        self.fields = fields
        self.transitions = transitions
        self.people = people
        self.canCreate = canCreate
        self.supportsComments = supportsComments
        self.canImpersonate = canImpersonate
        self.commentMarkup = commentMarkup
    }
}

/// Which directions comments flow in (guide L7440–7496).
public struct CommentFlow: Sendable, Hashable {
    public var leftToRight: Bool
    public var rightToLeft: Bool
    public var includePrivate: Bool

    public init(leftToRight: Bool = true, rightToLeft: Bool = true, includePrivate: Bool = false) {
        self.leftToRight = leftToRight
        self.rightToLeft = rightToLeft
        self.includePrivate = includePrivate
    }

    public static let disabled = CommentFlow(leftToRight: false, rightToLeft: false)

    public func allows(from side: Side) -> Bool { side == .left ? self.leftToRight : self.rightToLeft }
}

/// Which attachments flow (guide L7505–7560).
public struct AttachmentFlow: Sendable, Hashable {
    public var leftToRight: Bool
    public var rightToLeft: Bool
    /// Larger files are ignored.
    public var maximumBytes: Int64?
    /// File name extensions not sent, lower case without the dot.
    public var excludedTypes: Set<String>
    public var includeEncrypted: Bool

    public init(
        leftToRight: Bool = true, rightToLeft: Bool = true, maximumBytes: Int64? = nil, excludedTypes: Set<String> = [],
        includeEncrypted: Bool = false
    ) {
        self.leftToRight = leftToRight
        self.rightToLeft = rightToLeft
        self.maximumBytes = maximumBytes
        self.excludedTypes = Set(excludedTypes.map { $0.lowercased() })
        self.includeEncrypted = includeEncrypted
    }

    public static let disabled = AttachmentFlow(leftToRight: false, rightToLeft: false)

    public func allows(from side: Side) -> Bool { side == .left ? self.leftToRight : self.rightToLeft }
}

/// The last update made to an artifact whose twin is no longer eligible (guide L7786–7855).
public struct TwinlessUpdate: Sendable, Hashable {
    /// Model field → value written to the remaining artifact on that side (`null` clears).
    public var fields: [Side: [String: FieldValue]]
    /// Plain-text comment added to the remaining artifact on that side.
    public var comment: [Side: String]
    /// Re-synchronise every field when the artifact becomes eligible again (default true).
    public var resyncOnReentry: Bool

    public init(fields: [Side: [String: FieldValue]] = [:], comment: [Side: String] = [:], resyncOnReentry: Bool = true) {
        self.fields = fields
        self.comment = comment
        self.resyncOnReentry = resyncOnReentry
    }
}

/// Everything the core needs to know about one integration. The configuration module maps its documents onto this.
public struct IntegrationRules: Sendable, Hashable {
    public var model: [ModelField]
    public var left: CollectionRules
    public var right: CollectionRules
    public var creationFlow: CreationFlow
    /// Default flow per model field; fields not named flow both ways, updating normally.
    public var fieldFlows: [String: FieldFlow]
    public var conditionalFieldFlows: [ConditionalFieldFlow]
    public var filter: ArtifactFilter?
    public var routes: [Route]
    public var conflicts: ConflictPolicy
    public var comments: CommentFlow
    public var attachments: AttachmentFlow
    public var twinless: TwinlessUpdate

    public init(
        model: [ModelField], left: CollectionRules, right: CollectionRules, creationFlow: CreationFlow = .twoWay,
        fieldFlows: [String: FieldFlow] = [:], conditionalFieldFlows: [ConditionalFieldFlow] = [], filter: ArtifactFilter? = nil,
        routes: [Route], conflicts: ConflictPolicy = ConflictPolicy(), comments: CommentFlow = CommentFlow(),
        attachments: AttachmentFlow = AttachmentFlow(), twinless: TwinlessUpdate = TwinlessUpdate()
    ) {
        self.model = model
        self.left = left
        self.right = right
        self.creationFlow = creationFlow
        self.fieldFlows = fieldFlows
        self.conditionalFieldFlows = conditionalFieldFlows
        self.filter = filter
        self.routes = routes
        self.conflicts = conflicts
        self.comments = comments
        self.attachments = attachments
        self.twinless = twinless
    }

    public subscript(side: Side) -> CollectionRules { side == .left ? self.left : self.right }
}
