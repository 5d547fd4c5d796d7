import TandemConfig
import TandemConnectors
import TandemCore
import Testing

/// A configuration whose size grows with `n`: a select field with `n` values, and on each of two collections a value
/// map with `n` entries onto them, a filter and a conditional route naming them (the shape that took 26 s at 30,000).
func selectHeavyConfiguration(_ n: Int) -> TandemConfiguration {
    var c = TandemConfiguration()
    c.repositories = [
        RepositoryConfig(name: "a", kind: .memory, url: "http://a.invalid"), RepositoryConfig(name: "b", kind: .memory, url: "http://b.invalid"),
    ]
    var model = ModelConfig(name: "M")
    model.fields.append(ModelFieldConfig(name: "title", type: .string))
    var select = ModelFieldConfig(name: "s", type: .singleSelect)
    select.values = (0..<n).map { "v\($0)" }
    model.fields.append(select)
    c.models = [model]
    for repository in ["a", "b"] {
        var collection = CollectionConfig(name: "\(repository)c", repository: repository, artifactType: "issue", projects: ["p", "q"], model: "M")
        collection.fields.append(FieldMappingConfig(field: "title", modelField: "title"))
        var mapping = FieldMappingConfig(field: "s", modelField: "s")
        mapping.valueMap = (0..<n).map { ValueMapEntry(repository: ["r\($0)"], model: "v\($0)") }
        collection.fields.append(mapping)
        c.collections.append(collection)
    }
    var integration = IntegrationConfig(name: "i", left: "ac", right: "bc")
    integration.filters = [ConditionConfig(side: nil, field: "s", op: .in, values: (0..<n).map { "v\($0)" })]
    var route = RouteConfig(from: .left, sourceProjects: ["p"], targetProject: nil)
    route.field = "s"
    route.targets = ["q": (0..<n).map { "v\($0)" }]
    integration.routes = [route]
    c.integrations = [integration]
    return c
}

@Suite struct ValidationGrowthTests {
    /// The elements validation examines, counted (not timed): linear growth means four times the work for four times
    /// the values; the quadratic validation did sixteen times.
    @Test func validationExaminesElementsInLinearProportion() throws {
        func work(_ n: Int) -> Int {
            let counter = WorkCounter()
            let issues = WorkCounter.$current.withValue(counter) { ConfigValidator.validate(selectHeavyConfiguration(n)) }
            #expect(issues.isEmpty, "\(issues)")
            return counter.count
        }
        let small = work(1000)
        let large = work(4000)
        #expect(small > 0, "nothing was counted")
        let ratio = Double(large) / Double(small)
        #expect(ratio < 6, "4x the values cost \(ratio)x the work (\(small) then \(large) elements examined)")
    }
}
