import Logging
import ServiceLifecycle
import WarrenCore
import WarrenStore

/// Commits batches to the store, retrying with backoff while the store is unreachable or
/// refuses writes (disk full, read-only, server down). One error line when the store first
/// fails, one line when it is back; the results meanwhile stay unacknowledged in the broker. A
/// result the store refuses as data (not an outage) is singled out and handed back.
struct StoreWriter {
    let store: any ResultStore
    let backoff: (first: Duration, longest: Duration)
    let logger: Logger
    let metrics: BackendMetrics
    private var failingSince: ContinuousClock.Instant?

    init(store: any ResultStore, backoff: (first: Duration, longest: Duration), logger: Logger, metrics: BackendMetrics) {
        self.store = store
        self.backoff = backoff
        self.logger = logger
        self.metrics = metrics
    }

    /// What became of a batch.
    enum Outcome: Equatable {
        /// Committed, but for the results the store refuses outright, by index, with why.
        case stored(refused: [Int: String])
        /// Shutdown began before the store took them (they are left unacknowledged, and the
        /// broker hands them out again).
        case interrupted
    }

    /// Commits `results`. An outage is waited out with backoff; a result the store refuses
    /// (`ResultStoreError.refusesData`) is found by halving the batch until it stands alone,
    /// and only it is left out, so one bad result never blocks the ones behind it.
    mutating func write(_ results: [TaskResult]) async -> Outcome {
        var refused: [Int: String] = [:]
        var ranges = [0..<results.count]
        while let range = ranges.popLast() {
            switch await writeWaitingOutOutages(Array(results[range])) {
            case .committed:
                continue
            case .interrupted:
                return .interrupted
            case .refused(let reason):
                if range.count == 1 {
                    refused[range.lowerBound] = reason
                    logger.error("result store refuses result \(results[range.lowerBound].id) attempt \(results[range.lowerBound].attempt): \(reason); dead-lettering it")
                } else {
                    let middle = range.lowerBound + range.count / 2
                    ranges.append(middle..<range.upperBound)
                    ranges.append(range.lowerBound..<middle)
                }
            }
        }
        return .stored(refused: refused)
    }

    private enum Attempt { case committed, interrupted, refused(String) }

    private mutating func writeWaitingOutOutages(_ results: [TaskResult]) async -> Attempt {
        var backoff = Backoff(first: backoff.first, longest: backoff.longest)
        while true {
            let start = ContinuousClock.now
            do {
                try await store.store(results)
                let elapsed = ContinuousClock.now - start
                metrics.committed(results: results.count, nanoseconds: elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
                if let since = failingSince {
                    failingSince = nil
                    metrics.setStoreAvailable(true)
                    logger.notice("result store available again; ingest resumed", metadata: ["unavailable_for": "\(ContinuousClock.now - since)"])
                }
                return .committed
            } catch let error as ResultStoreError where error.refusesData {
                return .refused(error.description)
            } catch {
                metrics.storeFailed()
                if failingSince == nil {
                    failingSince = ContinuousClock.now
                    metrics.setStoreAvailable(false)
                    logger.error("result store unavailable: \(error); results stay unacknowledged in the broker; retrying with backoff up to \(self.backoff.longest)")
                } else {
                    logger.debug("result store still unavailable: \(error)")
                }
            }
            let wait = backoff.step()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            if Task.isShuttingDownGracefully || Task.isCancelled { return .interrupted }
        }
    }
}
