import Foundation
public import TandemConfig

/// Where a repository's stored secrets go, and whether a change of the repository may keep them (DESIGN §6.9: a secret
/// is never sent to any host but the one it was entered for). The authentication secret goes to the origin of the URL
/// (scheme, host and port: the path does not choose the server, and the same server's other paths are its own), through
/// the proxy, in the form the authentication kind gives it, over TLS whose certificate is checked unless `allowInsecure`.
/// The proxy's password goes to the proxy's origin. A change of any of these — by whoever may edit the repository,
/// administrators included — drops the stored secret unless the same change gives it again.
public enum SecretDestination {
    /// Why the stored secret of `slot` ("auth" or "proxy") cannot be kept when `old` becomes `new`; nil when it can.
    public static func change(_ slot: String, from old: RepositoryConfig, to new: RepositoryConfig) -> String? {
        let oldProxy = old.proxy.map { Self.origin($0.url) }
        let newProxy = new.proxy.map { Self.origin($0.url) }
        if slot == "proxy" {
            guard let newProxy, let oldProxy else { return nil }
            return newProxy == oldProxy ? nil : "the proxy is now \(newProxy) (it was \(oldProxy))"
        }
        let (oldOrigin, newOrigin) = (Self.origin(old.url), Self.origin(new.url))
        if oldOrigin != newOrigin { return "the URL now points at \(newOrigin) (it pointed at \(oldOrigin))" }
        if let newProxy, newProxy != oldProxy {
            return oldProxy.map { "requests now go through the proxy \(newProxy) (they went through \($0))" }
                ?? "requests now go through the proxy \(newProxy)"
        }
        if old.auth.kind != new.auth.kind { return "the authentication kind is now \(new.auth.kind) (it was \(old.auth.kind))" }
        if new.allowInsecure, !old.allowInsecure { return "certificate checks are now off (allowInsecure)" }
        return nil
    }

    /// `scheme://host:port`, lower-cased, with the scheme's default port written out; the whole text, lower-cased, when
    /// it is no URL with a host (then any other text is another destination).
    public static func origin(_ url: String) -> String {
        guard let parts = URLComponents(string: url.trimmingCharacters(in: .whitespaces)), let scheme = parts.scheme?.lowercased(),
            let host = parts.host?.lowercased(), !host.isEmpty
        else { return url.lowercased() }
        let port = parts.port ?? ["http": 80, "https": 443][scheme]
        return "\(scheme)://\(host)" + (port.map { ":\($0)" } ?? "")
    }
}
