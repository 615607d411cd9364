import CoreMetrics

/// The backend's metrics through swift-metrics (`warren backend --metrics`, `GET /metrics`); the
/// two health gauges are mirrored in `BackendState` for `GET /healthz`.
final class BackendMetrics: Sendable {
    private let state: BackendState

    init(state: BackendState) {
        self.state = state
    }

    private let stored = Counter(label: "warren_backend_results_stored_total")
    private let batches = Counter(label: "warren_backend_batches_total")
    private let batchSize = Recorder(label: "warren_backend_batch_size")
    private let commit = Timer(label: "warren_backend_commit_seconds")
    private let storeErrors = Counter(label: "warren_backend_store_errors_total")
    private let storeAvailable = Gauge(label: "warren_backend_store_available")
    private let deadLettered = Counter(label: "warren_backend_results_dead_lettered_total")
    private let retentionDeleted = Counter(label: "warren_backend_retention_deleted_total")
    private let connected = Gauge(label: "warren_broker_connected")

    func committed(results: Int, nanoseconds: Int64) {
        stored.increment(by: results)
        batches.increment()
        batchSize.record(results)
        commit.recordNanoseconds(nanoseconds)
    }

    func storeFailed() { storeErrors.increment() }
    func setStoreAvailable(_ available: Bool) {
        storeAvailable.record(available ? 1 : 0)
        state.setStoreAvailable(available)
    }
    func deadLettered(_ count: Int) { if count > 0 { deadLettered.increment(by: count) } }
    func retained(deleted: Int) { if deleted > 0 { retentionDeleted.increment(by: deleted) } }
    func setConnected(_ isConnected: Bool) {
        connected.record(isConnected ? 1 : 0)
        state.setBrokerConnected(isConnected)
    }
}
