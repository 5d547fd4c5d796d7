/// A refused administrative change (users, tokens, configuration through the API): what is wrong and with which field.
/// The API turns `kind` into its status: 404, 409 or 422. Nothing is stored when one is thrown.
public struct AdminError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The named entity does not exist.
        case notFound = "not_found"
        /// The change conflicts with what is stored (a duplicate name, a reference to it, the last admin).
        case conflict
        /// A field's value is not acceptable.
        case invalid = "invalid_field"
        /// Something the server itself lacks (e.g. the master key).
        case unavailable
    }

    public var kind: Kind
    /// The offending field's path in the request (`roles[1]`, `integrations[0].name`), or nil.
    public var field: String?
    public var message: String

    public init(_ kind: Kind, field: String? = nil, _ message: String) {
        self.kind = kind
        self.field = field
        self.message = message
    }

    public var description: String { self.field.map { "\($0): \(self.message)" } ?? self.message }
}

extension MasterKey {
    /// A key that opens nothing: for readers that never decrypt (the API's reads when the server has no master key).
    public static let placeholder: MasterKey = {
        do { return try MasterKey(bytes: Array(repeating: 0, count: 32)) } catch { preconditionFailure("32 bytes always make a key") }
    }()
}
