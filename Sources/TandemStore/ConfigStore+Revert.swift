import Foundation
public import TandemConfig
public import TandemCore

/// Undoing one audited change of a configuration entity, for the audit log's Revert and Restore (web UI and API).
extension ConfigStore {
    /// What a revert did: the entity, as now stored, and a sentence for people.
    public struct Reverted: Sendable {
        public var section: ConfigJSON.Section
        public var name: String
        public var entity: JSONNode
        public var message: String
    }

    /// Undoes `entry`: an update's changed members go back to their values before it (the log records a member that
    /// was at its default as null, which removes it; other members, later changes to them, `running` and secrets are
    /// kept), and a deletion is undone by creating the entity again as it was (an integration stopped). Goes through
    /// `put`, so it is validated and audited like any change. Refusals (`.conflict`) say why nothing was done.
    public func revert(_ entry: AuditEntry, actor: String) async throws -> Reverted {
        guard let section = ConfigJSON.Section.allCases.first(where: { $0.entity == entry.entity }), let name = entry.entityName else {
            throw AdminError(.conflict, "only changes of repositories, models, collections and integrations can be reverted")
        }
        let what = "\(section.entity) '\(name)'"
        switch entry.action {
        case "update":
            guard let current = try await self.get(section, name: name), var members = current.members else {
                throw AdminError(.conflict, "the \(what) no longer exists: restore its deletion instead")
            }
            let before = entry.changes["before"]?.members ?? []
            let after = entry.changes["after"]?.members ?? []
            var keys: [String] = []
            for key in (before + after).map(\.key) where !keys.contains(key) && key != "running" && key != "name" { keys.append(key) }
            guard !keys.isEmpty else {
                throw AdminError(.conflict, "change #\(entry.id) of the \(what) recorded no values to go back to (secrets are never recorded)")
            }
            for key in keys {
                if let value = before.first(where: { $0.key == key })?.value, value != .null {
                    if let index = members.firstIndex(where: { $0.key == key }) {
                        members[index].value = value
                    } else {
                        members.append(.init(key, value))
                    }
                } else {
                    members.removeAll { $0.key == key }
                }
            }
            if JSONNode.object(members) == current {
                throw AdminError(.conflict, "the \(what) already has the values it had before change #\(entry.id)")
            }
            let stored = try await Self.asConflict(entry) {
                try await self.put(section, name: name, body: .object(members), create: false, actor: actor)
            }
            return Reverted(
                section: section, name: name, entity: stored,
                message: "Reverted \(keys.joined(separator: ", ")) of the \(what) to the values before change #\(entry.id).")
        case "delete":
            guard try await self.get(section, name: name) == nil else {
                throw AdminError(.conflict, "a \(what) exists again; it was not replaced")
            }
            guard case .object(var members)? = entry.changes["before"] else {
                throw AdminError(.conflict, "change #\(entry.id) recorded no values to restore")
            }
            members.removeAll { $0.key == "running" }
            let stored = try await Self.asConflict(entry) {
                try await self.put(section, name: nil, body: .object(members), create: true, actor: actor)
            }
            return Reverted(
                section: section, name: name, entity: stored, message: "Restored the \(what) as it was when change #\(entry.id) deleted it.")
        default:
            throw AdminError(.conflict, "only updates and deletions can be undone; change #\(entry.id) is a '\(entry.action)'")
        }
    }

    /// The request to undo a change is always well-formed: when the earlier values are not valid in today's
    /// configuration (a model field since removed, a collection since deleted), that is a conflict with the stored state.
    static func asConflict(_ entry: AuditEntry, _ body: () async throws -> JSONNode) async throws -> JSONNode {
        do {
            return try await body()
        } catch let error as AdminError where error.kind == .invalid {
            throw AdminError(.conflict, field: error.field, "the values before change #\(entry.id) are not valid now: \(error.message)")
        }
    }
}
