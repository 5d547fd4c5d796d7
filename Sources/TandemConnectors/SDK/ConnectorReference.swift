import Foundation

extension ConnectorRegistry {
    /// The documentation of every tool and its options, as `docs/configuration.md` shows it between its
    /// `<!-- tools:begin -->` and `<!-- tools:end -->` marks (`tandem connectors --markdown` prints it; a test keeps
    /// the two equal).
    public static func markdownReference() -> String {
        var out = "| `type` | tool | events/min by default | requests at once by default | connects to |\n|---|---|---|---|---|\n"
        for r in Self.all {
            let rate = r.defaultLimits.eventsPerMinute.map { "\($0) (or the global setting, if lower)" } ?? "the global setting"
            let concurrency = r.defaultLimits.concurrency.map(String.init) ?? "no limit"
            out += "| `\(r.kind.rawValue)` | \(r.displayName) | \(rate) | \(concurrency) | \(r.summary) |\n"
        }
        out += "\n`options` a repository may set, by `type` (values are strings in YAML; an unknown option is refused):\n\n"
        out += "| `type` | option | value | what it does | when absent |\n|---|---|---|---|---|\n"
        for r in Self.all {
            for option in r.options {
                out += "| `\(r.kind.rawValue)` | `\(option.name)` | \(option.type.summary) | \(option.summary) | \(option.absent) |\n"
            }
        }
        for option in ConnectorOption.common {
            out += "| every type | `\(option.name)` | \(option.type.summary) | \(option.summary) | \(option.absent) |\n"
        }
        out +=
            "| every type | `param.<name>` | text | Kept for others, never read by a connector: the v2 connections API keeps here the parameters its clients send that the tool has no option for, and returns them as they came. | none |\n"
        return out
    }
}
