public import Foundation
public import HTTP
public import TandemCore

/// A tool Tandem connects to, by the name configurations give it (`type: redmine`). Only registered tools are kinds:
/// a configuration naming another is refused with the list of those that are.
public struct ConnectorKind: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible, CaseIterable {
    public let rawValue: String

    /// A registered tool's kind; nil for any other name.
    public init?(rawValue: String) {
        guard ConnectorRegistry.registration(rawValue) != nil else { return nil }
        self.rawValue = rawValue
    }

    /// For a tool's own `static let` (its registration line makes it valid).
    public init(registered name: String) { self.rawValue = name }

    /// Every registered kind, in the registry's order.
    public static var allCases: [ConnectorKind] { ConnectorRegistry.all.map(\.kind) }

    public var description: String { self.rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// The tool's registration. Every value made through `init?(rawValue:)` or a tool's constant has one.
    public var registration: ConnectorRegistration {
        ConnectorRegistry.registration(self.rawValue) ?? ConnectorRegistry.unknown(self)
    }
}

/// Limits a repository of the tool inherits when its configuration sets none: the pace its API tolerates.
public struct ConnectorDefaultLimits: Sendable, Hashable {
    /// Changes written per minute (nil: the global setting).
    public var eventsPerMinute: Int?
    /// Requests at once (nil: no limit beyond the worker's).
    public var concurrency: Int?

    public init(eventsPerMinute: Int? = nil, concurrency: Int? = nil) {
        self.eventsPerMinute = eventsPerMinute
        self.concurrency = concurrency
    }
}

/// What a connector is built from: the repository's name and address, its credentials and connection settings, its
/// validated options and the shared HTTP client.
public struct ConnectorContext: Sendable {
    /// The repository's configured name.
    public var repository: String
    public var url: URL
    public var credentials: Credentials
    public var settings: ConnectionSettings
    public var options: ConnectorOptionValues
    public var http: HTTPClient

    public init(
        repository: String, url: URL, credentials: Credentials, settings: ConnectionSettings, options: ConnectorOptionValues,
        http: HTTPClient
    ) {
        self.repository = repository
        self.url = url
        self.credentials = credentials
        self.settings = settings
        self.options = options
        self.http = http
    }
}

/// One tool, registered once: its kind, name, capabilities, options, default limits and factory. The configuration
/// validator, the cluster's connector factory, the API's tracker systems, the web UI and `docs/configuration.md` all
/// read it, so a new tool is its own folder plus one line in `ConnectorRegistry.all`.
public struct ConnectorRegistration: Sendable {
    public var kind: ConnectorKind
    /// As users know the tool ("Redmine").
    public var displayName: String
    /// The tool's longer name, for the API's tracker systems ("Roundup Issue Tracker").
    public var fullName: String
    /// The fixed number the v2 API's `connector` stands for (seed 003); unique in the registry.
    public var apiConnectorNumber: Int
    /// What the tool can do, with the connector's default configuration.
    public var capabilities: ConnectorCapabilities
    /// The options a repository of this tool may set (`repositories[].options`), beyond the common ones.
    public var options: [ConnectorOption]
    public var defaultLimits: ConnectorDefaultLimits
    /// One line for the documentation's table of tools.
    public var summary: String
    public var make: @Sendable (ConnectorContext) throws -> any Connector

    public init(
        kind: ConnectorKind, displayName: String, fullName: String? = nil, apiConnectorNumber: Int, capabilities: ConnectorCapabilities,
        options: [ConnectorOption] = [], defaultLimits: ConnectorDefaultLimits = .init(), summary: String,
        make: @escaping @Sendable (ConnectorContext) throws -> any Connector
    ) {
        self.kind = kind
        self.displayName = displayName
        self.fullName = fullName ?? displayName
        self.apiConnectorNumber = apiConnectorNumber
        self.capabilities = capabilities
        self.options = options
        self.defaultLimits = defaultLimits
        self.summary = summary
        self.make = make
    }

    /// Every option a repository of this tool may set: the tool's own, then those every repository has.
    public var allOptions: [ConnectorOption] { self.options + ConnectorOption.common }

    /// Checks a repository's options: unknown names and values of the wrong type, each with its key and the reason.
    public func validate(options given: [String: String]) -> [(key: String, reason: String)] {
        let known = Dictionary(self.allOptions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var problems: [(key: String, reason: String)] = []
        for (key, value) in given.sorted(by: { $0.key < $1.key }) {
            if key.hasPrefix(ConnectorOption.passThroughPrefix), key.count > ConnectorOption.passThroughPrefix.count { continue }
            guard let option = known[key] else {
                let names = self.allOptions.map(\.name).sorted()
                problems.append((key, "\(self.displayName) has no option '\(key)' (its options: \(names.joined(separator: ", ")))"))
                continue
            }
            if let reason = option.problem(with: value) { problems.append((key, reason)) }
        }
        return problems
    }
}

/// The tools Tandem connects to. Adding one: its folder under `Sources/TandemConnectors/`, and its line here.
public enum ConnectorRegistry {
    public static let all: [ConnectorRegistration] = [
        RedmineConnector.registration,
        JiraConnector.registration,
        GitHubConnector.registration,
        RoundupConnector.registration,
        InMemoryConnector.registration,
    ]

    private static let byKind: [String: ConnectorRegistration] = Dictionary(
        Self.all.map { ($0.kind.rawValue, $0) }, uniquingKeysWith: { a, _ in a })

    public static func registration(_ kind: String) -> ConnectorRegistration? { Self.byKind[kind] }

    /// A registration for a kind made unchecked and never registered: its connector says so when built.
    static func unknown(_ kind: ConnectorKind) -> ConnectorRegistration {
        ConnectorRegistration(
            kind: kind, displayName: kind.rawValue, apiConnectorNumber: 0,
            capabilities: ConnectorCapabilities(
                comments: false, attachments: false, impersonation: false, relationships: false, transitions: false,
                optimisticConcurrency: false, maxPageSize: 1, timestampPrecision: 1, overlapWindow: 0, rateLimitSignals: [],
                deletion: .notFoundOnRead),
            summary: "not a registered tool"
        ) { context in
            throw ConnectorError(
                .unsupported, kind: .needsAttention, message: "repository \(context.repository): '\(kind.rawValue)' is not a tool Tandem connects to")
        }
    }

    /// The registered kinds, for messages: "redmine, roundup, memory".
    public static var kindList: String { Self.all.map(\.kind.rawValue).joined(separator: ", ") }
}
