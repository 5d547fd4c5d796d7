public import Foundation
import HTTP
public import Logging
import Synchronization
public import TandemConnectors
public import TandemCore

/// The people of each repository's projects, as its connector lists them (`Connector.people`), kept for `lifetime`
/// per repository and project, so that matching persons costs a listing every few minutes, not calls per sync.
///
/// A listing that fails is not a failed sync: the last listing is used while there is one; otherwise a transient
/// failure is thrown (the job is retried) and any other leaves the persons unmatched (written as they come) until the
/// next try, with a warning naming the repository.
public final class PeopleCache: Sendable {
    struct Entry: Sendable {
        var people: [Person]?
        var listed: ContinuousClock.Instant
    }
    let lifetime: Duration
    private let entries = Mutex<[String: Entry]>([:])
    private let logger: Logger

    public init(lifetime: Duration = .seconds(600), logger: Logger) {
        self.lifetime = lifetime
        self.logger = logger
    }

    /// The people of `projects` in the repository (one directory, each person once), or nil when the tool lists none.
    public func directory(repository: String, projects: [String], connector: any Connector) async throws -> PersonDirectory? {
        var everyone: [Person] = []
        var seen: Set<Person> = []
        var listed = false
        for project in projects.sorted() {
            guard let people = try await self.people(repository: repository, project: project, connector: connector) else { continue }
            listed = true
            // A set, not `contains` on the list: this runs for every sync that writes a person, over every member.
            for person in people where seen.insert(person).inserted { everyone.append(person) }
        }
        return listed ? PersonDirectory(everyone) : nil
    }

    func people(repository: String, project: String, connector: any Connector) async throws -> [Person]? {
        let key = repository + "\u{0}" + project
        let cached = self.entries.withLock { $0[key] }
        if let cached, cached.listed.duration(to: .now) < self.lifetime { return cached.people }
        do {
            let people = try await connector.people(project: project)
            self.entries.withLock { $0[key] = Entry(people: people, listed: .now) }
            return people
        } catch {
            if let cached { return cached.people }
            guard let failure = error as? ConnectorError, failure.kind != .transient else { throw error }
            self.logger.warning(
                "the people of a project could not be listed: persons written there stay unmatched",
                metadata: ["tandem.repository": "\(repository)", "tandem.project": "\(project)", "tandem.error": "\(failure)"])
            self.entries.withLock { $0[key] = Entry(people: nil, listed: .now) }
            return nil
        }
    }
}
