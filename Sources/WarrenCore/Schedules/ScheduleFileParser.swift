import Cron
import Yams

/// Reads one schedule file (SPEC §2) into validated schedules, collecting every error with its
/// line and column rather than stopping at the first.
public struct ScheduleFileParser {
    /// The path as it should appear in messages.
    public let file: String
    var reader: YAMLFileReader
    /// The workflows the file declares (`ScheduleFileParser+Workflows.swift`).
    var workflows: [WorkflowDefinition] = []

    static let topLevelKeys = ["timezone", "defaults", "schedules", "workflows"]
    static let scheduleKeys = ["cron", "every", "task"] + ScheduleSettings.keys

    /// Parses `yaml`, the contents of `file`; returns the schedules, the workflows and the errors
    /// found. When there is any error the file as a whole is invalid.
    public static func parse(yaml: String, file: String) -> (schedules: [ScheduleDefinition], workflows: [WorkflowDefinition], errors: [InputFileError]) {
        var parser = ScheduleFileParser(file: file)
        let schedules = parser.parseDocument(yaml)
        return (schedules, parser.workflows, parser.reader.errors.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
    }

    private init(file: String) {
        self.file = file
        self.reader = YAMLFileReader(file: file)
    }

    private mutating func parseDocument(_ yaml: String) -> [ScheduleDefinition] {
        guard let composed = reader.compose(yaml) else { return [] }
        guard let root = composed, !root.isNull else { return [] }  // an empty file declares nothing
        guard let mapping = root.mapping else {
            reader.report(root, "expected a mapping with the keys timezone, defaults, schedules and workflows")
            return []
        }
        let entries = reader.uniqueEntries(mapping, allowed: Self.topLevelKeys, context: "at the top level")
        var fileDefaults = ScheduleSettings()
        if let zoneNode = entries["timezone"] {
            fileDefaults.zone = zone(zoneNode)
        }
        if let defaultsNode = entries["defaults"] {
            if let defaults = defaultsNode.mapping {
                let defaultEntries = reader.uniqueEntries(defaults, allowed: ScheduleSettings.keys, context: "in defaults", refused: ["cron", "every", "task"])
                fileDefaults = settings(defaultEntries, inheritedZone: fileDefaults.zone).merged(over: fileDefaults)
            } else if !defaultsNode.isNull {
                reader.report(defaultsNode, "defaults: expected a mapping of settings")
            }
        }
        if let workflowsNode = entries["workflows"] { parseWorkflows(workflowsNode) }
        guard let schedulesNode = entries["schedules"] else {
            if entries["workflows"] == nil {
                reader.report(root, "missing \"schedules:\"; a schedule file declares its schedules under it (and its workflows under \"workflows:\")")
            }
            return []
        }
        if schedulesNode.isNull { return [] }
        guard let schedulesMapping = schedulesNode.mapping else {
            reader.report(schedulesNode, "schedules: expected a mapping from schedule names to schedules")
            return []
        }
        var schedules: [ScheduleDefinition] = []
        for (nameNode, scheduleNode) in schedulesMapping {
            // Yams has already refused repeated keys in any mapping.
            guard let name = nameNode.scalar?.string else {
                reader.report(nameNode, "a schedule name must be text")
                continue
            }
            if !Names.isValidScheduleOrTaskName(name) {
                reader.report(nameNode, "schedule name \"\(name)\": use letters, digits, \".\", \"_\", \"-\" and \":\" (at most 200, starting with a letter or digit)")
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
            reader.report(node, "schedule \"\(name)\": expected a mapping with cron or every, and task")
            return nil
        }
        let errorsBefore = reader.errors.count
        let entries = reader.uniqueEntries(mapping, allowed: Self.scheduleKeys, context: "in schedule \"\(name)\"")
        let own = settings(entries, inheritedZone: defaults.zone)
        let merged = own.merged(over: defaults)
        var recurrence: Recurrence?
        switch (entries["cron"], entries["every"]) {
        case (let cronNode?, nil):
            recurrence = cron(cronNode)
        case (nil, let everyNode?):
            if let text = reader.text(everyNode, "every", example: "15m") {
                do {
                    recurrence = .every(try Recurrence.interval(text))
                } catch {
                    reader.report(everyNode, "every: \(error)")
                }
            }
        case (_?, let everyNode?):
            reader.report(everyNode, "schedule \"\(name)\" gives both cron and every; keep exactly one")
        case (nil, nil):
            reader.report(nameNode, "schedule \"\(name)\" needs cron or every (exactly one)")
        }
        var task: String?
        if let taskNode = entries["task"] {
            if let text = reader.text(taskNode, "task", example: "reports.generate") {
                if Names.isValidScheduleOrTaskName(text) {
                    task = text
                } else {
                    reader.report(taskNode, "task \"\(text)\": use letters, digits, \".\", \"_\", \"-\" and \":\"")
                }
            }
        } else {
            reader.report(nameNode, "schedule \"\(name)\" needs a task (a name from the workers' task catalog)")
        }
        if case .every(_)? = recurrence, let node = entries["dst_gap"] ?? entries["dst_overlap"] {
            reader.report(node, "\(entries["dst_gap"] != nil ? "dst_gap" : "dst_overlap"): applies to cron schedules only; every follows real time")
        }
        if let start = merged.start, let end = merged.end, end <= start {
            reader.report(entries["end"] ?? nameNode, "end must come after start")
        }
        guard reader.errors.count == errorsBefore, let recurrence, let task else { return nil }
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
            end: merged.end,
            alertAfter: merged.alertAfter,
            alertFailures: merged.alertFailures,
            dstPolicy: DaylightSavingPolicy(gap: merged.dstGap ?? .shift, overlap: merged.dstOverlap ?? .first),
            queueGiven: merged.queue != nil
        )
    }

    // MARK: Settings

    /// Reads the settings among `entries`; times without an offset are read in the entries' own
    /// time zone, else in `inheritedZone`.
    private mutating func settings(_ entries: [String: Node], inheritedZone: ZoneRules?) -> ScheduleSettings {
        var settings = ScheduleSettings()
        if let node = entries["args"] { settings.args = reader.json(node, path: "args") }
        if let node = entries["queue"], let queue = reader.text(node, "queue", example: "reports") {
            if let problem = Names.queueNameProblem(queue) { reader.report(node, "queue: \(problem)") } else { settings.queue = queue }
        }
        if let node = entries["timezone"] { settings.zone = zone(node) }
        if let node = entries["catchup"] { settings.catchup = reader.choice(node, "catchup", CatchupPolicy.self) }
        if let node = entries["catchup_window"] { settings.catchupWindow = reader.duration(node, "catchup_window", example: "1h") }
        if let node = entries["overlap"] { settings.overlap = reader.choice(node, "overlap", OverlapPolicy.self) }
        if let node = entries["jitter"] { settings.jitter = reader.duration(node, "jitter", example: "30s") }
        if let node = entries["expires"] {
            if let expires = reader.duration(node, "expires", example: "2h") {
                if expires > .zero { settings.expires = expires } else { reader.report(node, "expires: must be longer than 0s") }
            }
        }
        if let node = entries["alert_after"] {
            if let after = reader.duration(node, "alert_after", example: "15m") {
                if after > .zero { settings.alertAfter = after } else { reader.report(node, "alert_after: must be longer than 0s") }
            }
        }
        if let node = entries["alert_failures"] {
            if case .integer(let count) = node.scalarValue, (1...1000).contains(count) {
                settings.alertFailures = Int(count)
            } else {
                reader.report(node, "alert_failures: expected a whole number from 1 to 1000, got \(reader.describe(node))")
            }
        }
        if let node = entries["dst_gap"] { settings.dstGap = reader.choice(node, "dst_gap", DaylightSavingPolicy.Gap.self) }
        if let node = entries["dst_overlap"] { settings.dstOverlap = reader.choice(node, "dst_overlap", DaylightSavingPolicy.Overlap.self) }
        if let node = entries["priority"] {
            if case .integer(let priority) = node.scalarValue, (0...9).contains(priority) {
                settings.priority = Int(priority)
            } else {
                reader.report(node, "priority: expected a whole number from 0 to 9, got \(reader.describe(node))")
            }
        }
        if let node = entries["paused"] {
            if case .bool(let paused) = node.scalarValue {
                settings.paused = paused
            } else {
                reader.report(node, "paused: expected true or false, got \(reader.describe(node))")
            }
        }
        if let node = entries["start"] { settings.start = timestamp(node, "start", zone: settings.zone ?? inheritedZone) }
        if let node = entries["end"] { settings.end = timestamp(node, "end", zone: settings.zone ?? inheritedZone) }
        return settings
    }

    private mutating func cron(_ node: Node) -> Recurrence? {
        guard let text = reader.text(node, "cron", example: "\"30 2 * * *\"") else { return nil }
        do {
            return try Recurrence(parsing: text)
        } catch {
            // Point at the offending character inside the value.
            let quoted = node.scalar?.style == .singleQuoted || node.scalar?.style == .doubleQuoted
            let line = node.mark?.line ?? 1
            let column = (node.mark?.column ?? 1) + error.column - 1 + (quoted ? 1 : 0)
            let field = error.field.map { "\($0.rawValue) field: " } ?? ""
            reader.report(at: line, column, "cron \"\(text)\": \(field)\(error.message)")
            return nil
        }
    }

    private mutating func zone(_ node: Node) -> ZoneRules? {
        guard let name = reader.text(node, "timezone", example: "Europe/Berlin") else { return nil }
        if let rules = ZoneRules.named(name) { return rules }
        let hint = ZoneRules.suggestion(for: name).map { " (did you mean \"\($0)\"?)" } ?? "; use an IANA name such as Europe/Berlin or UTC"
        reader.report(node, "timezone: unknown time zone \"\(name)\"\(hint)")
        return nil
    }

    private mutating func timestamp(_ node: Node, _ key: String, zone: ZoneRules?) -> Int64? {
        guard case .text(let text) = node.scalarValue else {
            reader.report(node, "\(key): expected a timestamp such as 2026-01-01T00:00:00Z, got \(reader.describe(node))")
            return nil
        }
        do {
            return try Timestamp.parse(text, in: zone ?? .utc)
        } catch {
            reader.report(node, "\(key): \(error)")
            return nil
        }
    }

}

