public import Foundation
import HTTP

/// The two Jira flavours the simulator serves.
public enum JiraFlavour: String, Sendable, Hashable, CaseIterable {
    /// Jira Cloud, REST v3 (ADF bodies, `accountId`s, `/search/jql`), under `/jira/<site>`.
    case cloud
    /// Jira Data Center 10.3, REST v2 (wiki markup, `name`/`key` users, `/search`), under `/jira-dc/<site>`.
    case dataCenter

    /// The fixture folder and the route prefix.
    var folder: String { self == .cloud ? "jira-cloud" : "jira-dc" }
    public var routePrefix: String { self == .cloud ? "jira" : "jira-dc" }
    /// The REST prefix the connector appends to the base URL.
    var restPrefix: String { self == .cloud ? "/rest/api/3" : "/rest/api/2" }
    /// What the spec's paths leave out (DC's server URL is `/rest`).
    var specPathPrefix: String { self == .cloud ? "" : "/rest" }
}

/// The vendor's API descriptions, loaded from `Tests/Fixtures/jira-{cloud,dc}/openapi-subset.json` at run time with
/// the quirks of `QUIRKS.md` applied, and compiled once.
public struct JiraSpecs: Sendable {
    public let cloud: OpenAPIDocument
    public let dataCenter: OpenAPIDocument

    /// Loads both specs from `directory` (the folder holding `jira-cloud/` and `jira-dc/`).
    public init(directory: URL) throws {
        self.cloud = try OpenAPIDocument(
            contentsOf: directory.appending(path: "jira-cloud/openapi-subset.json"), patches: JiraQuirks.patches(.cloud))
        self.dataCenter = try OpenAPIDocument(
            contentsOf: directory.appending(path: "jira-dc/openapi-subset.json"), patches: JiraQuirks.patches(.dataCenter))
    }

    func document(_ flavour: JiraFlavour) -> OpenAPIDocument { flavour == .cloud ? self.cloud : self.dataCenter }

    /// The specs' folder: `explicit` if given, else `$TANDEM_JIRA_SPECS`, else the first `Tests/Fixtures` holding
    /// `jira-cloud/openapi-subset.json` found walking up from the current directory, then from the executable's.
    public static func locate(explicit: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        SpecsLocator.locate(
            explicit: explicit, environmentVariable: "TANDEM_JIRA_SPECS", marker: "jira-cloud/openapi-subset.json", environment: environment)
    }
}

/// The written quirks lists (`Tests/Fixtures/jira-cloud/QUIRKS.md`, `Tests/Fixtures/jira-dc/QUIRKS.md`) as spec
/// patches: exactly these exceptions, each named as in its list. Quirks that are behaviour rather than schema (Jira's
/// time stamps for `date-time`, the multipart upload, the XSRF header) live where they act and carry the same names.
enum JiraQuirks {
    static func pointer(_ path: String, _ method: String, _ rest: String) -> String {
        "#/paths/\(path.replacingOccurrences(of: "/", with: "~1"))/\(method)/\(rest)"
    }

    static func arrayOf(_ schema: String) -> JSONValue { ["type": "array", "items": ["$ref": .string("#/components/schemas/\(schema)")]] }

    static func patches(_ flavour: JiraFlavour) -> [SpecPatch] {
        let ok = "responses/200/content/application~1json/schema"
        switch flavour {
        case .cloud:
            return [
                // CLOUD-1: GET remotelink answers every link of the issue, an array (the spec: one RemoteIssueLink).
                SpecPatch("CLOUD-1", Self.pointer("/rest/api/3/issue/{issueIdOrKey}/remotelink", "get", ok), Self.arrayOf("RemoteIssueLink"))
            ]
        case .dataCenter:
            var patches: [SpecPatch] = []
            // DC-1: list endpoints answer arrays; the spec references the item schema.
            for (path, item) in [
                ("/api/2/field", "FieldBean"), ("/api/2/priority", "PriorityJsonBean"), ("/api/2/issuetype", "IssueTypeJsonBean"),
                ("/api/2/project", "ProjectBean"), ("/api/2/status", "StatusJsonBean"),
                ("/api/2/project/{projectIdOrKey}/statuses", "IssueTypeWithStatusJsonBean"), ("/api/2/user/assignable/search", "UserBean"),
                ("/api/2/issue/{issueIdOrKey}/remotelink", "RemoteIssueLinkBean"),
            ] {
                patches.append(SpecPatch("DC-1", Self.pointer(path, "get", ok), Self.arrayOf(item)))
            }
            patches.append(SpecPatch("DC-1", Self.pointer("/api/2/issue/{issueIdOrKey}/attachments", "post", ok), Self.arrayOf("AttachmentJsonBean")))
            // DC-2: createmeta answers a page {startAt, maxResults, total, isLast, values}; the spec, one item.
            for (path, item) in [
                ("/api/2/issue/createmeta/{projectIdOrKey}/issuetypes", "CreateMetaIssueTypeBean"),
                ("/api/2/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}", "FieldMetaBean"),
            ] {
                patches.append(
                    SpecPatch(
                        "DC-2", Self.pointer(path, "get", ok),
                        [
                            "type": "object",
                            "properties": [
                                "startAt": ["type": "integer"], "maxResults": ["type": "integer"], "total": ["type": "integer"],
                                "isLast": ["type": "boolean"], "values": Self.arrayOf(item),
                            ],
                        ]))
            }
            // DC-3: field values are strings, numbers, arrays, objects or null; the spec types each as an object.
            for bean in ["IssueBean", "IssueUpdateBean"] {
                patches.append(SpecPatch("DC-3", "#/components/schemas/\(bean)/properties/fields", ["type": "object"]))
            }
            patches.append(SpecPatch("DC-3", "#/components/schemas/IssueBean/properties/renderedFields", ["type": "object"]))
            // DC-4: `update` operations are {"set"|"add"|"remove"|"edit": value}; the spec: {operation, value}.
            patches.append(
                SpecPatch(
                    "DC-4", "#/components/schemas/IssueUpdateBean/properties/update",
                    ["type": "object", "additionalProperties": ["type": "array", "items": ["type": "object"]]]))
            // DC-5: an entity property's value is any JSON; the spec: a string (and a string request body).
            patches.append(SpecPatch("DC-5", "#/components/schemas/EntityPropertyBean/properties/value", [:]))
            patches.append(SpecPatch("DC-5", "#/components/schemas/IssueBean/properties/properties", ["type": "object"]))
            patches.append(
                SpecPatch(
                    "DC-5",
                    Self.pointer("/api/2/issue/{issueIdOrKey}/properties/{propertyKey}", "put", "requestBody/content/application~1json/schema"),
                    [:]))
            // DC-6: creating a remote link answers 201 (updating one by globalId, 200); the spec declares 200 only.
            patches.append(
                SpecPatch(
                    "DC-6", Self.pointer("/api/2/issue/{issueIdOrKey}/remotelink", "post", "responses/201"),
                    ["content": ["application/json": ["schema": ["$ref": "#/components/schemas/RemoteIssueLinkBean"]]]]))
            return patches
        }
    }
}
