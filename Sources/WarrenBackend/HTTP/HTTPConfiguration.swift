import RabbitMQ
import WarrenMessaging

/// Settings of the backend's HTTP server (`--http`, `--api-token`, `--api-rate`).
public struct HTTPConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// When set, `POST /api/tasks` needs `Authorization: Bearer TOKEN`.
    public var apiToken: String?
    /// `POST /api/tasks` per client address: sustained requests per second and burst.
    public var rate: (perSecond: Double, burst: Int) = (10, 20)
    /// The connection `POST /api/tasks` publishes over.
    public var connection: ConnectionConfiguration
    /// How `POST /api/tasks` declares a missing task queue (the deployment's queue type); with
    /// quorum, a task with a priority is refused.
    public var queueOptions = TaskQueueOptions()
    /// Schedule files whose schedules the dashboard lists with their next fire.
    public var schedulesDirectory: String?
    /// Prometheus text for `GET /metrics`.
    public var metricsText: @Sendable () -> String

    public init(host: String, port: Int, connection: ConnectionConfiguration, metricsText: @escaping @Sendable () -> String) {
        self.host = host
        self.port = port
        self.connection = connection
        self.metricsText = metricsText
    }
}
