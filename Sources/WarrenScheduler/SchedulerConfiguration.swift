import Foundation
import Logging
import RabbitMQ
import WarrenCore
import WarrenMessaging

/// How a `Scheduler` runs. Plain values with defaults.
public struct SchedulerConfiguration: Sendable {
    /// The broker. Automatic reconnection is switched off: a lost connection ends the instance's
    /// turn as the active one, and it contends again on a new connection.
    public var connection: ConnectionConfiguration
    /// The schedule directory (`--schedules`).
    public var schedulesDirectory: String
    /// This instance's name in logs, `warren status` and the progress record.
    public var instance: String
    /// How often a standby tries to take the lock.
    public var standbyRetry: Duration = .seconds(1)
    /// Reload when files under the directory change (SIGHUP always reloads).
    public var watchFiles = true
    /// The deployment's queue type, for the queues the scheduler declares (it declares only
    /// missing task queues); with quorum, schedules that set a priority are rejected.
    public var queueOptions = TaskQueueOptions()
    /// The workers' task catalog, read for each task's `queue:`: a schedule that names no queue
    /// goes there (empty: `default`).
    public var catalog = TaskCatalog()
    public var clock: any SchedulerClock = SystemClock()
    /// With a tracer, each fire is a span (`fire SCHEDULE`, the root of the run's trace).
    public var tracing = TaskTracing()
    public var logger: Logger
    /// What `/readyz` reports: ready while connected and holding or contending for leadership.
    public var readiness = Readiness()

    public init(connection: ConnectionConfiguration, schedulesDirectory: String, instance: String? = nil,
                logger: Logger = Logger(label: "warren.scheduler")) {
        self.connection = connection
        self.schedulesDirectory = schedulesDirectory
        self.instance = instance ?? "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
        self.logger = logger
    }
}
