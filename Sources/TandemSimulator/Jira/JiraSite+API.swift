import Foundation
import HTTP
import Synchronization

extension JiraSite {
    /// Serves one operation (`METHOD /path` without the REST prefix, as the spec names it).
    func handle(_ key: String, _ call: JiraCall) throws(JiraFailure) -> JiraReply {
        let r = call.render
        switch key {
        case "GET /myself": return .ok(self.myself(r))
        case "GET /serverInfo": return .ok(self.serverInfo(r, now: call.now))
        case "GET /field": return .ok(.array(self.catalog.fields.map { self.fieldBody($0, r) }))
        case "GET /project/search":
            let projects = self.catalog.projects.filter { project in
                call.list("keys").map { $0.map { $0.uppercased() }.contains(project.key) } ?? true
            }
            let startAt = call.int("startAt", 0)
            let maxResults = min(max(call.int("maxResults", 50), 1), 100)
            let page = projects.dropFirst(startAt).prefix(maxResults)
            return .ok([
                "self": .string("\(r.rest)/project/search"), "maxResults": .number(Double(maxResults)), "startAt": .number(Double(startAt)),
                "total": .number(Double(projects.count)), "isLast": .bool(startAt + page.count >= projects.count),
                "values": .array(page.map { r.project($0) }),
            ])
        case "GET /project": return .ok(.array(self.catalog.projects.map { r.project($0) }))
        case "GET /project/{projectIdOrKey}": return .ok(r.project(try self.project(call.parameter("projectIdOrKey")), full: true))
        case "GET /priority": return .ok(.array(self.catalog.priorities.map { self.priorityBody($0.id, r) }))
        case "GET /priority/search":
            let all = self.catalog.priorities.map { self.priorityBody($0.id, r) }
            return .ok([
                "self": .string("\(r.rest)/priority/search"), "maxResults": 50, "startAt": 0, "total": .number(Double(all.count)), "isLast": true,
                "values": .array(all),
            ])
        case "GET /issuetype": return .ok(.array(self.catalog.issueTypes.map { r.issueType($0.id) }))
        case "GET /issuetype/project":
            guard let id = call.query("projectId"), self.catalog.project(id) != nil else {
                throw JiraFailure.notFound("No project could be found with id '\(call.query("projectId") ?? "")'.")
            }
            return .ok(.array(self.catalog.issueTypes.map { r.issueType($0.id) }))
        case "GET /status": return .ok(.array(self.catalog.statuses.map { r.status($0.id) }))
        case "GET /project/{projectIdOrKey}/statuses":
            _ = try self.project(call.parameter("projectIdOrKey"))
            return .ok(
                .array(
                    self.catalog.issueTypes.map { type in
                        [
                            "self": .string("\(r.rest)/issuetype/\(type.id)"), "id": .string(type.id), "name": .string(type.name), "subtask": false,
                            "statuses": .array(self.catalog.statuses.map { r.status($0.id) }),
                        ]
                    }))
        case "GET /issue/createmeta/{projectIdOrKey}/issuetypes":
            _ = try self.project(call.parameter("projectIdOrKey"))
            let types: [JSONValue] = self.catalog.issueTypes.map { r.issueType($0.id) }
            return .ok(self.page(types, key: self.flavour == .cloud ? "issueTypes" : "values", call))
        case "GET /issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}":
            _ = try self.project(call.parameter("projectIdOrKey"))
            guard self.catalog.issueType(call.parameter("issueTypeId")) != nil else {
                throw JiraFailure.notFound("Issue type with id '\(call.parameter("issueTypeId"))' does not exist.")
            }
            let fields = self.catalog.fields.filter { $0.editable || $0.kind == .project }.map { field in
                r.fieldMeta(field, required: ["summary", "issuetype", "project"].contains(field.id), createMeta: true)
            }
            return .ok(self.page(fields, key: self.flavour == .cloud ? "fields" : "values", call))
        case "GET /issue/{issueIdOrKey}/editmeta":
            let issue = try self.issue(call)
            _ = issue
            var fields: [String: JSONValue] = [:]
            for field in self.catalog.fields where field.editable {
                fields[field.id] = r.fieldMeta(field, required: field.id == "summary", createMeta: false)
            }
            return .ok(["fields": .object(fields)])
        case "POST /issue": return try self.create(call)
        case "GET /issue/{issueIdOrKey}":
            let issue = try self.issue(call)
            return .ok(
                r.issue(issue, fields: call.list("fields"), properties: call.list("properties") ?? [], expand: Set(call.list("expand") ?? [])))
        case "PUT /issue/{issueIdOrKey}": return try self.edit(call)
        case "DELETE /issue/{issueIdOrKey}":
            let issue = try self.writable(call)
            self.state.withLock { state in Self.commit(nil, id: issue.id, operation: "delete", title: issue.summary, in: &state, now: call.now) }
            return .noContent
        case "GET /search/jql", "POST /search/jql", "GET /search", "POST /search": return try self.search(call, post: key.hasPrefix("POST"))
        case "GET /issue/{issueIdOrKey}/comment": return try self.comments(call)
        case "POST /issue/{issueIdOrKey}/comment": return try self.addComment(call)
        case "GET /issue/{issueIdOrKey}/comment/{id}":
            let issue = try self.issue(call)
            guard let comment = issue.comments.first(where: { String($0.id) == call.parameter("id") }) else {
                throw JiraFailure.notFound("Can not find a comment for the id: \(call.parameter("id")).")
            }
            return .ok(r.comment(issue, comment))
        case "POST /issue/{issueIdOrKey}/attachments": return try self.attach(call)
        case "GET /attachment/{id}":
            let (_, attachment) = try self.attachment(call.parameter("id"))
            return .ok(r.attachment(attachment, metadata: true))
        case "GET /attachment/content/{id}":
            let (_, attachment) = try self.attachment(call.parameter("id"))
            if call.query("redirect") == "false" { return try self.attachmentContent(String(attachment.id)) }
            return JiraReply(status: 303, headers: [("Location", "\(r.base)/media/\(attachment.id)/\(JiraRender.escape(attachment.filename))")])
        case "GET /attachment/meta": return .ok(["enabled": true, "uploadLimit": .number(Double(64 << 20))])
        case "GET /issue/{issueIdOrKey}/transitions":
            let issue = try self.issue(call)
            let withFields = (call.list("expand") ?? []).contains("transitions.fields")
            var transitions = r.transitions(for: issue, withFields: withFields)
            if let id = call.query("transitionId") { transitions = transitions.filter { $0["id"]?.string == id } }
            return .ok(self.flavour == .cloud ? ["expand": "transitions", "transitions": .array(transitions)] : ["transitions": .array(transitions)])
        case "POST /issue/{issueIdOrKey}/transitions": return try self.transition(call)
        case "GET /issue/{issueIdOrKey}/remotelink":
            let issue = try self.issue(call)
            let links = issue.remoteLinks.filter { link in call.query("globalId").map { link.globalID == $0 } ?? true }
            return .ok(.array(links.map { r.remoteLink(issue, $0) }))
        case "POST /issue/{issueIdOrKey}/remotelink": return try self.addRemoteLink(call)
        case "GET /issue/{issueIdOrKey}/properties":
            let issue = try self.issue(call)
            return .ok([
                "keys": .array(
                    issue.properties.keys.sorted().map { ["self": .string("\(r.rest)/issue/\(issue.id)/properties/\($0)"), "key": .string($0)] })
            ])
        case "GET /issue/{issueIdOrKey}/properties/{propertyKey}":
            let issue = try self.issue(call)
            let key = call.parameter("propertyKey")
            guard let value = issue.properties[key] else { throw JiraFailure.notFound("The property with key '\(key)' does not exist.") }
            return .ok(["key": .string(key), "value": value])
        case "PUT /issue/{issueIdOrKey}/properties/{propertyKey}":
            guard let value = try? JSONDecoder().decode(JSONValue.self, from: call.raw) else {
                throw JiraFailure.bad(message: "The property value must be valid JSON.")
            }
            var issue = try self.writable(call)
            let key = call.parameter("propertyKey")
            guard key.count <= 255, !key.isEmpty else {
                throw JiraFailure.bad(message: "The property key must be between 1 and 255 characters long.")
            }
            let existed = issue.properties[key] != nil
            issue.properties[key] = value
            self.state.withLock { Self.commit(issue, id: issue.id, operation: "property", title: issue.summary, in: &$0, now: call.now) }
            return JiraReply(status: existed ? 200 : 201)
        case "DELETE /issue/{issueIdOrKey}/properties/{propertyKey}":
            var issue = try self.writable(call)
            let key = call.parameter("propertyKey")
            guard issue.properties.removeValue(forKey: key) != nil else {
                throw JiraFailure.notFound("The property with key '\(key)' does not exist.")
            }
            self.state.withLock { Self.commit(issue, id: issue.id, operation: "property", title: issue.summary, in: &$0, now: call.now) }
            return .noContent
        case "GET /user/assignable/search":
            if call.query("project") == nil, call.query("issueKey") == nil, call.query("issueId") == nil {
                throw JiraFailure.bad(message: "The project or issueKey parameter is required.")
            }
            let text = (call.query("query") ?? call.query("username") ?? "").lowercased()
            let users = self.catalog.users.filter {
                text.isEmpty || $0.displayName.lowercased().contains(text) || $0.email.lowercased().hasPrefix(text) || $0.name.hasPrefix(text)
            }
            return .ok(.array(users.prefix(call.int("maxResults", 50)).map { r.user($0.accountID) }))
        default:
            throw JiraFailure(status: 501, messages: ["The simulator does not implement \(key) yet."])
        }
    }

    // MARK: - Reads

    func project(_ keyOrID: String) throws(JiraFailure) -> JiraCatalog.Project {
        guard let project = self.catalog.project(keyOrID) else { throw JiraFailure.notFound("No project could be found with key '\(keyOrID)'.") }
        return project
    }

    func issue(_ call: JiraCall) throws(JiraFailure) -> JiraIssue {
        guard let issue = self.state.withLock({ Self.find(call.parameter("issueIdOrKey"), in: $0) }) else { throw JiraFailure.issueNotFound }
        return issue
    }

    /// An issue the API user may change (403 in a read-only project).
    func writable(_ call: JiraCall) throws(JiraFailure) -> JiraIssue {
        let issue = try self.issue(call)
        if self.settings.readOnlyProjects.contains(issue.projectKey) {
            throw JiraFailure(status: 403, messages: ["You do not have permission to edit issues in this project."])
        }
        return issue
    }

    func page(_ items: [JSONValue], key: String, _ call: JiraCall) -> JSONValue {
        let startAt = max(call.int("startAt", 0), 0)
        let maxResults = min(max(call.int("maxResults", 50), 1), 200)
        let page = Array(items.dropFirst(startAt).prefix(maxResults))
        var body: [String: JSONValue] = [
            "maxResults": .number(Double(maxResults)), "startAt": .number(Double(startAt)), "total": .number(Double(items.count)), key: .array(page),
        ]
        if self.flavour == .dataCenter { body["isLast"] = .bool(startAt + page.count >= items.count) }
        return .object(body)
    }

    func myself(_ r: JiraRender) -> JSONValue {
        guard case .object(var body) = r.user(self.catalog.apiUser.accountID) else { return .null }
        body["locale"] = "en_US"
        body["expand"] = "groups,applicationRoles"
        return .object(body)
    }

    func serverInfo(_ r: JiraRender, now: Date) -> JSONValue {
        var body: [String: JSONValue] = ["baseUrl": .string(r.base), "serverTime": r.time(now), "serverTitle": "Jira"]
        if self.flavour == .cloud {
            body["version"] = "1001.0.0-SNAPSHOT"
            body["versionNumbers"] = [1001, 0, 0]
            body["deploymentType"] = "Cloud"
            body["buildNumber"] = 100_282
            body["buildDate"] = "2025-06-02T00:00:00.000-0700"
            body["scmInfo"] = "1a2b3c4d5e6f"
            body["displayUrl"] = .string(r.base)
            body["serverTimeZone"] = "Etc/UTC"
        } else {
            body["version"] = "10.3.6"
            body["versionNumbers"] = [10, 3, 6]
            body["deploymentType"] = "Server"
            body["buildNumber"] = 10_030_006
            body["buildDate"] = "2025-05-20T00:00:00.000+0000"
            body["scmInfo"] = "6a0bd1e1c2d3"
        }
        return .object(body)
    }

    func fieldBody(_ field: JiraCatalog.Field, _ r: JiraRender) -> JSONValue {
        var body: [String: JSONValue] = [
            "id": .string(field.id), "name": .string(field.name), "custom": .bool(field.custom), "orderable": .bool(field.editable),
            "navigable": true, "searchable": true, "schema": field.schema,
            "clauseNames": .array(
                (field.custom ? ["cf[\(field.id.dropFirst("customfield_".count))]", field.name] : [field.id]).map { JSONValue.string($0) }),
        ]
        if self.flavour == .cloud { body["key"] = .string(field.id) }
        return .object(body)
    }

    func priorityBody(_ id: String, _ r: JiraRender) -> JSONValue {
        guard case .object(var body) = r.priority(id), let priority = self.catalog.priorities.first(where: { $0.id == id }) else { return .null }
        body["statusColor"] = .string(priority.color)
        body["description"] = .string("\(priority.name) priority.")
        if self.flavour == .cloud { body["isDefault"] = .bool(id == "3") }
        return .object(body)
    }

    // MARK: - Writes

    func create(_ call: JiraCall) throws(JiraFailure) -> JiraReply {
        let body = call.body ?? [:]
        let fields = body["fields"] ?? [:]
        var errors: [String: String] = [:]
        let projectRef = fields["project"]
        let project = (projectRef?["key"]?.string ?? projectRef?["id"]?.string).flatMap { self.catalog.project($0) }
        if project == nil { errors["project"] = "Specify a valid project ID or key" }
        let typeRef = fields["issuetype"]
        let type = self.catalog.issueTypes.first { $0.id == typeRef?["id"]?.string || $0.name == typeRef?["name"]?.string }
        if type == nil { errors["issuetype"] = typeRef == nil ? "Specify an issue type" : "Specify a valid issue type" }
        guard errors.isEmpty, let project, let type else { throw JiraFailure.bad(errors) }
        if self.settings.readOnlyProjects.contains(project.key) {
            throw JiraFailure.bad(["project": "You do not have permission to create issues in this project."])
        }
        let (stored, _) = try self.readFields(body, existing: [:], creating: true)
        var properties: [String: JSONValue] = [:]
        for property in body["properties"]?.array ?? [] {
            guard let key = property["key"]?.string else { throw JiraFailure.bad(message: "Property key must be given.") }
            properties[key] = property["value"] ?? .null
        }
        let issue = self.state.withLock { state in
            let issue = self.newIssue(project: project, typeID: type.id, fields: stored, properties: properties, in: &state, now: call.now)
            Self.commit(issue, id: issue.id, operation: "create", title: issue.summary, in: &state, now: call.now)
            return issue
        }
        return .ok(
            ["id": .string(String(issue.id)), "key": .string(issue.key), "self": .string("\(call.render.rest)/issue/\(issue.id)")], status: 201)
    }

    func edit(_ call: JiraCall) throws(JiraFailure) -> JiraReply {
        var issue = try self.writable(call)
        let body = call.body ?? [:]
        let (stored, _) = try self.readFields(body, existing: issue.fields, creating: false)
        var properties = issue.properties
        for property in body["properties"]?.array ?? [] {
            if let key = property["key"]?.string { properties[key] = property["value"] ?? .null }
        }
        let changed = stored != issue.fields
        issue.fields = stored
        issue.properties = properties
        if changed { issue.updated = max(call.now, issue.updated) }
        self.state.withLock { Self.commit(issue, id: issue.id, operation: "update", title: issue.summary, in: &$0, now: call.now) }
        if call.bool("returnIssue"), self.flavour == .cloud {
            return .ok(call.render.issue(issue, fields: nil, properties: [], expand: []))
        }
        return .noContent
    }

    func comments(_ call: JiraCall) throws(JiraFailure) -> JiraReply {
        let issue = try self.issue(call)
        var comments = issue.comments
        if call.query("orderBy") == "-created" { comments.reverse() }
        let startAt = max(call.int("startAt", 0), 0)
        let maxResults = min(max(call.int("maxResults", self.flavour == .cloud ? 100 : 50), 0), self.flavour == .cloud ? 100 : 1000)
        let page = comments.dropFirst(startAt).prefix(maxResults)
        return .ok([
            "startAt": .number(Double(startAt)), "maxResults": .number(Double(maxResults)), "total": .number(Double(comments.count)),
            "comments": .array(page.map { call.render.comment(issue, $0) }),
        ])
    }

    func addComment(_ call: JiraCall) throws(JiraFailure) -> JiraReply {
        var issue = try self.writable(call)
        guard let body = call.body?["body"], body != .null else { throw JiraFailure.bad(["comment": "Comment body can not be empty!"]) }
        if self.flavour == .cloud {
            guard body["type"]?.string == "doc", body["version"]?.int == 1, let content = body["content"]?.array else {
                throw JiraFailure.bad(["comment": "Comment body is not valid!"])
            }
            if content.isEmpty { throw JiraFailure.bad(["comment": "Comment body can not be empty!"]) }
        } else {
            guard let text = body.string else {
                throw JiraFailure.bad(message: "Can not deserialize instance of java.lang.String out of START_OBJECT token")
            }
            if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw JiraFailure.bad(["comment": "Comment body can not be empty!"]) }
        }
        let comment = self.state.withLock { state in
            let comment = JiraIssue.Comment(
                id: state.nextCommentID, author: self.catalog.apiUser.accountID, body: body, created: call.now, updated: call.now)
            state.nextCommentID += 1
            issue.comments.append(comment)
            issue.updated = call.now
            Self.commit(issue, id: issue.id, operation: "comment", title: issue.summary, in: &state, now: call.now)
            return comment
        }
        return .ok(call.render.comment(issue, comment), status: 201)
    }

    func transition(_ call: JiraCall) throws(JiraFailure) -> JiraReply {
        var issue = try self.writable(call)
        let body = call.body ?? [:]
        guard let id = body["transition"]?["id"]?.string else {
            throw JiraFailure.bad(message: "Missing 'transition' identifier")
        }
        guard let transition = self.catalog.transitions.first(where: { $0.id == id && $0.from.contains(issue.statusID) }) else {
            throw JiraFailure.bad(message: "Transition id '\(id)' is not valid for this issue.")
        }
        let (stored, resolution) = try self.readFields(body, existing: issue.fields, creating: false, allowResolution: transition.requiresResolution)
        if transition.requiresResolution, resolution == nil {
            throw JiraFailure.bad(["resolution": "Resolution is required."])
        }
        issue.fields = stored
        issue.statusID = transition.to
        issue.resolutionID = resolution
        issue.resolutionDate = resolution == nil ? nil : call.now
        issue.updated = call.now
        self.state.withLock { Self.commit(issue, id: issue.id, operation: "transition", title: issue.summary, in: &$0, now: call.now) }
        return .noContent
    }

    func addRemoteLink(_ call: JiraCall) throws(JiraFailure) -> JiraReply {
        var issue = try self.writable(call)
        let body = call.body ?? [:]
        guard body["object"]?["url"]?.string != nil, body["object"]?["title"]?.string != nil else {
            throw JiraFailure.bad(["title": "'title' is required.", "url": "'url' is required."].filter { body["object"]?[$0.key]?.string == nil })
        }
        let globalID = body["globalId"]?.string
        let (link, created) = self.state.withLock { state in
            if let globalID, let index = issue.remoteLinks.firstIndex(where: { $0.globalID == globalID }) {
                issue.remoteLinks[index].request = body
                Self.commit(issue, id: issue.id, operation: "remotelink", title: issue.summary, in: &state, now: call.now)
                return (issue.remoteLinks[index], false)
            }
            let link = JiraIssue.RemoteLink(id: state.nextLinkID, globalID: globalID, request: body)
            state.nextLinkID += 1
            issue.remoteLinks.append(link)
            Self.commit(issue, id: issue.id, operation: "remotelink", title: issue.summary, in: &state, now: call.now)
            return (link, true)
        }
        return .ok(
            ["id": .number(Double(link.id)), "self": .string("\(call.render.rest)/issue/\(issue.key)/remotelink/\(link.id)")],
            status: created ? 201 : 200)
    }

    // MARK: - Attachments

    func attach(_ call: JiraCall) throws(JiraFailure) -> JiraReply {
        // QUIRK CLOUD-3 / DC-7: without this header Jira's XSRF filter refuses the upload.
        guard call.headers["x-atlassian-token"]?.lowercased() == "no-check" else {
            throw JiraFailure(status: 403, text: "XSRF check failed")
        }
        var issue = try self.writable(call)
        let contentType = call.headers["content-type"] ?? ""
        guard let boundary = Multipart.boundary(contentType) else {
            throw JiraFailure(status: 415, messages: ["The request is not multipart/form-data."])
        }
        let files = Multipart.parts(call.raw, boundary: boundary).filter { $0.name == "file" && $0.filename != nil }
        guard !files.isEmpty else { throw JiraFailure.bad(message: "No file was attached: send a multipart part named 'file'.") }
        let attachments = self.state.withLock { state in
            var added: [JiraIssue.Attachment] = []
            for file in files {
                let attachment = JiraIssue.Attachment(
                    id: state.nextAttachmentID, filename: file.filename ?? "file", mimeType: file.contentType ?? "application/octet-stream",
                    size: file.data.count, created: call.now, author: self.catalog.apiUser.accountID)
                state.nextAttachmentID += 1
                state.attachmentData[attachment.id] = file.data
                added.append(attachment)
            }
            issue.attachments += added
            issue.updated = call.now
            Self.commit(issue, id: issue.id, operation: "attachment", title: issue.summary, in: &state, now: call.now)
            return added
        }
        return .ok(.array(attachments.map { call.render.attachment($0) }))
    }

    func attachment(_ id: String) throws(JiraFailure) -> (JiraIssue, JiraIssue.Attachment) {
        let found = self.state.withLock { state -> (JiraIssue, JiraIssue.Attachment)? in
            for issue in state.issues.values {
                if let attachment = issue.attachments.first(where: { String($0.id) == id }) { return (issue, attachment) }
            }
            return nil
        }
        guard let found else { throw JiraFailure.notFound("The attachment with id '\(id)' does not exist") }
        return found
    }

    func attachmentContent(_ id: String) throws(JiraFailure) -> JiraReply {
        let (_, attachment) = try self.attachment(id)
        let data = self.state.withLock { $0.attachmentData[attachment.id] } ?? Data()
        return JiraReply(status: 200, bytes: data, contentType: attachment.mimeType)
    }

    /// Cloud's media host (where `/attachment/content/{id}` redirects): `/media/<id>/<filename>`.
    func media(_ rest: String, render: JiraRender) -> JiraReply {
        let id = rest.split(separator: "/").dropFirst().first.map(String.init) ?? ""
        do {
            return try self.attachmentContent(id)
        } catch {
            return JiraServer.reply(error)
        }
    }
}
