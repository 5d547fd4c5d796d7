import Foundation
import HTTP

extension JiraSite {
    /// Reads `fields` and `update` of a create or edit body into stored values, refusing what Jira refuses with its
    /// messages (by field id). `creating` also requires a summary.
    func readFields(
        _ body: JSONValue, existing: [String: JSONValue], creating: Bool, allowResolution: Bool = false
    ) throws(JiraFailure) -> (fields: [String: JSONValue], resolution: String?) {
        var stored = existing
        var errors: [String: String] = [:]
        var resolution: String?
        for (id, value) in (body["fields"]?.object ?? [:]).sorted(by: { $0.key < $1.key }) {
            if id == "resolution", allowResolution {
                let name = value["name"]?.string
                let rid = value["id"]?.string
                if let found = self.catalog.resolutions.first(where: { $0.name == name || $0.id == rid }) {
                    resolution = found.id
                } else {
                    errors["resolution"] = "Resolution '\(name ?? rid ?? "")' is not valid."
                }
                continue
            }
            if creating, id == "project" || id == "issuetype" { continue }
            guard let field = self.catalog.field(id), field.editable, field.kind != .issueType || creating else {
                errors[id] = JiraFailure.cannotSet(id)
                continue
            }
            do throws(FieldError) {
                stored[id] = try self.read(value, for: field)
            } catch {
                errors[id] = error.message
            }
        }
        for (id, operations) in (body["update"]?.object ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let field = self.catalog.field(id), field.editable, field.kind != .issueType else {
                errors[id] = JiraFailure.cannotSet(id)
                continue
            }
            for operation in operations.array ?? [] {
                guard let (verb, value) = operation.object?.first, operation.object?.count == 1 else {
                    errors[id] = "Operation must be one of set, add, remove, edit."
                    continue
                }
                do throws(FieldError) {
                    switch verb {
                    case "set": stored[id] = try self.read(value, for: field)
                    case "add", "remove":
                        guard field.kind == .labels || field.kind == .options else {
                            throw FieldError(message: "Operation '\(verb)' is not supported by \(field.name).")
                        }
                        let item = try self.read(.array([value]), for: field).array?.first ?? .null
                        var list = stored[id]?.array ?? []
                        if verb == "add" { if !list.contains(item) { list.append(item) } } else { list.removeAll { $0 == item } }
                        stored[id] = .array(list)
                    default: throw FieldError(message: "Operation '\(verb)' is not supported by \(field.name).")
                    }
                } catch {
                    errors[id] = error.message
                }
            }
        }
        if creating, (stored["summary"]?.string ?? "").trimmingCharacters(in: .whitespaces).isEmpty, errors["summary"] == nil {
            errors["summary"] = "You must specify a summary of the issue."
        }
        if let summary = stored["summary"]?.string, summary.count > 255 { errors["summary"] = "Summary must be less than 255 characters." }
        if !creating, body["fields"]?["summary"] != nil, (stored["summary"]?.string ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            errors["summary"] = "You must specify a summary of the issue."
        }
        guard errors.isEmpty else { throw JiraFailure.bad(errors) }
        return (stored, resolution)
    }

    struct FieldError: Error {
        var message: String
    }

    /// One field's value as given → as stored.
    func read(_ value: JSONValue, for field: JiraCatalog.Field) throws(FieldError) -> JSONValue {
        if value == .null {
            guard field.id != "summary" else { throw FieldError(message: "You must specify a summary of the issue.") }
            return .null
        }
        switch field.kind {
        case .text:
            guard case .string = value else { throw FieldError(message: "Operation value must be a string") }
            return value
        case .richText:
            if self.flavour == .cloud {
                guard value["type"]?.string == "doc", value["version"]?.int == 1, value["content"]?.array != nil else {
                    throw FieldError(message: "Operation value must be an Atlassian Document (see the Atlassian Document Format)")
                }
                return value
            }
            guard case .string = value else { throw FieldError(message: "Operation value must be a string") }
            return value
        case .number:
            guard case .number = value else { throw FieldError(message: "Operation value must be a number") }
            return value
        case .date:
            guard let text = value.string, SchemaFormat.isDate(Substring(text)) else {
                throw FieldError(message: "Error parsing date string: \(value.string ?? JSONValue.short(value))")
            }
            return value
        case .labels:
            guard let items = value.array else { throw FieldError(message: "Operation value must be an array") }
            var labels: [JSONValue] = []
            for item in items {
                guard let label = item.string, !label.isEmpty else { throw FieldError(message: "Label must be a string") }
                guard !label.contains(" ") else { throw FieldError(message: "The label '\(label)' contains spaces which is invalid.") }
                guard label.count <= 255 else { throw FieldError(message: "The label '\(label.prefix(20))…' exceeds the 255 character limit.") }
                labels.append(item)
            }
            return .array(labels)
        case .option:
            return .string(try self.option(value, field))
        case .options:
            guard let items = value.array else { throw FieldError(message: "Operation value must be an array") }
            var ids: [JSONValue] = []
            for item in items { ids.append(.string(try self.option(item, field))) }
            return .array(ids)
        case .user:
            let id = self.flavour == .cloud ? value["accountId"]?.string : value["name"]?.string ?? value["key"]?.string
            guard let id else {
                throw FieldError(
                    message: self.flavour == .cloud
                        ? "Specify a valid value for \(field.name.lowercased())" : "expected Object containing a 'name' property")
            }
            guard let user = self.catalog.user(id) else { throw FieldError(message: "User '\(id)' does not exist.") }
            return .string(user.accountID)
        case .priority:
            if let id = value["id"]?.string {
                guard self.catalog.priorities.contains(where: { $0.id == id }) else {
                    throw FieldError(message: "Priority with id '\(id)' does not exist")
                }
                return .string(id)
            }
            if let name = value["name"]?.string {
                guard let found = self.catalog.priorities.first(where: { $0.name.lowercased() == name.lowercased() }) else {
                    throw FieldError(message: "Priority name '\(name)' is not valid")
                }
                return .string(found.id)
            }
            throw FieldError(message: "Specify the Priority (id or name) in the string format")
        case .readOnly, .issueType, .project:
            throw FieldError(message: JiraFailure.cannotSet(field.id))
        }
    }

    private func option(_ value: JSONValue, _ field: JiraCatalog.Field) throws(FieldError) -> String {
        if let id = value["id"]?.string {
            guard field.options.contains(where: { $0.id == id }) else { throw FieldError(message: "Option id '\(id)' is not valid") }
            return id
        }
        if let name = value["value"]?.string {
            guard let found = field.options.first(where: { $0.value == name }) else {
                throw FieldError(message: "Option value '\(name)' is not valid")
            }
            return found.id
        }
        throw FieldError(message: "Could not find valid 'id' or 'value' in the Parent Option object.")
    }
}

extension JSONValue {
    static func short(_ value: JSONValue) -> String { SchemaTable.short(value) }
}
