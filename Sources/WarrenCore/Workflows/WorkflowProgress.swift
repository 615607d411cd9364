/// What a workflow run does next, decided from what is known of it (pure; the backend's
/// coordinator carries it out, docs/workflows.md).
public struct WorkflowProgress: Sendable, Equatable {
    /// Steps to publish now: every step they follow has ended as `on_failure` requires, and none
    /// was published before.
    public var publish: [String] = []
    /// Steps that will never run, with why: each gets a `skipped` result.
    public var skip: [(step: String, reason: String)] = []
    /// The run's final status once every step has ended (run or skipped); nil while some has not.
    public var final: ResultStatus?
    /// For a run that did not succeed: the first step (in run order) that did not, and how it ended.
    public var firstFailure: (step: String, status: ResultStatus)?

    public init() {}

    public static func == (lhs: WorkflowProgress, rhs: WorkflowProgress) -> Bool {
        lhs.publish == rhs.publish && lhs.skip.map(\.step) == rhs.skip.map(\.step) && lhs.skip.map(\.reason) == rhs.skip.map(\.reason)
            && lhs.final == rhs.final && lhs.firstFailure?.step == rhs.firstFailure?.step && lhs.firstFailure?.status == rhs.firstFailure?.status
    }

    /// Decides from `ended`, the final status of each step that has one (a `skipped` result
    /// included), and `published`, the steps already published.
    public static func decide(_ definition: WorkflowDefinition, ended: [String: ResultStatus], published: Set<String>) -> WorkflowProgress {
        var progress = WorkflowProgress()
        guard let order = definition.topologicalOrder else { return progress }
        var state = ended
        for step in order where state[step.name] == nil {
            let before = step.after.map { ($0, state[$0]) }
            if definition.onFailure == .stop, let (failed, status) = before.first(where: { $0.1 != nil && $0.1 != .succeeded }) {
                let reason = status == .skipped ? "after \"\(failed)\", which was skipped" : "after \"\(failed)\", which ended \(status!.rawValue)"
                progress.skip.append((step.name, reason))
                state[step.name] = .skipped
                continue
            }
            if before.allSatisfy({ $0.1 != nil }), !published.contains(step.name) {
                progress.publish.append(step.name)
            }
        }
        if order.allSatisfy({ state[$0.name] != nil }) {
            let failure = order.first { state[$0.name] != .succeeded && state[$0.name] != .skipped }
                ?? order.first { state[$0.name] != .succeeded }
            if let failure {
                let status = state[failure.name]!
                progress.firstFailure = (failure.name, status)
                progress.final = order.contains { state[$0.name]!.isFailure } ? .failed : (status == .cancelled ? .cancelled : .failed)
            } else {
                progress.final = .succeeded
            }
        }
        return progress
    }
}
