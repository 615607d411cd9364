import DequeModule
import Synchronization

/// Which schedules' last runs have no final result yet, for `overlap: skip | replace`. Final
/// results come from the results stream, possibly before the publish of the run is confirmed,
/// so recently finished task ids are remembered too.
final class RunTracker: Sendable {
    private struct State {
        var open: [String: OpenRun] = [:]
        var finished = Set<String>()
        var finishedOrder = Deque<String>()
        /// An open run finished since `takeClosedRuns` was last asked.
        var closedRuns = false
    }

    private let state = Mutex(State())
    /// How many finished task ids are remembered.
    private let memory: Int

    init(memory: Int = 100_000) {
        self.memory = memory
    }

    /// The open runs, as the progress record stores them.
    var openRuns: [String: OpenRun] { state.withLock { $0.open } }

    /// Starts over from the open runs of a progress record.
    func restore(_ runs: [String: OpenRun]) {
        state.withLock { state in
            state.open = runs.filter { !state.finished.contains($0.value.taskID) }
        }
    }

    /// The previous run of `schedule`, if it has no final result.
    func openRun(of schedule: String) -> OpenRun? {
        state.withLock { $0.open[schedule] }
    }

    /// A run of `schedule` was published.
    func opened(_ run: OpenRun, schedule: String) {
        state.withLock { state in
            if state.finished.contains(run.taskID) { state.open[schedule] = nil } else { state.open[schedule] = run }
        }
    }

    /// A final result for `taskID` arrived; true if it closed an open run.
    @discardableResult
    func finished(_ taskID: String, schedule: String?) -> Bool {
        state.withLock { state in
            var closed = false
            if let schedule, state.open[schedule]?.taskID == taskID {
                state.open[schedule] = nil
                state.closedRuns = true
                closed = true
            }
            if state.finished.insert(taskID).inserted {
                state.finishedOrder.append(taskID)
                if state.finishedOrder.count > memory, let oldest = state.finishedOrder.popFirst() {
                    state.finished.remove(oldest)
                }
            }
            return closed
        }
    }

    /// Whether an open run finished since the last call.
    func takeClosedRuns() -> Bool {
        state.withLock { state in
            defer { state.closedRuns = false }
            return state.closedRuns
        }
    }

    /// Forgets schedules no longer in force or no longer tracking overlap.
    func keep(only schedules: Set<String>) {
        state.withLock { state in
            for name in state.open.keys where !schedules.contains(name) { state.open[name] = nil }
        }
    }
}
