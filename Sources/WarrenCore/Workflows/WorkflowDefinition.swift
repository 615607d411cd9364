/// A workflow from a schedule file (SPEC §8): a named graph of steps, each an ordinary task that
/// runs once the steps it comes `after` have ended.
public struct WorkflowDefinition: Sendable, Equatable {
    public var name: String
    /// Steps in declaration order.
    public var steps: [WorkflowStep]
    public var onFailure: WorkflowFailurePolicy
    /// The queue of steps that name none; without it, the queue the run was started with.
    public var queue: String?
    /// Where the file declares it; nil for a definition read from a message or the store.
    public var location: SourceLocation?

    public init(name: String, steps: [WorkflowStep], onFailure: WorkflowFailurePolicy = .stop, queue: String? = nil, location: SourceLocation? = nil) {
        self.name = name
        self.steps = steps
        self.onFailure = onFailure
        self.queue = queue
        self.location = location
    }

    /// The step called `name`.
    public func step(named name: String) -> WorkflowStep? { steps.first { $0.name == name } }

    /// Steps ordered so that each comes after every step it follows (declaration order among
    /// equals); nil when `after` forms a cycle.
    public var topologicalOrder: [WorkflowStep]? {
        var placed: Set<String> = []
        var order: [WorkflowStep] = []
        var remaining = steps
        while !remaining.isEmpty {
            guard let index = remaining.firstIndex(where: { $0.after.allSatisfy(placed.contains) }) else { return nil }
            let step = remaining.remove(at: index)
            placed.insert(step.name)
            order.append(step)
        }
        return order
    }

    /// Why this definition cannot run, or nil when it can: what validation of a file refuses,
    /// checked again for a run started from a message (any program can publish one).
    public var problem: String? {
        if steps.isEmpty { return "workflow \"\(name)\" has no steps" }
        var names: Set<String> = []
        for step in steps {
            guard Names.isValidScheduleOrTaskName(step.name) else { return "step name \"\(step.name)\" is not valid" }
            guard names.insert(step.name).inserted else { return "step \"\(step.name)\" is declared twice" }
        }
        for step in steps {
            if let unknown = step.after.first(where: { !names.contains($0) }) {
                return "step \"\(step.name)\" comes after \"\(unknown)\", which is not a step"
            }
        }
        return topologicalOrder == nil ? "the steps' after lists form a cycle" : nil
    }

    /// Every step `name` follows, directly or through others.
    public func ancestors(of name: String) -> Set<String> {
        var found: Set<String> = []
        var pending = step(named: name)?.after ?? []
        while let next = pending.popLast() {
            guard found.insert(next).inserted else { continue }
            pending += step(named: next)?.after ?? []
        }
        return found
    }

    /// The task id of step `step` of run `run`: the same however often a process dies, so a step
    /// is published under one id.
    public static func stepTaskID(run: String, step: String) -> String { "\(run)/\(step)" }

    /// The step name in a step's task id of run `run`; nil when `id` is not one of its steps.
    public static func stepName(taskID id: String, run: String) -> String? {
        guard id.utf8.count > run.utf8.count + 1, id.hasPrefix(run + "/") else { return nil }
        return String(id.dropFirst(run.count + 1))
    }

    // MARK: JSON (the snapshot a run carries)

    /// The definition as JSON: what a run started with (a file changed later does not change it).
    public var json: JSONValue {
        var fields: [String: JSONValue] = [
            "name": .string(name), "on_failure": .string(onFailure.rawValue),
            "steps": .array(steps.map(\.json)),
        ]
        if let queue { fields["queue"] = .string(queue) }
        return .object(fields)
    }

    /// Reads a snapshot written by `json`.
    public init(json: JSONValue) throws(WorkflowFormatError) {
        guard case .object(let fields) = json, let name = fields["name"]?.stringValue,
              case .array(let steps)? = fields["steps"] else { throw WorkflowFormatError("a workflow needs \"name\" and \"steps\"") }
        let policy = fields["on_failure"]?.stringValue.flatMap(WorkflowFailurePolicy.init(rawValue:)) ?? .stop
        var parsed: [WorkflowStep] = []
        for step in steps { parsed.append(try WorkflowStep(json: step)) }
        self.init(name: name, steps: parsed, onFailure: policy, queue: fields["queue"]?.stringValue)
    }
}

/// One step of a workflow.
public struct WorkflowStep: Sendable, Equatable {
    public var name: String
    /// A task name from the workers' catalog.
    public var task: String
    /// The task's args, with `{args.…}`, `{steps.NAME.…}` and `{run.id}` placeholders (`WorkflowArgs`).
    public var args: JSONValue
    /// The steps this one runs after.
    public var after: [String]
    public var queue: String?

    public init(name: String, task: String, args: JSONValue = .object([:]), after: [String] = [], queue: String? = nil) {
        self.name = name
        self.task = task
        self.args = args
        self.after = after
        self.queue = queue
    }

    var json: JSONValue {
        var fields: [String: JSONValue] = [
            "name": .string(name), "task": .string(task), "args": args, "after": .array(after.map(JSONValue.string)),
        ]
        if let queue { fields["queue"] = .string(queue) }
        return .object(fields)
    }

    init(json: JSONValue) throws(WorkflowFormatError) {
        guard case .object(let fields) = json, let name = fields["name"]?.stringValue, let task = fields["task"]?.stringValue else {
            throw WorkflowFormatError("a step needs \"name\" and \"task\"")
        }
        var after: [String] = []
        if case .array(let names)? = fields["after"] { after = names.compactMap(\.stringValue) }
        self.init(name: name, task: task, args: fields["args"] ?? .object([:]), after: after, queue: fields["queue"]?.stringValue)
    }
}

/// What a step's failure does to the steps after it (`on_failure`).
public enum WorkflowFailurePolicy: String, Sendable, CaseIterable {
    /// Steps after a step that did not succeed are recorded `skipped`; other branches go on.
    case stop
    /// Steps run once the steps before them have ended, however they ended.
    case `continue`
}

/// A workflow message or record that cannot be read.
public struct WorkflowFormatError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
