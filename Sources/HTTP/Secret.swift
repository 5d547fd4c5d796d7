/// A secret string (password, token, API key). Its description never shows the value, so it can sit in
/// structs that are logged or interpolated into errors without leaking.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable, ExpressibleByStringLiteral
{
    /// The secret itself; read it only where it goes on the wire.
    public let revealed: String

    public init(_ value: String) { self.revealed = value }
    public init(stringLiteral value: String) { self.revealed = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "Secret(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}
