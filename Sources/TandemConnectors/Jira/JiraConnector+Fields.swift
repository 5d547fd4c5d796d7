public import Foundation
import HTTP
public import TandemCore

/// A field as `/field` describes it.
struct JiraField: Sendable, Hashable {
    var id: String
    var name: String
    var custom: Bool
    /// `schema.type`: string, number, date, datetime, array, option, user, priority, …
    var type: String
    /// `schema.items` of an array.
    var items: String?
    /// `schema.custom` (`…:textarea`, `…:select`) or `schema.system`.
    var kind: String?

    init(id: String, name: String, custom: Bool = false, type: String, items: String? = nil, kind: String? = nil) {
        self.id = id
        self.name = name
        self.custom = custom
        self.type = type
        self.items = items
        self.kind = kind
    }

    init?(_ json: JSONValue) {
        guard let id = json["id"]?.string, let name = json["name"]?.string else { return nil }
        let schema = json["schema"]
        self.init(
            id: id, name: name, custom: json["custom"]?.bool ?? false, type: schema?["type"]?.string ?? "any",
            items: schema?["items"]?.string, kind: schema?["custom"]?.string ?? schema?["system"]?.string)
    }

    var isRichText: Bool {
        ["description", "environment"].contains(self.id) || self.kind?.hasSuffix(":textarea") == true
    }

    /// The model's type for the field.
    var fieldType: FieldType {
        if self.isRichText { return .richText }
        if self.id == "parent" { return .relationship }  // `/field` lists it without a schema
        switch (self.type, self.items) {
        case ("string", _): return self.kind?.hasSuffix(":url") == true ? .location : .string
        case ("number", _): return .double
        case ("date", _): return .date
        case ("datetime", _): return .dateTime
        case ("user", _): return .person
        case ("array", "user"): return .persons
        case ("array", "string"), ("array", "option"), ("array", "component"), ("array", "version"): return .multiSelect
        case ("option", _), ("priority", _), ("status", _), ("issuetype", _), ("resolution", _), ("securitylevel", _): return .singleSelect
        case ("issuelink", _), ("parent", _): return .relationship
        case ("array", "issuelinks"): return .relationships
        default: return .string
        }
    }
}

extension JiraConnector {
    /// Every field (`/field`), read once per connector.
    func fieldList() async throws -> [JiraField] {
        if let fields = self.state.withLock({ $0.fields }) { return fields }
        let json = try await self.json(try await self.request(.get, "field"))
        guard let items = json.array else {
            throw ConnectorError(.invalidResponse, kind: .transient, message: "Jira /field answer is not a list of fields")
        }
        let fields = items.compactMap(JiraField.init)
        self.state.withLock { $0.fields = fields }
        return fields
    }

    /// A field given by id or by name (any case). Two fields of that name: an error naming both ids; none: an error
    /// naming the field.
    static func resolve(_ given: String, in fields: [JiraField]) throws(ConnectorError) -> JiraField {
        if let field = fields.first(where: { $0.id == given }) { return field }
        let named = fields.filter { $0.name.caseInsensitiveCompare(given) == .orderedSame }
        switch named.count {
        case 1: return named[0]
        case 0:
            throw ConnectorError(
                .misconfigured, kind: .needsAttention, message: "Jira has no field with id or name \"\(given)\"")
        default:
            throw ConnectorError(
                .misconfigured, kind: .needsAttention,
                message: "Jira field name \"\(given)\" matches several fields (\(named.map(\.id).joined(separator: ", "))): give the id")
        }
    }

    func field(_ given: String) async throws -> JiraField {
        var fields = try await self.fieldList()
        if fields.first(where: { $0.id == given || $0.name.caseInsensitiveCompare(given) == .orderedSame }) == nil {
            self.state.withLock { $0.fields = nil }  // a field added since: read again
            fields = try await self.fieldList()
        }
        return try Self.resolve(given, in: fields)
    }

    /// The fields of an issue type: `/field` for every field's type, the type's create screen for options and
    /// required flags (`createmeta/{project}/issuetypes/{id}`, where the site has it), the statuses of the project's
    /// workflow for this type.
    public func fields(project: String, artifactType: String) async throws -> [FieldDescriptor] {
        let typeID = try await self.artifactTypeID(artifactType)
        let all = try await self.fieldList()
        var screen: [String: JSONValue] = [:]
        do {
            var paginator = OffsetPaginator(pageSize: 50, offsetParameter: "startAt", limitParameter: "maxResults", totalMember: "total")
            let items: [JSONValue] = try await paginator.collect { mark in
                let path = "issue/createmeta/\(RESTSession.encode(project))/issuetypes/\(RESTSession.encode(typeID))"
                let json = try await self.json(try await self.request(.get, path, query: mark.queryPairs))
                let items = json["fields"]?.array ?? json["values"]?.array ?? []
                return (PageAnswer(response: HTTPResponse(status: 200), json: json, itemCount: items.count), items)
            }
            for item in items { if let id = item["fieldId"]?.string ?? item["key"]?.string { screen[id] = item } }
        } catch let error as ConnectorError where error.code == .notFound {
            screen = [:]
        }
        var descriptors: [FieldDescriptor] = []
        for field in all {
            let meta = screen[field.id]
            guard meta != nil || !field.custom || screen.isEmpty else { continue }
            let options = (meta?["allowedValues"]?.array ?? []).compactMap { v -> FieldOption? in
                guard let name = v["name"]?.string ?? v["value"]?.string else { return nil }
                return FieldOption(id: v["id"]?.idString ?? name, name: name)
            }
            let type = field.fieldType
            descriptors.append(
                FieldDescriptor(
                    id: field.id, name: field.name, type: type, options: options, required: meta?["required"]?.bool ?? (field.id == "summary"),
                    readOnly: ["created", "updated", "creator", "status", "resolutiondate", "lastViewed", "key"].contains(field.id),
                    multiple: [.multiSelect, .persons, .relationships].contains(type)))
        }
        let statuses = try await self.statuses(project: project, typeID: typeID)
        if let index = descriptors.firstIndex(where: { $0.id == "status" }) {
            descriptors[index].options = statuses
        } else {
            descriptors.append(FieldDescriptor(id: "status", name: "Status", type: .singleSelect, options: statuses, readOnly: true))
        }
        return descriptors
    }

    /// The statuses of a project's workflow for an issue type (`/project/{key}/statuses`); Done-category statuses close.
    func statuses(project: String, typeID: String) async throws -> [FieldOption] {
        let json: JSONValue
        do {
            json = try await self.json(try await self.request(.get, "project/\(RESTSession.encode(project))/statuses"))
        } catch let error as ConnectorError where error.code == .notFound {
            throw Self.projectNotFound(project, error)
        }
        var options: [FieldOption] = []
        for type in json.array ?? [] where type["id"]?.idString == typeID {
            for status in type["statuses"]?.array ?? [] {
                guard let name = status["name"]?.string else { continue }
                options.append(
                    FieldOption(id: status["id"]?.idString ?? name, name: name, isClosed: status["statusCategory"]?["key"]?.string == "done"))
            }
        }
        return options
    }

    // MARK: - Values

    /// A field's JSON value as the model's.
    static func value(_ json: JSONValue?, field: JiraField, cloud: Bool) -> FieldValue {
        guard let json, !json.isNull else { return .null }
        if field.isRichText {
            if let text = json.string { return .richText(text, markup: cloud ? .plain : .jiraWiki) }
            return .richText(String(decoding: json.serialized(), as: UTF8.self), markup: .adf)
        }
        func name(_ v: JSONValue) -> String? { v["name"]?.string ?? v["value"]?.string ?? v.string }
        switch field.fieldType {
        case .string, .location: return json.string.map { .string($0) } ?? .string(String(decoding: json.serialized(), as: UTF8.self))
        case .double: return json.double.map { .double($0) } ?? .null
        case .date: return json.string.flatMap(Self.parseDate).map { .date($0) } ?? .null
        case .dateTime: return json.string.flatMap(JiraTime.parse).map { .dateTime($0) } ?? .null
        case .person: return Self.person(json).map { .person($0) } ?? .null
        case .persons: return .persons((json.array ?? []).compactMap(Self.person))
        case .singleSelect: return name(json).map { .select($0) } ?? .null
        case .multiSelect: return .multiSelect((json.array ?? []).compactMap(name))
        case .relationship: return json["id"]?.idString.map { .relationship(ArtifactReference(id: $0)) } ?? .null
        default: return .string(String(decoding: json.serialized(), as: UTF8.self))
        }
    }

    /// A model value as the JSON Jira takes for the field. Rich text is converted into the flavour's markup (never HTML
    /// sent raw); an ADF value must be an ADF document.
    static func payload(_ value: FieldValue, field: JiraField, cloud: Bool) throws(ConnectorError) -> JSONValue {
        if case .null = value { return field.fieldType == .multiSelect || field.fieldType == .persons ? [] : .null }
        if field.isRichText {
            let (text, markup): (String, TextMarkup) =
                switch value {
                case .richText(let text, let markup): (text, markup)
                case .string(let text): (text, .plain)
                default: throw Self.cannotWrite(value, field)
                }
            guard cloud else { return .string(Markup.convert(text, from: markup, to: .jiraWiki)) }
            let adf = Markup.convert(text, from: markup, to: .adf)
            guard let document = try? JSONValue.parse(Data(adf.utf8), context: "ADF"), document["type"]?.string == "doc",
                document["content"]?.array != nil
            else {
                throw ConnectorError(
                    .validation, kind: .permanent,
                    message: "Jira field \(field.name) (\(field.id)): the value is not an ADF document: \(adf.prefix(80))")
            }
            if let unknown = Self.unknownADFNode(in: document) {
                throw ConnectorError(
                    .validation, kind: .permanent,
                    message: "Jira field \(field.name) (\(field.id)): the ADF document holds a node the converter does not know: \(unknown)")
            }
            return document
        }
        func named(_ name: String) -> JSONValue {
            switch field.type == "array" ? field.items ?? "" : field.type {
            case "option": ["value": .string(name)]
            case "string": .string(name)
            default: ["name": .string(name)]
            }
        }
        switch (value, field.fieldType) {
        case (.string(let text), .string), (.string(let text), .location), (.location(let text), _): return .string(text)
        case (.richText(let text, _), .string): return .string(text)
        case (.select(let name), .singleSelect), (.string(let name), .singleSelect): return named(name)
        case (.multiSelect(let names), .multiSelect): return .array(names.map(named))
        case (.select(let name), .multiSelect): return .array([named(name)])
        case (.double(let number), .double): return .number(number)
        case (.long(let number), .double): return .number(Double(number))
        case (.date(let date), .date): return .string(date.description)
        case (.dateTime(let date), .dateTime): return .string(JiraTime.format(date))
        case (.person(let person), .person): return try Self.user(person, field: field, cloud: cloud)
        case (.persons(let people), .persons):
            return .array(try people.map { p throws(ConnectorError) in try Self.user(p, field: field, cloud: cloud) })
        case (.relationship(let reference), .relationship):
            return Int(reference.id) != nil ? ["id": .string(reference.id)] : ["key": .string(reference.id)]
        default: throw Self.cannotWrite(value, field)
        }
    }

    /// The ADF nodes the core's converter reads (`TandemCore/Transform/ADF.swift`).
    static let knownADFNodes: Set<String> = [
        "doc", "paragraph", "text", "hardBreak", "heading", "bulletList", "orderedList", "listItem", "codeBlock", "blockquote", "rule",
        "mention", "emoji", "inlineCard", "status", "date", "table", "tableRow", "tableHeader", "tableCell", "taskList", "taskItem",
        "decisionList", "decisionItem", "panel", "expand", "nestedExpand", "blockCard", "embedCard", "media", "mediaSingle",
        "mediaGroup", "mediaInline", "layoutSection", "layoutColumn", "placeholder",
    ]

    /// The first node type of an ADF document that the converter does not know (breadth first), or nil.
    static func unknownADFNode(in document: JSONValue) -> String? {
        var queue = [document]
        var index = 0
        while index < queue.count {
            let node = queue[index]
            index += 1
            if let type = node["type"]?.string, !Self.knownADFNodes.contains(type) { return type }
            queue += node["content"]?.array ?? []
        }
        return nil
    }

    static func user(_ person: Person, field: JiraField, cloud: Bool) throws(ConnectorError) -> JSONValue {
        if cloud {
            guard let id = person.id else {
                throw ConnectorError(.validation, kind: .permanent, message: "Jira field \(field.name) (\(field.id)) needs the person's accountId")
            }
            return ["accountId": .string(id)]
        }
        guard let name = person.username ?? person.id else {
            throw ConnectorError(.validation, kind: .permanent, message: "Jira field \(field.name) (\(field.id)) needs the person's user name")
        }
        return ["name": .string(name)]
    }

    static func cannotWrite(_ value: FieldValue, _ field: JiraField) -> ConnectorError {
        ConnectorError(
            .validation, kind: .permanent,
            message: "Jira field \(field.name) (\(field.id), \(field.type)\(field.items.map { " of \($0)" } ?? "")) cannot take \(value)")
    }

    static func parseDate(_ text: String) -> LocalDate? {
        let parts = text.prefix(10).split(separator: "-").compactMap { Int($0) }
        return parts.count == 3 ? LocalDate(year: parts[0], month: parts[1], day: parts[2]) : nil
    }
}
