// Yams's own libyaml, the parser that `Yams.compose` runs: read here as a stream of events, before anything is built.
import CYaml

/// The bounds a configuration document must keep, checked before any YAML tree is built: a hostile file (an alias
/// bomb, deep nesting, a huge scalar) is refused in time and memory proportional to the bytes read, never to what the
/// aliases would expand to.
public struct YAMLLimits: Sendable, Hashable {
    /// The file's size (a configuration with a select field of 60,000 values and a value map onto them is 2 MB).
    public var maximumBytes = 8 << 20
    /// Nesting of mappings and lists (the schema's deepest path is nine).
    public var maximumDepth = 64
    /// Nodes (scalars, lists, mappings), counting each alias as the nodes it stands for. A select field of 60,000
    /// values with a value map onto them is 370,000.
    public var maximumNodes = 500_000
    /// Uses of aliases (`*name`), whatever they stand for.
    public var maximumAliases = 100
    /// One scalar's size: names are far shorter (see `ConfigLimits`), longer text has no place in a configuration.
    public var maximumScalarBytes = 64 << 10

    public init() {}

    public static let standard = YAMLLimits()
}

/// Reads a configuration file's bytes as libyaml's events and refuses, with file, line, column and reason, anything a
/// configuration has no use for and an attacker does: invalid UTF-8, control and bidirectional-override characters,
/// more than one document, tags, merge keys, keys that are not scalars, duplicate keys, recursive or undefined
/// aliases, and anything beyond `YAMLLimits`. Memory stays proportional to the input: events are released as they
/// are read, and an alias costs a counter update, however much it stands for.
public enum YAMLGuard {
    /// What one check found: the first problem (nil when the document may be composed) and how far it read.
    public struct Outcome: Sendable {
        public var issue: ConfigIssue?
        /// libyaml events read: the work done, bounded by the file's size and stopped at the first problem.
        public var events = 0
        /// Nodes counted with aliases expanded (what composing and walking the document will visit at most).
        public var expandedNodes = 0
        /// Alias uses.
        public var aliases = 0
    }

    public static func check(_ bytes: [UInt8], file: String?, limits: YAMLLimits = .standard) -> Outcome {
        if let issue = Self.checkText(bytes, file: file, limits: limits) { return Outcome(issue: issue) }
        return bytes.withUnsafeBufferPointer { buffer in
            var scanner = EventScanner(file: file, limits: limits)
            return scanner.run(buffer)
        }
    }

    // MARK: Bytes

    /// Size, UTF-8 validity and characters, with the line and column (in characters) of the first problem.
    static func checkText(_ bytes: [UInt8], file: String?, limits: YAMLLimits) -> ConfigIssue? {
        bytes.withUnsafeBufferPointer { bytes in Self.checkText(bytes, file: file, limits: limits) }
    }

    static func checkText(_ bytes: UnsafeBufferPointer<UInt8>, file: String?, limits: YAMLLimits) -> ConfigIssue? {
        func issue(_ kind: ConfigIssue.Kind, _ reason: String, _ line: Int, _ column: Int) -> ConfigIssue {
            ConfigIssue(kind, path: "", reason: reason, file: file, line: line, column: column)
        }
        if bytes.count > limits.maximumBytes {
            var line = 1
            var index = 0
            while index < limits.maximumBytes {
                if bytes[index] == 0x0A { line += 1 }
                index += 1
            }
            return issue(
                .limitExceeded, "the file is larger than \(limits.maximumBytes) bytes, the most a configuration file may have (reached on this line)",
                line, 1)
        }
        var line = 1
        var column = 1
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            if lead >= 0x20, lead < 0x7F {
                // Printable ASCII, nearly every byte of a configuration.
                column += 1
                index += 1
                continue
            }
            var scalar: UInt32
            var length: Int
            switch lead {
            case 0x00...0x7F: (scalar, length) = (UInt32(lead), 1)
            case 0xC2...0xDF: (scalar, length) = (UInt32(lead & 0x1F), 2)
            case 0xE0...0xEF: (scalar, length) = (UInt32(lead & 0x0F), 3)
            case 0xF0...0xF4: (scalar, length) = (UInt32(lead & 0x07), 4)
            default:
                return issue(.invalidText, "invalid UTF-8: byte 0x\(String(lead, radix: 16, uppercase: true)) cannot start a character", line, column)
            }
            if length > 1 {
                guard index + length <= bytes.count else {
                    return issue(.invalidText, "invalid UTF-8: the file ends inside a character", line, column)
                }
                for offset in 1..<length {
                    let byte = bytes[index + offset]
                    guard byte & 0xC0 == 0x80 else {
                        return issue(
                            .invalidText,
                            "invalid UTF-8: byte 0x\(String(byte, radix: 16, uppercase: true)) cannot continue a character", line, column)
                    }
                    scalar = scalar << 6 | UInt32(byte & 0x3F)
                }
                let smallest: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
                guard scalar >= smallest, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else {
                    return issue(.invalidText, "invalid UTF-8: an overlong or out-of-range encoding", line, column)
                }
            }
            switch scalar {
            case 0x0A:
                line += 1
                column = 1
            case 0x0D:
                // CR LF is one line break; a lone CR is one too (YAML).
                if index + 1 < bytes.count, bytes[index + 1] == 0x0A {
                    index += 1
                }
                line += 1
                column = 1
            case 0x09:
                column += 1
            default:
                if let character = Unicode.Scalar(scalar), character.isBidiOverride || (character.isDisplayControl && scalar < 0x100) {
                    let what = character.isBidiOverride ? "the bidirectional control character" : "the control character"
                    return issue(
                        .invalidText, "\(what) \(character.codePoint) is not allowed in a configuration file (it changes how text is displayed)",
                        line, column)
                }
                column += 1
            }
            index += length
        }
        return nil
    }
}

/// The event pass: one frame per open list or mapping, the sizes of completed anchors, counters. Kept to plain
/// integers and flags per event, so that a million events cost little even unoptimized.
private struct EventScanner {
    struct Frame {
        var isMapping: Bool
        var anchor: String?
        /// `expandedNodes` when the collection started; at its end the difference is its expanded size.
        var nodesAtStart: Int
        /// Levels of nesting below and including this collection (1 for a collection of scalars).
        var height = 1
        var expectingKey = true
        var key: String?
        var index = 0
    }

    let file: String?
    let limits: YAMLLimits
    var outcome = YAMLGuard.Outcome()
    var frames: [Frame] = []
    /// The keys seen in each open mapping (empty for lists), apart from the frames so that values do not touch them.
    var keys: [Set<String>] = []
    var anchors: [String: (nodes: Int, height: Int)] = [:]
    var documents = 0

    init(file: String?, limits: YAMLLimits) {
        self.file = file
        self.limits = limits
    }

    /// The path of the node being read: `integrations[0].fieldFlows.status`.
    var path: String {
        var path = ""
        for frame in self.frames {
            if frame.isMapping {
                guard !frame.expectingKey, let key = frame.key else { break }
                path += path.isEmpty ? key : ".\(key)"
            } else {
                path += "[\(frame.index)]"
            }
        }
        return path
    }

    func issue(_ kind: ConfigIssue.Kind, _ reason: String, at mark: yaml_mark_t) -> ConfigIssue {
        ConfigIssue(kind, path: self.path, reason: reason, file: self.file, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    static func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
    }

    mutating func run(_ buffer: UnsafeBufferPointer<UInt8>) -> YAMLGuard.Outcome {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            self.outcome.issue = ConfigIssue(.syntax, path: "", reason: "the YAML parser could not start", file: self.file)
            return self.outcome
        }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
        var event = yaml_event_t()
        while self.outcome.issue == nil {
            guard yaml_parser_parse(&parser, &event) == 1 else {
                self.outcome.issue = self.syntaxIssue(parser)
                break
            }
            self.outcome.events += 1
            let type = event.type.rawValue
            if type == YAML_STREAM_END_EVENT.rawValue {
                yaml_event_delete(&event)
                break
            }
            self.outcome.issue = self.handle(&event, type)
            yaml_event_delete(&event)
        }
        return self.outcome
    }

    func syntaxIssue(_ parser: yaml_parser_t) -> ConfigIssue {
        let problem = parser.problem.map { String(cString: $0) } ?? "malformed YAML"
        let context = parser.context.map { String(cString: $0) + " " } ?? ""
        let mark = parser.problem_mark
        return ConfigIssue(
            .syntax, path: self.path, reason: "YAML syntax error: \(context)\(problem)", file: self.file, line: Int(mark.line) + 1,
            column: Int(mark.column) + 1)
    }

    /// Whether the next node is a mapping's key (the innermost collection's state, kept apart for speed).
    var atKey = false
    /// Whether the innermost collection is a mapping.
    var inMapping = false

    mutating func handle(_ event: inout yaml_event_t, _ type: UInt32) -> ConfigIssue? {
        let mark = event.start_mark
        switch type {
        case YAML_SCALAR_EVENT.rawValue:
            if event.data.scalar.tag != nil { return self.tagIssue(Self.text(event.data.scalar.tag) ?? "", at: mark) }
            let length = event.data.scalar.length
            if length > self.limits.maximumScalarBytes {
                return self.issue(
                    .limitExceeded, "a value of \(length) bytes; values may have at most \(self.limits.maximumScalarBytes) bytes", at: mark)
            }
            if let refused = self.count(1, "this value", at: mark) { return refused }
            if self.atKey {
                let key = String(decoding: UnsafeBufferPointer(start: event.data.scalar.value, count: length), as: UTF8.self)
                if let refused = self.key(key, plain: event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE, at: mark) { return refused }
            }
            if event.data.scalar.anchor != nil, let anchor = Self.text(event.data.scalar.anchor) { self.anchors[anchor] = (1, 0) }
            self.completed(height: 0)
        case YAML_SEQUENCE_START_EVENT.rawValue, YAML_MAPPING_START_EVENT.rawValue:
            let isMapping = type == YAML_MAPPING_START_EVENT.rawValue
            let tag = isMapping ? event.data.mapping_start.tag : event.data.sequence_start.tag
            let anchor = isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor
            if tag != nil { return self.tagIssue(Self.text(tag) ?? "", at: mark) }
            if self.atKey { return self.issue(.unsupportedYAML, "keys must be plain text, not \(isMapping ? "a mapping" : "a list")", at: mark) }
            if self.frames.count + 1 > self.limits.maximumDepth {
                return self.issue(.limitExceeded, "mappings and lists nest deeper than \(self.limits.maximumDepth) levels", at: mark)
            }
            if let refused = self.count(1, "this \(isMapping ? "mapping" : "list")", at: mark) { return refused }
            self.frames.append(Frame(isMapping: isMapping, anchor: Self.text(anchor), nodesAtStart: self.outcome.expandedNodes - 1))
            self.keys.append([])
            (self.inMapping, self.atKey) = (isMapping, isMapping)
        case YAML_SEQUENCE_END_EVENT.rawValue, YAML_MAPPING_END_EVENT.rawValue:
            guard let frame = self.frames.popLast() else { break }
            self.keys.removeLast()
            self.inMapping = self.frames.last?.isMapping ?? false
            self.atKey = self.inMapping && self.frames[self.frames.count - 1].expectingKey
            if let anchor = frame.anchor { self.anchors[anchor] = (self.outcome.expandedNodes - frame.nodesAtStart, frame.height) }
            self.completed(height: frame.height)
        case YAML_ALIAS_EVENT.rawValue:
            let name = Self.text(event.data.alias.anchor) ?? ""
            if self.atKey { return self.issue(.unsupportedYAML, "keys must be plain text, not an alias", at: mark) }
            self.outcome.aliases += 1
            if self.outcome.aliases > self.limits.maximumAliases {
                return self.issue(
                    .limitExceeded, "more than \(self.limits.maximumAliases) aliases (*name); write the values out instead", at: mark)
            }
            guard let anchor = self.anchors[name] else {
                if self.frames.contains(where: { $0.anchor == name }) {
                    return self.issue(.unsupportedYAML, "alias *\(name) refers to a node that contains it (a recursive alias)", at: mark)
                }
                return self.issue(.syntax, "alias *\(name) refers to no anchor &\(name) before it", at: mark)
            }
            if self.frames.count + anchor.height > self.limits.maximumDepth {
                return self.issue(
                    .limitExceeded, "alias *\(name) nests the document deeper than \(self.limits.maximumDepth) levels", at: mark)
            }
            if let refused = self.count(anchor.nodes, "alias *\(name)", at: mark) { return refused }
            self.completed(height: anchor.height)
        case YAML_DOCUMENT_START_EVENT.rawValue:
            self.documents += 1
            if self.documents > 1 {
                return self.issue(.unsupportedYAML, "a configuration file holds one YAML document; a second one starts here", at: mark)
            }
        default:
            break
        }
        return nil
    }

    /// Adds `nodes` to the expanded count; refused beyond the limit.
    mutating func count(_ nodes: Int, _ what: String, at mark: yaml_mark_t) -> ConfigIssue? {
        let (sum, overflow) = self.outcome.expandedNodes.addingReportingOverflow(nodes)
        self.outcome.expandedNodes = overflow ? Int.max : sum
        if self.outcome.expandedNodes > self.limits.maximumNodes {
            return self.issue(
                .limitExceeded,
                "the document has more than \(self.limits.maximumNodes) values, lists and mappings (aliases counted as what they stand for); \(what) goes beyond",
                at: mark)
        }
        return nil
    }

    /// A scalar key: not a merge key, not a duplicate.
    mutating func key(_ key: String, plain: Bool, at mark: yaml_mark_t) -> ConfigIssue? {
        let last = self.frames.count - 1
        if plain, key == "<<" { return self.issue(.unsupportedYAML, "merge keys (<<) are not supported; write the keys out", at: mark) }
        self.frames[last].key = key
        if !self.keys[last].insert(key).inserted {
            self.frames[last].expectingKey = false
            self.atKey = false
            return self.issue(.duplicateName, "key '\(key)' appears twice in this mapping", at: mark)
        }
        return nil
    }

    /// A node of `height` is complete: its parent moves on to its next key, value or item.
    mutating func completed(height: Int) {
        let last = self.frames.count - 1
        guard last >= 0 else { return }
        if height > 0, height >= self.frames[last].height { self.frames[last].height = height + 1 }
        if self.inMapping {
            self.atKey.toggle()
            self.frames[last].expectingKey = self.atKey
        } else {
            self.frames[last].index += 1
        }
    }

    func tagIssue(_ tag: String, at mark: yaml_mark_t) -> ConfigIssue {
        self.issue(.unsupportedYAML, "YAML tags (\(tag)) are not used in a configuration; remove the tag", at: mark)
    }
}
