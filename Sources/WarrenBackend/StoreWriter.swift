import Logging
import ServiceLifecycle
import WarrenCore
import WarrenStore

/// Commits batches to the store, retrying with backoff while the store is unreachable or
/// refuses writes (disk full, read-only, server down). One error line when the store first
/// fails, one line when it is back; the results meanwhile stay unacknowledged in the broker.
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

    /// Commits `results`; false when shutdown began before the store took them (they are then
    /// left unacknowledged, and the broker hands them out again).
    mutating func write(_ results: [TaskResult]) async -> Bool {
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
                return true
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
            if Task.isShuttingDownGracefully || Task.isCancelled { return false }
        }
    }
}
