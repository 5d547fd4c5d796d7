import Foundation
import HTTP

/// Where the bodies' `self` links point and which zone their times are in.
struct JiraRender {
    let flavour: JiraFlavour
    let catalog: JiraCatalog
    /// `http://HOST:PORT/jira/<site>` (Cloud) or `http://HOST:PORT/jira-dc/<site>`.
    let base: String
    let zone: TimeZone

    var rest: String { self.base + self.flavour.restPrefix }
    func time(_ date: Date) -> JSONValue { .string(JiraTime.format(date, in: self.zone)) }

    func avatars(_ seed: String) -> JSONValue {
        let url =
            "https://secure.gravatar.com/avatar/\(seed)?d=https%3A%2F%2Favatar-management--avatars.us-west-2.prod.public.atl-paas.net%2Finitials%2F\(seed.prefix(2).uppercased())-5.png"
        return ["48x48": .string(url), "24x24": .string(url), "16x16": .string(url), "32x32": .string(url)]
    }

    func user(_ id: String?) -> JSONValue {
        guard let id, let user = self.catalog.user(id) else { return .null }
        var body: [String: JSONValue] = [
            "emailAddress": .string(user.email), "avatarUrls": self.avatars(user.name), "displayName": .string(user.displayName), "active": true,
            "timeZone": .string(self.zone.identifier),
        ]
        if self.flavour == .cloud {
            body["self"] = .string("\(self.rest)/user?accountId=\(user.accountID)")
            body["accountId"] = .string(user.accountID)
            body["accountType"] = "atlassian"
        } else {
            body["self"] = .string("\(self.rest)/user?username=\(user.name)")
            body["name"] = .string(user.name)
            body["key"] = .string(user.key)
        }
        return .object(body)
    }

    func status(_ id: String) -> JSONValue {
        let status = self.catalog.status(id)
        let (categoryID, categoryName, color): (Int, String, String) =
            switch status.category {
            case "new": (2, "To Do", "blue-gray")
            case "done": (3, "Done", "green")
            default: (4, "In Progress", "yellow")
            }
        return [
            "self": .string("\(self.rest)/status/\(status.id)"), "description": "",
            "iconUrl": .string("\(self.base)/images/icons/statuses/generic.png"),
            "name": .string(status.name), "id": .string(status.id),
            "statusCategory": [
                "self": .string("\(self.rest)/statuscategory/\(categoryID)"), "id": .number(Double(categoryID)), "key": .string(status.category),
                "colorName": .string(color), "name": .string(categoryName),
            ],
        ]
    }

    func issueType(_ id: String) -> JSONValue {
        guard let type = self.catalog.issueType(id) else { return .null }
        var body: [String: JSONValue] = [
            "self": .string("\(self.rest)/issuetype/\(type.id)"), "id": .string(type.id), "description": .string(type.description),
            "iconUrl": .string("\(self.base)/rest/api/2/universal_avatar/view/type/issuetype/avatar/\(type.id)?size=medium"),
            "name": .string(type.name), "subtask": false, "avatarId": .number(Double(type.id) ?? 0),
        ]
        if self.flavour == .cloud { body["hierarchyLevel"] = .number(Double(type.hierarchyLevel)) }
        return .object(body)
    }

    func priority(_ id: String) -> JSONValue {
        guard let priority = self.catalog.priorities.first(where: { $0.id == id }) else { return .null }
        return [
            "self": .string("\(self.rest)/priority/\(priority.id)"),
            "iconUrl": .string("\(self.base)/images/icons/priorities/\(priority.name.lowercased()).svg"),
            "name": .string(priority.name), "id": .string(priority.id),
        ]
    }

    func project(_ project: JiraCatalog.Project, full: Bool = false) -> JSONValue {
        var body: [String: JSONValue] = [
            "self": .string("\(self.rest)/project/\(project.id)"), "id": .string(String(project.id)), "key": .string(project.key),
            "name": .string(project.name), "projectTypeKey": "software", "avatarUrls": self.avatars(project.key.lowercased()),
        ]
        if self.flavour == .cloud { body["simplified"] = false }
        if full {
            body["description"] = ""
            body["lead"] = self.user(self.catalog.apiUser.accountID)
            body["issueTypes"] = .array(self.catalog.issueTypes.map { self.issueType($0.id) })
            body["assigneeType"] = "UNASSIGNED"
            if self.flavour == .cloud {
                body["isPrivate"] = false
                body["style"] = "classic"
            }
        }
        return .object(body)
    }

    func option(_ field: JiraCatalog.Field, _ id: String) -> JSONValue {
        let value = field.options.first { $0.id == id }?.value ?? ""
        return ["self": .string("\(self.rest)/customFieldOption/\(id)"), "value": .string(value), "id": .string(id)]
    }

    func comment(_ issue: JiraIssue, _ comment: JiraIssue.Comment) -> JSONValue {
        var body: [String: JSONValue] = [
            "self": .string("\(self.rest)/issue/\(issue.id)/comment/\(comment.id)"), "id": .string(String(comment.id)),
            "author": self.user(comment.author), "body": comment.body, "updateAuthor": self.user(comment.author),
            "created": self.time(comment.created), "updated": self.time(comment.updated),
        ]
        if self.flavour == .cloud { body["jsdPublic"] = true }
        return .object(body)
    }

    func attachment(_ attachment: JiraIssue.Attachment, metadata: Bool = false) -> JSONValue {
        let content =
            self.flavour == .cloud
            ? "\(self.rest)/attachment/content/\(attachment.id)"
            : "\(self.base)/secure/attachment/\(attachment.id)/\(Self.escape(attachment.filename))"
        return [
            "self": .string("\(self.rest)/attachment/\(attachment.id)"),
            "id": metadata && self.flavour == .cloud ? .number(Double(attachment.id)) : .string(String(attachment.id)),
            "filename": .string(attachment.filename), "author": self.user(attachment.author), "created": self.time(attachment.created),
            "size": .number(Double(attachment.size)), "mimeType": .string(attachment.mimeType), "content": .string(content),
        ]
    }

    static func escape(_ name: String) -> String { name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name }

    func remoteLink(_ issue: JiraIssue, _ link: JiraIssue.RemoteLink) -> JSONValue {
        var body: [String: JSONValue] = ["id": .number(Double(link.id)), "self": .string("\(self.rest)/issue/\(issue.key)/remotelink/\(link.id)")]
        for key in ["globalId", "application", "relationship", "object"] { if let value = link.request[key] { body[key] = value } }
        return .object(body)
    }

    /// A field's value as GET shows it.
    func value(_ field: JiraCatalog.Field, of issue: JiraIssue) -> JSONValue {
        switch field.id {
        case "issuetype": return self.issueType(issue.typeID)
        case "project": return self.catalog.project(issue.projectKey).map { self.project($0) } ?? .null
        case "status": return self.status(issue.statusID)
        case "creator": return self.user(issue.creator)
        case "created": return self.time(issue.created)
        case "updated": return self.time(issue.updated)
        case "resolutiondate": return issue.resolutionDate.map(self.time) ?? .null
        case "resolution":
            guard let id = issue.resolutionID, let resolution = self.catalog.resolutions.first(where: { $0.id == id }) else { return .null }
            return [
                "self": .string("\(self.rest)/resolution/\(id)"), "id": .string(id), "description": .string(resolution.description),
                "name": .string(resolution.name),
            ]
        case "comment":
            return [
                "comments": .array(issue.comments.map { self.comment(issue, $0) }), "self": .string("\(self.rest)/issue/\(issue.id)/comment"),
                "maxResults": .number(Double(issue.comments.count)), "total": .number(Double(issue.comments.count)), "startAt": 0,
            ]
        case "attachment": return .array(issue.attachments.map { self.attachment($0) })
        default: break
        }
        guard let stored = issue.fields[field.id], stored != .null else { return field.kind == .labels ? [] : .null }
        switch field.kind {
        case .priority: return self.priority(stored.string ?? "")
        case .user: return self.user(stored.string)
        case .option: return self.option(field, stored.string ?? "")
        case .options: return .array((stored.array ?? []).compactMap(\.string).map { self.option(field, $0) })
        default: return stored
        }
    }

    /// The issue as GET /issue shows it (and search, with the fields asked for).
    func issue(_ issue: JiraIssue, fields wanted: [String]?, properties: [String], expand: Set<String>) -> JSONValue {
        var body: [String: JSONValue] = [
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations", "id": .string(String(issue.id)),
            "self": .string("\(self.rest)/issue/\(issue.id)"), "key": .string(issue.key),
        ]
        let selected = self.select(wanted)
        var fields: [String: JSONValue] = [:]
        for field in self.catalog.fields where selected(field) { fields[field.id] = self.value(field, of: issue) }
        body["fields"] = .object(fields)
        if !properties.isEmpty {
            var shown: [String: JSONValue] = [:]
            for (key, value) in issue.properties where properties.contains("*all") || properties.contains(key) { shown[key] = value }
            body["properties"] = .object(shown)
        }
        if expand.contains("renderedFields") {
            var rendered: [String: JSONValue] = [:]
            for field in self.catalog.fields where selected(field) && field.kind == .richText {
                rendered[field.id] = issue.fields[field.id].map { .string(Self.html($0)) } ?? .null
            }
            body["renderedFields"] = .object(rendered)
        }
        if expand.contains("names") {
            body["names"] = .object(Dictionary(uniqueKeysWithValues: self.catalog.fields.filter(selected).map { ($0.id, JSONValue.string($0.name)) }))
        }
        if expand.contains("schema") {
            body["schema"] = .object(Dictionary(uniqueKeysWithValues: self.catalog.fields.filter(selected).map { ($0.id, $0.schema) }))
        }
        if expand.contains("transitions") { body["transitions"] = .array(self.transitions(for: issue, withFields: false)) }
        return .object(body)
    }

    /// Jira's `fields` parameter: `*all`, `*navigable`, ids, `-id` exclusions; nil means `*all`.
    func select(_ wanted: [String]?) -> (JiraCatalog.Field) -> Bool {
        let list = (wanted ?? ["*all"]).flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        let all = list.contains("*all") || list.contains("*navigable")
        let included = Set(list.filter { !$0.hasPrefix("-") && !$0.hasPrefix("*") })
        let excluded = Set(list.filter { $0.hasPrefix("-") }.map { String($0.dropFirst()) })
        return { field in !excluded.contains(field.id) && (all || included.contains(field.id)) }
    }

    /// Plain HTML of ADF or wiki text (renderedFields).
    static func html(_ value: JSONValue) -> String {
        let text = Self.plainText(value)
        let escaped = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: ">", with: "&gt;")
        return "<p>\(escaped)</p>"
    }

    static func plainText(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return text
        case .object(let node):
            if let text = node["text"]?.string { return text }
            let parts = (node["content"]?.array ?? []).map(Self.plainText)
            return parts.joined(separator: node["type"]?.string == "doc" ? "\n" : "")
        default: return ""
        }
    }

    func transitions(for issue: JiraIssue, withFields: Bool) -> [JSONValue] {
        self.catalog.transitions.filter { $0.from.contains(issue.statusID) }.map { transition in
            var body: [String: JSONValue] = [
                "id": .string(transition.id), "name": .string(transition.name), "to": self.status(transition.to),
                "hasScreen": .bool(transition.requiresResolution),
                "isGlobal": false, "isInitial": false, "isAvailable": true, "isConditional": false, "isLooped": false,
            ]
            if self.flavour == .dataCenter {
                body = ["id": .string(transition.id), "name": .string(transition.name), "to": self.status(transition.to)]
            }
            if withFields {
                var fields: [String: JSONValue] = [:]
                if transition.requiresResolution { fields["resolution"] = self.resolutionMeta() }
                body["fields"] = .object(fields)
            }
            return .object(body)
        }
    }

    func resolutionMeta() -> JSONValue {
        [
            "required": true, "schema": ["type": "resolution", "system": "resolution"], "name": "Resolution", "key": "resolution",
            "hasDefaultValue": false,
            "operations": ["set"],
            "allowedValues": .array(
                self.catalog.resolutions.map {
                    [
                        "self": .string("\(self.rest)/resolution/\($0.id)"), "id": .string($0.id), "name": .string($0.name),
                        "description": .string($0.description),
                    ]
                }),
        ]
    }

    /// A field's create/edit metadata (`FieldMetadata`, with `fieldId` for createmeta).
    func fieldMeta(_ field: JiraCatalog.Field, required: Bool, createMeta: Bool) -> JSONValue {
        var body: [String: JSONValue] = [
            "required": .bool(required), "schema": field.schema, "name": .string(field.name), "key": .string(field.id), "hasDefaultValue": false,
            "operations": field.kind == .labels || field.kind == .options ? ["add", "set", "remove"] : ["set"],
        ]
        if createMeta { body["fieldId"] = .string(field.id) }
        if self.flavour == .dataCenter {
            body["key"] = nil
            body["fieldId"] = .string(field.id)
        }
        switch field.kind {
        case .option, .options: body["allowedValues"] = .array(field.options.map { self.option(field, $0.id) })
        case .priority: body["allowedValues"] = .array(self.catalog.priorities.map { self.priority($0.id) })
        case .issueType: body["allowedValues"] = .array(self.catalog.issueTypes.map { self.issueType($0.id) })
        case .user:
            body["autoCompleteUrl"] = .string("\(self.rest)/user/search?query=")
        default: break
        }
        return .object(body)
    }
}
