import RabbitMQ
import WarrenStore

/// Settings of `warren backend`.
public struct BackendConfiguration: Sendable {
    public var connection: ConnectionConfiguration
    public var store: StoreAddress
    /// The deployment's queue type: with quorum, `warren.results` and `warren.dead-letter` are
    /// declared as quorum queues (cluster mode).
    public var queueType: QueueType = .classic
    /// Most results written in one transaction.
    public var batchSize: Int = 500
    /// Longest a received result waits for its batch to fill before it is written.
    public var batchDelay: Duration = .milliseconds(20)
    /// Unacknowledged results the broker may hand over at once (`basic.qos`); at least a batch.
    public var prefetch: Int = 2000
    /// Results older than this are deleted; nil keeps everything.
    public var retain: Duration? = .seconds(30 * 86_400)
    /// How often retention runs.
    public var retentionInterval: Duration = .seconds(600)
    /// Rows deleted per transaction, so ingest never waits long behind retention.
    public var retentionChunk: Int = 5000
    /// Schedule files whose `alert_after` and `alert_failures` the backend evaluates; nil: none.
    public var schedulesDirectory: String?
    /// How often the schedules' health is evaluated.
    public var healthInterval: Duration = .seconds(5)
    /// First and longest wait between attempts to reach an unavailable store.
    public var retryBackoff: (first: Duration, longest: Duration) = (.milliseconds(200), .seconds(30))

    public init(connection: ConnectionConfiguration, store: StoreAddress) {
        self.connection = connection
        self.store = store
    }
}
