import Cron
import Yams

/// Reads one schedule file (SPEC §2) into validated schedules, collecting every error with its
/// line and column rather than stopping at the first.
public struct ScheduleFileParser {
    /// The path as it should appear in messages.
    public let file: String
    private(set) var errors: [ScheduleFileError] = []

    static let topLevelKeys = ["timezone", "defaults", "schedules"]
    static let scheduleKeys = ["cron", "every", "task"] + ScheduleSettings.keys

    /// Parses `yaml`, the contents of `file`; returns the schedules and the errors found. When
    /// there is any error the file as a whole is invalid.
    public static func parse(yaml: String, file: String) -> (schedules: [ScheduleDefinition], errors: [ScheduleFileError]) {
        var parser = ScheduleFileParser(file: file)
        let schedules = parser.parseDocument(yaml)
        return (schedules, parser.errors.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
    }

    private init(file: String) {
        self.file = file
    }

    private mutating func parseDocument(_ yaml: String) -> [ScheduleDefinition] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml, .basic)
        } catch {
            report(yamlError: error)
            return []
        }
        guard let root, !root.isNull else { return [] }  // an empty file declares nothing
        guard let mapping = root.mapping else {
            report(root, "expected a mapping with the keys timezone, defaults and schedules")
            return []
        }
        let entries = uniqueEntries(mapping, allowed: Self.topLevelKeys, context: "at the top level")
        var fileDefaults = ScheduleSettings()
        if let zoneNode = entries["timezone"] {
            fileDefaults.zone = zone(zoneNode)
        }
        if let defaultsNode = entries["defaults"] {
            if let defaults = defaultsNode.mapping {
                let defaultEntries = uniqueEntries(defaults, allowed: ScheduleSettings.keys, context: "in defaults", refused: ["cron", "every", "task"])
                fileDefaults = settings(defaultEntries, inheritedZone: fileDefaults.zone).merged(over: fileDefaults)
            } else if !defaultsNode.isNull {
                report(defaultsNode, "defaults: expected a mapping of settings")
            }
        }
        guard let schedulesNode = entries["schedules"] else {
            report(root, "missing \"schedules:\"; a schedule file declares its schedules under it")
            return []
        }
        if schedulesNode.isNull { return [] }
        guard let schedulesMapping = schedulesNode.mapping else {
            report(schedulesNode, "schedules: expected a mapping from schedule names to schedules")
            return []
        }
        var schedules: [ScheduleDefinition] = []
        for (nameNode, scheduleNode) in schedulesMapping {
            // Yams has already refused repeated keys in any mapping.
            guard let name = nameNode.scalar?.string else {
                report(nameNode, "a schedule name must be text")
                continue
            }
            if !Names.isValidScheduleOrTaskName(name) {
                report(nameNode, "schedule name \"\(name)\": use letters, digits, \".\", \"_\", \"-\" and \":\" (at most 200, starting with a letter or digit)")
                continue
            }
            if let schedule = parseSchedule(name: name, nameNode: nameNode, node: scheduleNode, defaults: fileDefaults) {
                schedules.append(schedule)
            }
        }
        return schedules
    }

    private mutating func parseSchedule(name: String, nameNode: Node, node: Node, defaults: ScheduleSettings) -> ScheduleDefinition? {
        guard let mapping = node.mapping else {
            report(node, "schedule \"\(name)\": expected a mapping with cron or every, and task")
            return nil
        }
        let errorsBefore = errors.count
        let entries = uniqueEntries(mapping, allowed: Self.scheduleKeys, context: "in schedule \"\(name)\"")
        let own = settings(entries, inheritedZone: defaults.zone)
        let merged = own.merged(over: defaults)
        var recurrence: Recurrence?
        switch (entries["cron"], entries["every"]) {
        case (let cronNode?, nil):
            recurrence = cron(cronNode)
        case (nil, let everyNode?):
            if let text = text(everyNode, "every", example: "15m") {
                do {
                    recurrence = .every(try Recurrence.interval(text))
                } catch {
                    report(everyNode, "every: \(error)")
                }
            }
        case (_?, let everyNode?):
            report(everyNode, "schedule \"\(name)\" gives both cron and every; keep exactly one")
        case (nil, nil):
            report(nameNode, "schedule \"\(name)\" needs cron or every (exactly one)")
        }
        var task: String?
        if let taskNode = entries["task"] {
            if let text = text(taskNode, "task", example: "reports.generate") {
                if Names.isValidScheduleOrTaskName(text) {
                    task = text
                } else {
                    report(taskNode, "task \"\(text)\": use letters, digits, \".\", \"_\", \"-\" and \":\"")
                }
            }
        } else {
            report(nameNode, "schedule \"\(name)\" needs a task (a name from the workers' task catalog)")
        }
        if let start = merged.start, let end = merged.end, end <= start {
            report(entries["end"] ?? nameNode, "end must come after start")
        }
        guard errors.count == errorsBefore, let recurrence, let task else { return nil }
        let mark = nameNode.mark
        return ScheduleDefinition(
            name: name,
            location: SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1),
            recurrence: recurrence,
            zone: merged.zone ?? .utc,
            task: task,
            args: merged.args ?? .object([:]),
            queue: merged.queue ?? ScheduleDefinition.defaultQueue,
            catchup: merged.catchup ?? .latest,
            catchupWindow: merged.catchupWindow ?? ScheduleDefinition.defaultCatchupWindow,
            overlap: merged.overlap ?? .allow,
            jitter: merged.jitter ?? .zero,
            priority: merged.priority,
            expires: merged.expires,
            paused: merged.paused ?? false,
            start: merged.start,
            end: merged.end
        )
    }

    // MARK: Settings

    /// Reads the settings among `entries`; times without an offset are read in the entries' own
    /// time zone, else in `inheritedZone`.
    private mutating func settings(_ entries: [String: Node], inheritedZone: ZoneRules?) -> ScheduleSettings {
        var settings = ScheduleSettings()
        if let node = entries["args"] { settings.args = json(node, path: "args") }
        if let node = entries["queue"], let queue = text(node, "queue", example: "reports") {
            if let problem = Names.queueNameProblem(queue) { report(node, "queue: \(problem)") } else { settings.queue = queue }
        }
        if let node = entries["timezone"] { settings.zone = zone(node) }
        if let node = entries["catchup"] { settings.catchup = choice(node, "catchup", CatchupPolicy.self) }
        if let node = entries["catchup_window"] { settings.catchupWindow = duration(node, "catchup_window", example: "1h") }
        if let node = entries["overlap"] { settings.overlap = choice(node, "overlap", OverlapPolicy.self) }
        if let node = entries["jitter"] { settings.jitter = duration(node, "jitter", example: "30s") }
        if let node = entries["expires"] {
            if let expires = duration(node, "expires", example: "2h") {
                if expires > .zero { settings.expires = expires } else { report(node, "expires: must be longer than 0s") }
            }
        }
        if let node = entries["priority"] {
            if case .integer(let priority) = node.scalarValue, (0...9).contains(priority) {
                settings.priority = Int(priority)
            } else {
                report(node, "priority: expected a whole number from 0 to 9, got \(describe(node))")
            }
        }
        if let node = entries["paused"] {
            if case .bool(let paused) = node.scalarValue {
                settings.paused = paused
            } else {
                report(node, "paused: expected true or false, got \(describe(node))")
            }
        }
        if let node = entries["start"] { settings.start = timestamp(node, "start", zone: settings.zone ?? inheritedZone) }
        if let node = entries["end"] { settings.end = timestamp(node, "end", zone: settings.zone ?? inheritedZone) }
        return settings
    }

    private mutating func cron(_ node: Node) -> Recurrence? {
        guard let text = text(node, "cron", example: "\"30 2 * * *\"") else { return nil }
        do {
            return try Recurrence(parsing: text)
        } catch {
            // Point at the offending character inside the value.
            let quoted = node.scalar?.style == .singleQuoted || node.scalar?.style == .doubleQuoted
            let line = node.mark?.line ?? 1
            let column = (node.mark?.column ?? 1) + error.column - 1 + (quoted ? 1 : 0)
            let field = error.field.map { "\($0.rawValue) field: " } ?? ""
            errors.append(ScheduleFileError(file: file, line: line, column: column, message: "cron \"\(text)\": \(field)\(error.message)"))
            return nil
        }
    }

    private mutating func zone(_ node: Node) -> ZoneRules? {
        guard let name = text(node, "timezone", example: "Europe/Berlin") else { return nil }
        if let rules = ZoneRules.named(name) { return rules }
        let hint = ZoneRules.suggestion(for: name).map { " (did you mean \"\($0)\"?)" } ?? "; use an IANA name such as Europe/Berlin or UTC"
        report(node, "timezone: unknown time zone \"\(name)\"\(hint)")
        return nil
    }

    private mutating func duration(_ node: Node, _ key: String, example: String) -> Duration? {
        guard let text = text(node, key, example: example) else { return nil }
        do {
            return try DurationSyntax.parse(text)
        } catch {
            report(node, "\(key): \(error)")
            return nil
        }
    }

    private mutating func timestamp(_ node: Node, _ key: String, zone: ZoneRules?) -> Int64? {
        guard case .text(let text) = node.scalarValue else {
            report(node, "\(key): expected a timestamp such as 2026-01-01T00:00:00Z, got \(describe(node))")
            return nil
        }
        do {
            return try Timestamp.parse(text, in: zone ?? .utc)
        } catch {
            report(node, "\(key): \(error)")
            return nil
        }
    }

    private mutating func choice<Choice: RawRepresentable & CaseIterable>(_ node: Node, _ key: String, _: Choice.Type) -> Choice? where Choice.RawValue == String {
        let options = Choice.allCases.map(\.rawValue)
        guard let text = text(node, key, example: options[0]) else { return nil }
        if let value = Choice(rawValue: text) { return value }
        report(node, "\(key): expected one of \(options.joined(separator: ", ")), got \"\(text)\"")
        return nil
    }

    /// A text value; numbers, booleans and collections are refused so that `queue: 1` or
    /// `task: yes` do not pass silently.
    private mutating func text(_ node: Node, _ key: String, example: String) -> String? {
        if case .text(let text) = node.scalarValue { return text }
        report(node, "\(key): expected text such as \(example), got \(describe(node))")
        return nil
    }

    private mutating func json(_ node: Node, path: String) -> JSONValue? {
        switch node {
        case .scalar(let scalar):
            switch ScalarValue(scalar) {
            case .null: return .null
            case .bool(let value): return .bool(value)
            case .integer(let value): return .integer(value)
            case .text(let value): return .string(value)
            case .largeInteger(let text):
                report(node, "\(path): integer \(text) is too large")
                return nil
            case .float(let value):
                if value.isFinite { return .number(value) }
                report(node, "\(path): \(scalar.string) is not a JSON number")
                return nil
            }
        case .sequence(let sequence):
            var values: [JSONValue] = []
            for (index, element) in sequence.enumerated() {
                guard let value = json(element, path: "\(path)[\(index)]") else { return nil }
                values.append(value)
            }
            return .array(values)
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (keyNode, valueNode) in mapping {
                guard let key = keyNode.scalar?.string, !keyNode.isNull else {
                    report(keyNode, "\(path): object keys must be text")
                    return nil
                }
                guard let value = json(valueNode, path: "\(path).\(key)") else { return nil }
                object[key] = value
            }
            return .object(object)
        case .alias:
            report(node, "\(path): aliases are not supported")
            return nil
        }
    }

    // MARK: Keys and errors

    /// The entries of a mapping by key, reporting unknown and refused keys.
    private mutating func uniqueEntries(_ mapping: Node.Mapping, allowed: [String], context: String, refused: [String] = []) -> [String: Node] {
        var entries: [String: Node] = [:]
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.scalar?.string else {
                report(keyNode, "expected a key \(context)")
                continue
            }
            if refused.contains(key) {
                report(keyNode, "\(key) cannot be set \(context); give it in each schedule")
                continue
            }
            guard allowed.contains(key) else {
                let hint = Suggestion.closest(to: key, among: allowed).map { " (did you mean \"\($0)\"?)" }
                    ?? "; known keys: \(allowed.joined(separator: ", "))"
                report(keyNode, "unknown key \"\(key)\" \(context)\(hint)")
                continue
            }
            entries[key] = valueNode
        }
        return entries
    }

    private func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            switch ScalarValue(scalar) {
            case .null: return "nothing"
            case .bool: return "the boolean \(scalar.string)"
            case .integer, .largeInteger, .float: return "the number \(scalar.string)"
            case .text: return "\"\(scalar.string)\""
            }
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    private mutating func report(_ node: Node, _ message: String) {
        errors.append(ScheduleFileError(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1, message: message))
    }

    private mutating func report(yamlError error: any Error) {
        var (line, column, problem) = (1, 1, "\(error)")
        var context = ""
        switch error as? YamlError {
        case .scanner(let scanning, let text, let mark, _), .parser(let scanning, let text, let mark, _), .composer(let scanning, let text, let mark, _):
            (line, column, problem) = (mark.line, mark.column, text)
            context = scanning?.text ?? ""
        case .duplicatedKeysInMapping(let duplicates, let mapping):
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            errors.append(ScheduleFileError(
                file: file, line: mapping.mark.line, column: mapping.mark.column,
                message: "the mapping starting here repeats the key \(keys); each key may appear once"
            ))
            return
        case .reader(let text, _, _, _):
            problem = text
        default:
            break
        }
        var message = "not valid YAML: \(problem)"
        if context.contains("alias") || context.contains("anchor") {
            message += " (a value starting with * must be quoted, e.g. cron: \"*/5 * * * *\")"
        }
        errors.append(ScheduleFileError(file: file, line: line, column: column, message: message))
    }
}

extension Node {
    /// The scalar's typed value; nil for mappings, sequences and aliases.
    var scalarValue: ScalarValue? { scalar.map(ScalarValue.init) }

    /// A null scalar (`null`, `~` or nothing).
    var isNull: Bool { scalarValue == .null }
}
