public import Foundation

/// A unit for durations held as numbers in a repository (a Redmine "hours" double, a "minutes" long).
public enum DurationUnit: String, Sendable, Hashable, Codable, CaseIterable {
    case seconds, minutes, hours, days
    /// Eight-hour working days.
    case workdays

    public var seconds: Int64 {
        switch self {
        case .seconds: 1
        case .minutes: 60
        case .hours: 3_600
        case .days: 86_400
        case .workdays: 28_800
        }
    }
}

/// A type conversion between a repository field and a model field (guide L5711–5745), named the guide's way.
public enum Conversion: Sendable, Hashable {
    /// Rich Text to Formatted String: markup stripped to readable text.
    case richTextToFormattedString
    /// Rich Text to Literal String: the raw markup kept as text.
    case richTextToLiteralString
    /// Literal String to Rich Text: the text taken as markup of this language.
    case literalStringToRichText(TextMarkup)
    /// Formatted String to Rich Text: plain text written as markup of this language.
    case formattedStringToRichText(TextMarkup)
    /// Rich text in another markup language.
    case richTextMarkup(TextMarkup)
    case singleSelectToString
    case stringToSingleSelect
    /// Multi-valued to string: values joined (guide L5728–5731, comma by default).
    case multiSelectToString(separator: String)
    case stringToMultiSelect(separator: String)
    /// String to Relationships (by ID): IDs separated by commas or white space.
    case stringToRelationships(repository: String?)
    /// Relationships to string ("Containers to ID"): IDs joined.
    case relationshipsToString(separator: String)
    /// Location to Web Link (Summary as Label): the label comes from the summary passed in the context.
    case locationToWebLink
    case dateToDateTime(TimeZone)
    case dateTimeToDate(TimeZone)
    /// A duration written as a long number of units.
    case durationToLong(DurationUnit)
    case longToDuration(DurationUnit)
    case durationToDouble(DurationUnit)
    case doubleToDuration(DurationUnit)
    case longToDouble
    case doubleToLong
    case personToPersons
    case personsToPerson
    case relationshipToRelationships
    case booleanToString
    case stringToBoolean

    /// The field types the conversion reads and writes.
    public var signature: (input: Set<FieldType>, output: FieldType) {
        let strings: Set<FieldType> = [.string, .formattedString, .literalString]
        switch self {
        case .richTextToFormattedString: return ([.richText], .formattedString)
        case .richTextToLiteralString: return ([.richText], .literalString)
        case .literalStringToRichText, .formattedStringToRichText: return (strings, .richText)
        case .richTextMarkup: return ([.richText], .richText)
        case .singleSelectToString: return ([.singleSelect], .string)
        case .stringToSingleSelect: return (strings, .singleSelect)
        case .multiSelectToString: return ([.multiSelect], .string)
        case .stringToMultiSelect: return (strings, .multiSelect)
        case .stringToRelationships: return (strings, .relationships)
        case .relationshipsToString: return ([.relationships, .relationship], .string)
        case .locationToWebLink: return ([.location], .webLinks)
        case .dateToDateTime: return ([.date], .dateTime)
        case .dateTimeToDate: return ([.dateTime], .date)
        case .durationToLong: return ([.duration], .long)
        case .longToDuration: return ([.long], .duration)
        case .durationToDouble: return ([.duration], .double)
        case .doubleToDuration: return ([.double], .duration)
        case .longToDouble: return ([.long], .double)
        case .doubleToLong: return ([.double], .long)
        case .personToPersons: return ([.person], .persons)
        case .personsToPerson: return ([.persons], .person)
        case .relationshipToRelationships: return ([.relationship], .relationships)
        case .booleanToString: return ([.boolean], .string)
        case .stringToBoolean: return (strings, .boolean)
        }
    }
}

extension Conversion: CustomStringConvertible {
    /// The guide's name for the conversion.
    public var description: String {
        switch self {
        case .richTextToFormattedString: "Rich Text to Formatted String"
        case .richTextToLiteralString: "Rich Text to Literal String"
        case .literalStringToRichText(let m): "Literal String to Rich Text (\(m.rawValue))"
        case .formattedStringToRichText(let m): "Formatted String to Rich Text (\(m.rawValue))"
        case .richTextMarkup(let m): "Rich Text to Rich Text (\(m.rawValue))"
        case .singleSelectToString: "Single Select to String"
        case .stringToSingleSelect: "String to Single Select"
        case .multiSelectToString: "Multi Select to String"
        case .stringToMultiSelect: "String to Multi Select"
        case .stringToRelationships: "String to Relationships (by ID)"
        case .relationshipsToString: "Relationships to String"
        case .locationToWebLink: "Location to Web Link (Summary as Label)"
        case .dateToDateTime(let zone): "Date to Date Time (\(zone.identifier))"
        case .dateTimeToDate(let zone): "Date Time to Date (\(zone.identifier))"
        case .durationToLong(let u): "Duration to Long (\(u.rawValue))"
        case .longToDuration(let u): "Long to Duration (\(u.rawValue))"
        case .durationToDouble(let u): "Duration to Double (\(u.rawValue))"
        case .doubleToDuration(let u): "Double to Duration (\(u.rawValue))"
        case .longToDouble: "Long to Double"
        case .doubleToLong: "Double to Long"
        case .personToPersons: "Person to Persons"
        case .personsToPerson: "Persons to Person"
        case .relationshipToRelationships: "Relationship to Relationships"
        case .booleanToString: "Boolean to String"
        case .stringToBoolean: "String to Boolean"
        }
    }
}

/// How values flow through one side of a field mapping (guide L5708–5745): the left transform writes into the
/// repository, the right one into the model.
public enum Transform: Sendable, Hashable {
    /// No flow.
    case none
    /// Overwrite the target with the value (types must agree, string variants aside).
    case copy
    /// Keep the target's values and append the new ones (text, lists).
    case append
    /// Always this value; nothing flows into it (a "dead end", L5613–5615).
    case constant(FieldValue)
    /// A constant per project (Constant Value Based on Projects, L5620–5645); `fallback` for other projects.
    case constantPerProject([String: FieldValue], fallback: FieldValue)
    /// A type conversion, which overwrites like copy.
    case convert(Conversion)
}

/// What a transform sees besides the value.
public struct TransformContext: Sendable, Hashable {
    /// The target's current value (for append).
    public var existing: FieldValue
    /// The project of the artifact being written (for per-project constants).
    public var project: String?
    /// The artifact's summary (for Location to Web Link).
    public var summary: String?

    public init(existing: FieldValue = .null, project: String? = nil, summary: String? = nil) {
        self.existing = existing
        self.project = project
        self.summary = summary
    }
}

/// Select values between repository and model (guide L5764–5815): many repository values may map to one model value;
/// the value written back is the one named in `toRepository` (the one "in brackets").
public struct ValueMap: Sendable, Hashable, Codable {
    /// Repository value → model value.
    public var toModel: [String: String]
    /// Model value → repository value written back. Missing entries fall back to the first repository value mapped.
    public var toRepository: [String: String]
    /// The model value for repository values not mapped (Select Default Value).
    public var defaultModelValue: String?
    /// The repository value for model values not mapped.
    public var defaultRepositoryValue: String?

    public init(
        toModel: [String: String], toRepository: [String: String] = [:], defaultModelValue: String? = nil,
        defaultRepositoryValue: String? = nil
    ) {
        self.toModel = toModel
        var back = toRepository
        for (repository, model) in toModel.sorted(by: { $0.key < $1.key }) where back[model] == nil { back[model] = repository }
        self.toRepository = back
        self.defaultModelValue = defaultModelValue
        self.defaultRepositoryValue = defaultRepositoryValue
    }

    /// A one-to-one map from pairs of (repository value, model value).
    public init(_ pairs: [(String, String)], defaultModelValue: String? = nil, defaultRepositoryValue: String? = nil) {
        var toModel: [String: String] = [:]
        var toRepository: [String: String] = [:]
        for (repository, model) in pairs {
            toModel[repository] = model
            if toRepository[model] == nil { toRepository[model] = repository }
        }
        self.init(
            toModel: toModel, toRepository: toRepository, defaultModelValue: defaultModelValue,
            defaultRepositoryValue: defaultRepositoryValue
        )
    }
}

extension Transform {
    /// Applies the transform to `value`; nil means "nothing flows" (`none`).
    public func apply(_ value: FieldValue, context: TransformContext = TransformContext()) -> FieldValue? {
        switch self {
        case .none: return nil
        case .copy: return value
        case .constant(let constant): return constant
        case .constantPerProject(let values, let fallback): return context.project.flatMap { values[$0] } ?? fallback
        case .append: return Self.append(value, to: context.existing)
        case .convert(let conversion): return conversion.apply(value, context: context)
        }
    }

    /// Appends `value` to `existing`: text on a new line, list items not already present.
    static func append(_ value: FieldValue, to existing: FieldValue) -> FieldValue {
        switch (existing, value) {
        case (.null, _): return value
        case (_, .null): return existing
        case (.string(let a), .string(let b)): return a.contains(b) ? existing : .string(a.isEmpty ? b : a + "\n" + b)
        case (.richText(let a, let markup), .richText(let b, let other)):
            let addition = Markup.convert(b, from: other, to: markup)
            if a.contains(addition) { return existing }
            return .richText(a.isEmpty ? addition : a + (markup == .html ? "<br>" : "\n") + addition, markup: markup)
        case (.richText(let a, let markup), .string(let b)):
            return Self.append(.richText(b, markup: .plain), to: .richText(a, markup: markup))
        case (.multiSelect(let a), .multiSelect(let b)): return .multiSelect(a + b.filter { !a.contains($0) })
        case (.multiSelect(let a), .select(let b)): return .multiSelect(a.contains(b) ? a : a + [b])
        case (.webLinks(let a), .webLinks(let b)): return .webLinks(a + b.filter { !a.contains($0) })
        case (.webLinks(let a), .location(let url)): return .webLinks(a.contains { $0.url == url } ? a : a + [WebLink(url: url)])
        case (.persons(let a), .persons(let b)): return .persons(a + b.filter { !a.contains($0) })
        case (.persons(let a), .person(let b)): return .persons(a.contains(b) ? a : a + [b])
        case (.relationships(let a), .relationships(let b)): return .relationships(a + b.filter { !a.contains($0) })
        case (.relationships(let a), .relationship(let b)): return .relationships(a.contains(b) ? a : a + [b])
        default: return value
        }
    }
}

extension Conversion {
    /// Converts one value; values of an unexpected type pass through unchanged (validation rules those out), and
    /// `null` stays `null`.
    public func apply(_ value: FieldValue, context: TransformContext = TransformContext()) -> FieldValue {
        if case .null = value { return .null }
        switch (self, value) {
        case (.richTextToFormattedString, .richText(let text, let markup)): return .string(Markup.convert(text, from: markup, to: .plain))
        case (.richTextToLiteralString, .richText(let text, _)): return .string(text)
        case (.literalStringToRichText(let markup), .string(let text)): return .richText(text, markup: markup)
        case (.formattedStringToRichText(let markup), .string(let text)):
            return .richText(Markup.convert(text, from: .plain, to: markup), markup: markup)
        case (.richTextMarkup(let target), .richText(let text, let markup)):
            return .richText(Markup.convert(text, from: markup, to: target), markup: target)
        case (.singleSelectToString, .select(let s)): return .string(s)
        case (.stringToSingleSelect, .string(let s)): return s.isEmpty ? .null : .select(s)
        case (.multiSelectToString(let separator), .multiSelect(let values)): return .string(values.joined(separator: separator))
        case (.stringToMultiSelect(let separator), .string(let s)):
            return .multiSelect(Self.split(s, by: separator))
        case (.stringToRelationships(let repository), .string(let s)):
            return .relationships(
                Self.split(s, by: ",").flatMap { $0.split(whereSeparator: \.isWhitespace) }.map {
                    ArtifactReference(repository: repository, id: String($0))
                })
        case (.relationshipsToString(let separator), .relationships(let references)):
            return .string(references.map(\.id).joined(separator: separator))
        case (.relationshipsToString, .relationship(let reference)): return .string(reference.id)
        case (.locationToWebLink, .location(let url)): return .webLinks([WebLink(url: url, label: context.summary)])
        case (.dateToDateTime(let zone), .date(let date)):
            guard CivilTime.isReasonable(date) else { return .null }
            let wall = Int64(CivilTime.days(year: date.year, month: date.month, day: date.day)) * 86_400
            return .dateTime(Date(timeIntervalSince1970: Double(WallClock.instant(forWall: wall, in: zone))))
        case (.dateTimeToDate(let zone), .dateTime(let date)):
            guard let instant = CivilTime.seconds(date) else { return .null }
            let local = CivilTime(wall: instant + WallClock.offset(instant, zone))
            return .date(LocalDate(year: local.year, month: local.month, day: local.day))
        case (.durationToLong(let unit), .duration(let seconds)): return .long(Self.divide(seconds, by: unit.seconds))
        case (.longToDuration(let unit), .long(let n)): return .duration(n.multipliedReportingOverflow(by: unit.seconds).partialValue)
        case (.durationToDouble(let unit), .duration(let seconds)): return .double(Double(seconds) / Double(unit.seconds))
        case (.doubleToDuration(let unit), .double(let x)): return .duration(Self.int64((x * Double(unit.seconds)).rounded()))
        case (.longToDouble, .long(let n)): return .double(Double(n))
        case (.doubleToLong, .double(let x)): return .long(Self.int64(x.rounded()))
        case (.personToPersons, .person(let p)): return .persons([p])
        case (.personsToPerson, .persons(let people)): return people.first.map(FieldValue.person) ?? .null
        case (.relationshipToRelationships, .relationship(let r)): return .relationships([r])
        case (.booleanToString, .boolean(let b)): return .string(b ? "true" : "false")
        case (.stringToBoolean, .string(let s)):
            switch s.lowercased() {
            case "true", "yes", "1", "on": return .boolean(true)
            case "", "false", "no", "0", "off": return .boolean(false)
            default: return .null
            }
        default: return value
        }
    }

    static func split(_ s: String, by separator: String) -> [String] {
        let parts = separator.isEmpty ? [s[...]] : s.split(separator: separator)
        return parts.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Rounds to the nearest whole unit.
    static func divide(_ seconds: Int64, by unit: Int64) -> Int64 {
        let (q, r) = seconds.quotientAndRemainder(dividingBy: unit)
        return 2 * abs(r) >= unit ? q + (seconds < 0 ? -1 : 1) : q
    }

    static func int64(_ x: Double) -> Int64 {
        guard x.isFinite else { return 0 }
        if x >= 9.2e18 { return .max }
        if x <= -9.2e18 { return .min }
        return Int64(x)
    }
}

/// The mapping of one repository field to one model field in a collection, with a transform for each direction.
public struct FieldMapping: Sendable, Hashable {
    public var repositoryField: String
    public var repositoryType: FieldType
    public var modelField: String
    /// The right transform: repository → model.
    public var toModel: Transform
    /// The left transform: model → repository.
    public var toRepository: Transform
    /// Select value mapping.
    public var valueMap: ValueMap?
    /// The repository field's markup, for rich text (guide L5747–5761); nil: the markup the repository declares
    /// (`TextMarkups`), or, when it declares none, the value's own (no conversion).
    public var markup: TextMarkup?

    public init(
        _ repositoryField: String, _ repositoryType: FieldType, to modelField: String, toModel: Transform = .copy,
        toRepository: Transform = .copy, valueMap: ValueMap? = nil, markup: TextMarkup? = nil
    ) {
        self.repositoryField = repositoryField
        self.repositoryType = repositoryType
        self.modelField = modelField
        self.toModel = toModel
        self.toRepository = toRepository
        self.valueMap = valueMap
        self.markup = markup
    }

    /// Checks the mapping against the model field: each transform must read and write the types at hand, and value
    /// maps belong to select fields (guide L5541–5543: an invalid mapping is not saved).
    public func validate(against model: ModelField) throws(SyncError) {
        func fail(_ reason: String) -> SyncError {
            SyncError(.invalidMapping, subject: "mapping '\(self.repositoryField)' ↔ '\(model.name)'", reason: reason)
        }
        if self.valueMap != nil, !(self.repositoryType.isSelect && model.type.isSelect) {
            throw fail("a value map needs select fields on both sides, not \(self.repositoryType.rawValue) → \(model.type.rawValue)")
        }
        if let valueMap, !model.allowUnmapped, valueMap.defaultModelValue == nil, !model.values.isEmpty {
            let allowed = Set(model.values)
            WorkCounter.record(model.values.count + valueMap.toModel.count)
            for value in valueMap.toModel.values.sorted() where !allowed.contains(value) {
                throw fail("value '\(value)' is not a value of model field '\(model.name)'")
            }
        }
        try Self.check(self.toModel, from: self.repositoryType, to: model.type, fail)
        try Self.check(self.toRepository, from: model.type, to: self.repositoryType, fail)
    }

    static func check(
        _ transform: Transform, from source: FieldType, to target: FieldType, _ fail: (String) -> SyncError
    ) throws(SyncError) {
        switch transform {
        case .none: return
        case .copy:
            guard Self.copyCompatible(source, target) else {
                throw fail("cannot copy \(source.rawValue) into \(target.rawValue); use a conversion")
            }
        case .append:
            let appendable: Set<FieldType> = [
                .string, .formattedString, .literalString, .richText, .multiSelect, .webLinks, .persons, .relationships,
            ]
            guard appendable.contains(target) else { throw fail("cannot append into \(target.rawValue)") }
            guard Self.copyCompatible(source, target) || Self.appendCompatible(source, target) else {
                throw fail("cannot append \(source.rawValue) to \(target.rawValue)")
            }
        case .constant(let value):
            guard value.fits(target) else { throw fail("constant \(value.text.debugDescription) is not a \(target.rawValue) value") }
        case .constantPerProject(let values, let fallback):
            for (project, value) in values.sorted(by: { $0.key < $1.key }) where !value.fits(target) {
                throw fail("constant for project '\(project)' is not a \(target.rawValue) value")
            }
            guard fallback.fits(target) else { throw fail("default constant is not a \(target.rawValue) value") }
        case .convert(let conversion):
            let (input, output) = conversion.signature
            guard input.contains(source) else {
                throw fail("\(conversion) reads \(input.map(\.rawValue).sorted().joined(separator: "/")), not \(source.rawValue)")
            }
            guard Self.copyCompatible(output, target) else { throw fail("\(conversion) writes \(output.rawValue), not \(target.rawValue)") }
        }
    }

    static func copyCompatible(_ a: FieldType, _ b: FieldType) -> Bool {
        let strings: Set<FieldType> = [.string, .formattedString, .literalString]
        return a == b || (strings.contains(a) && strings.contains(b))
    }

    static func appendCompatible(_ source: FieldType, _ target: FieldType) -> Bool {
        switch (source, target) {
        case (.singleSelect, .multiSelect), (.location, .webLinks), (.person, .persons), (.relationship, .relationships): true
        case (.string, .richText), (.formattedString, .richText): true
        default: false
        }
    }
}
