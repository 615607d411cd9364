import Cron
import Foundation

/// One run of a workflow as the coordinator keeps it in the store: what it was started with
/// (the definition as it was then) and what has been done for it. Step outcomes are not kept
/// here: they are the steps' results, stored like any other.
public struct WorkflowRun: Sendable, Equatable {
    /// The run's id, which its result carries; each step's task id is derived from it.
    public var id: String
    public var definition: WorkflowDefinition
    /// The args the run was started with, which `{args.…}` placeholders read.
    public var args: JSONValue
    /// The queue of steps that name none and whose workflow names none.
    public var queue: String
    public var schedule: String?
    public var scheduledFor: String?
    public var trigger: String?
    public var traceparent: String?
    /// When the run was started, milliseconds since the epoch.
    public var startedMs: Int64
    /// Steps whose publish the broker confirmed.
    public var published: Set<String> = []
    /// Steps whose `skipped` result the broker confirmed.
    public var skipped: Set<String> = []
    /// The run's final status, set once its result is confirmed.
    public var status: ResultStatus?
    public var finishedMs: Int64?

    public init(id: String, definition: WorkflowDefinition, args: JSONValue, queue: String, startedMs: Int64) {
        self.id = id
        self.definition = definition
        self.args = args
        self.queue = queue
        self.startedMs = startedMs
    }

    /// The queue step `step` goes to.
    public func queue(of step: WorkflowStep) -> String { step.queue ?? definition.queue ?? queue }

    public var json: JSONValue {
        var fields: [String: JSONValue] = [
            "id": .string(id), "workflow": definition.json, "args": args, "queue": .string(queue),
            "started_ms": .integer(startedMs),
            "published": .array(published.sorted().map(JSONValue.string)),
            "skipped": .array(skipped.sorted().map(JSONValue.string)),
        ]
        if let schedule { fields["schedule"] = .string(schedule) }
        if let scheduledFor { fields["scheduled_for"] = .string(scheduledFor) }
        if let trigger { fields["trigger"] = .string(trigger) }
        if let traceparent { fields["traceparent"] = .string(traceparent) }
        if let status { fields["status"] = .string(status.rawValue) }
        if let finishedMs { fields["finished_ms"] = .integer(finishedMs) }
        return .object(fields)
    }

    public init(json: JSONValue) throws(WorkflowFormatError) {
        guard case .object(let fields) = json, let id = fields["id"]?.stringValue, let workflow = fields["workflow"] else {
            throw WorkflowFormatError("a workflow run needs \"id\" and \"workflow\"")
        }
        guard !id.isEmpty else { throw WorkflowFormatError("a workflow run's id cannot be empty") }
        func names(_ key: String) -> Set<String> {
            if case .array(let values)? = fields[key] { return Set(values.compactMap(\.stringValue)) }
            return []
        }
        var startedMs: Int64 = 0
        if case .integer(let value)? = fields["started_ms"] { startedMs = value }
        self.init(id: id, definition: try WorkflowDefinition(json: workflow), args: fields["args"] ?? .object([:]),
                  queue: fields["queue"]?.stringValue ?? WireNames.defaultQueue, startedMs: startedMs)
        schedule = fields["schedule"]?.stringValue
        scheduledFor = fields["scheduled_for"]?.stringValue
        trigger = fields["trigger"]?.stringValue
        traceparent = fields["traceparent"]?.stringValue
        published = names("published")
        skipped = names("skipped")
        status = fields["status"]?.stringValue.flatMap(ResultStatus.init(rawValue:))
        if case .integer(let value)? = fields["finished_ms"] { finishedMs = value }
    }

    /// The run's own result: its id, the workflow's name as the task, and how it ended.
    public func result(status: ResultStatus, firstFailure: (step: String, status: ResultStatus)?, finishedMs: Int64) -> TaskResult {
        var result = TaskResult(id: id, task: definition.name, queue: queue, attempt: 1, status: status)
        result.schedule = schedule
        result.scheduledFor = scheduledFor
        result.trigger = trigger
        result.traceparent = traceparent
        result.args = args
        result.worker = "workflow"
        result.startedAt = Timestamp.formatUTC(milliseconds: startedMs)
        result.finishedAt = Timestamp.formatUTC(milliseconds: finishedMs)
        result.durationMs = max(0, finishedMs - startedMs)
        if let firstFailure {
            result.error = "step \"\(firstFailure.step)\" ended \(firstFailure.status.rawValue)"
        }
        return result
    }
}

/// What the coordinator is told, on the `warren.workflows` queue (docs/protocol.md).
public enum WorkflowEvent: Sendable, Equatable {
    /// A run begins: published by whoever starts it (schedule, `warren publish`, the API).
    case start(WorkflowRun)
    /// A step of run `run` has a final result in the store: published by the backend that stored it.
    case stepEnded(run: String, step: String)

    public var runID: String {
        switch self {
        case .start(let run): return run.id
        case .stepEnded(let run, _): return run
        }
    }

    public var body: Data {
        switch self {
        case .start(let run): return Data(JSONValue.object(["event": .string("start"), "run": run.json]).jsonText.utf8)
        case .stepEnded(let run, let step):
            return Data(JSONValue.object(["event": .string("step-ended"), "run": .string(run), "step": .string(step)]).jsonText.utf8)
        }
    }

    public static func decode(_ data: Data) throws(WorkflowFormatError) -> WorkflowEvent {
        guard case .object(let fields)? = try? JSONText.parse(data) else { throw WorkflowFormatError("a workflow event must be a JSON object") }
        switch fields["event"]?.stringValue {
        case "start"?:
            guard let run = fields["run"] else { throw WorkflowFormatError("a start event needs \"run\"") }
            return .start(try WorkflowRun(json: run))
        case "step-ended"?:
            guard let run = fields["run"]?.stringValue, let step = fields["step"]?.stringValue else {
                throw WorkflowFormatError("a step-ended event needs \"run\" and \"step\"")
            }
            return .stepEnded(run: run, step: step)
        default:
            throw WorkflowFormatError("\"event\" must be \"start\" or \"step-ended\"")
        }
    }
}

extension WorkflowRun {
    /// The task ids of every step, in declaration order.
    public var stepTaskIDs: [String] { definition.steps.map { WorkflowDefinition.stepTaskID(run: id, step: $0.name) } }

    /// Each step's state for display, in declaration order: its latest result's status, else
    /// `skipped` when recorded so, `queued` once published, `waiting` before.
    public func stepStates(latest results: [TaskResult]) -> [(step: WorkflowStep, state: String, result: TaskResult?)] {
        var byStep: [String: TaskResult] = [:]
        for result in results {
            if let step = WorkflowDefinition.stepName(taskID: result.id, run: id) { byStep[step] = result }
        }
        return definition.steps.map { step in
            let result = byStep[step.name]
            let state = result?.status.rawValue ?? (skipped.contains(step.name) ? "skipped" : published.contains(step.name) ? "queued" : "waiting")
            return (step, state, result)
        }
    }

    /// The run's graph as `warren results show --json` and the dashboard give it:
    /// `{name, run, status, steps: [{name, task, after, state, task_id, attempt, duration_ms}]}`.
    public func graphJSON(latest results: [TaskResult]) -> JSONValue {
        let steps = stepStates(latest: results).map { step, state, result -> JSONValue in
            .object(["name": .string(step.name), "task": .string(step.task), "after": .array(step.after.map(JSONValue.string)),
                     "state": .string(state), "task_id": .string(WorkflowDefinition.stepTaskID(run: id, step: step.name)),
                     "attempt": result.map { .integer(Int64($0.attempt)) } ?? .null,
                     "duration_ms": result?.durationMs.map(JSONValue.integer) ?? .null])
        }
        return .object(["name": .string(definition.name), "run": .string(id), "status": .string(state), "steps": .array(steps)])
    }

    /// The run's state for display: its final status, else `running`.
    public var state: String { status?.rawValue ?? "running" }
}
