// Benchmark (not a test): how validating a configuration grows with a select field's size. A model field with N
// values, a value map with N entries onto them, and a filter and a conditional route naming all N (issue 14 §3:
// 26 s at N = 30,000 when validation was quadratic). Run with Ops/bench/config.sh. At N = 60,000 the file has
// 480,000 nodes, within `YAMLLimits.standard`.
//
// Each figure is the median of several runs; the ratios compare each N with the smallest, measured in the same run:
// linear validation takes N/10,000 times as long, quadratic (N/10,000)² times.
import Foundation
import TandemConfig

/// The configuration file for `n`, as `tandem apply` would read it.
func yaml(_ n: Int) -> String {
    var text = """
        version: 1
        repositories:
          - {name: a, type: memory, url: "http://a.invalid"}
          - {name: b, type: memory, url: "http://b.invalid"}
        models:
          - name: M
            fields:
              - {name: title, type: string}
              - name: s
                type: single-select
                values:

        """
    for i in 0..<n { text += "          - v\(i)\n" }
    text += """
        collections:
          - name: bc
            repository: b
            artifactType: issue
            projects: [p, q]
            model: M
            fields:
              - {field: title, modelField: title}
              - {field: s, modelField: s}
          - name: ac
            repository: a
            artifactType: issue
            projects: [p, q]
            model: M
            fields:
              - {field: title, modelField: title}
              - field: s
                modelField: s
                valueMap:

        """
    for i in 0..<n { text += "          - {repository: r\(i), model: v\(i)}\n" }
    let values = (0..<n).map { "v\($0)" }.joined(separator: ", ")
    text += """
        integrations:
          - name: i
            left: ac
            right: bc
            filters:
              conditions:
                - {field: s, operator: in, values: [\(values)]}
            routes:
              - {from: left, sourceProjects: [p], field: s, targets: {q: [\(values)]}}

        """
    return text
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

let sizes =
    CommandLine.arguments.dropFirst().compactMap { Int($0) }.isEmpty
    ? [10_000, 30_000, 60_000] : CommandLine.arguments.dropFirst().compactMap { Int($0) }
let runs = Int(ProcessInfo.processInfo.environment["CONFIG_BENCH_RUNS"] ?? "") ?? 3

print("validation of a select field with N values and value maps of N entries; median of \(runs) runs")
func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
print(
    [pad("N", 8), pad("parse+check", 12), pad("validate", 12), pad("N ratio", 10), pad("time ratio", 10), pad("per value", 14)].joined(separator: " ")
)
var first: (n: Int, validate: Double)?
var lastRatio = 0.0
for n in sizes {
    let text = yaml(n)
    var parses: [Double] = []
    var validations: [Double] = []
    var configuration: TandemConfiguration?
    for _ in 0..<runs {
        parses.append(try seconds { configuration = try ConfigParser.parse(text, file: "bench.yaml") })
        guard let configuration else { fatalError("the benchmark's configuration did not parse") }
        validations.append(seconds { precondition(ConfigValidator.validate(configuration).isEmpty) })
    }
    let validate = median(validations)
    let base = first ?? (n, validate)
    first = base
    let nRatio = Double(n) / Double(base.n)
    lastRatio = validate / base.validate
    print(
        String(
            format: "%8d %11.3fs %11.3fs %9.1fx %9.1fx %11.2f µs", n, median(parses), validate, nRatio, lastRatio,
            validate / Double(n) * 1e6))
}
if let first, let last = sizes.last, last > first.n {
    let exponent = log(lastRatio) / log(Double(last) / Double(first.n))
    print(String(format: "growth: time ∝ N^%.2f (1 is linear, 2 quadratic)", exponent))
}
