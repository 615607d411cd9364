import RabbitMQ
import WarrenCore

/// Warren's own settings, as its services would read them from flags and the environment.
public struct WarrenSettings: Sendable {
    /// The brokers the services connect to (`--amqp-url` / `WARREN_AMQP_URL`).
    public var endpoints: [Endpoint]
    /// `--heartbeat` / `WARREN_HEARTBEAT`; zero turns heartbeats off.
    public var heartbeat: Duration
    /// The queues the worker consumes.
    public var queues: [String]
    public var concurrency: Int
    public var prefetch: Int
    public var queueType: QueueType
    /// The worker's `--max-payload`, in bytes.
    public var maxPayload: Int
    /// The worker's catalog (`--tasks` / `WARREN_TASKS`) and where it came from; nil when none was given.
    public var catalog: TaskCatalog?
    public var catalogPath: String?
    /// The schedules (`--schedules` / `WARREN_SCHEDULES`); empty when none were given.
    public var schedules: [ScheduleDefinition]
    public var schedulesPath: String?
    /// The workflows the schedule files declare, by name.
    public var workflows: [String: WorkflowDefinition] = [:]

    public init(endpoints: [Endpoint], heartbeat: Duration = .seconds(10), queues: [String] = [WireNames.defaultQueue],
                concurrency: Int = 4, prefetch: Int = 16, queueType: QueueType = .classic, maxPayload: Int = 1 << 20,
                catalog: TaskCatalog? = nil, catalogPath: String? = nil,
                schedules: [ScheduleDefinition] = [], schedulesPath: String? = nil) {
        self.endpoints = endpoints
        self.heartbeat = heartbeat
        self.queues = queues
        self.concurrency = concurrency
        self.prefetch = prefetch
        self.queueType = queueType
        self.maxPayload = maxPayload
        self.catalog = catalog
        self.catalogPath = catalogPath
        self.schedules = schedules
        self.schedulesPath = schedulesPath
    }

    /// Every queue the settings name: the worker's, then the schedules'.
    public var namedQueues: [String] {
        var seen = Set<String>()
        return (queues + schedules.map(\.queue)).filter { seen.insert($0).inserted }
    }
}

/// A broker setting and where its value came from.
public struct BrokerSetting<Value: Sendable>: Sendable {
    public enum Source: Sendable, Equatable {
        /// Read from the running broker (rabbitmqctl).
        case read
        /// Given by the operator (a doctor flag).
        case given
        /// Not readable: the default of the broker's version, assumed.
        case assumed
    }

    public var value: Value
    public var source: Source

    public init(_ value: Value, source: Source) {
        self.value = value
        self.source = source
    }

    /// How the value is described after it in messages.
    public var sourceText: String {
        switch source {
        case .read: return "read from the broker"
        case .given: return "as given with --consumer-timeout"
        case .assumed: return "assumed: the broker's default; give --rabbitmqctl to read the real value"
        }
    }
}

/// What doctor learnt about one queue on the broker.
public struct QueueFacts: Sendable, Hashable {
    public var exists: Bool
    public var messages: Int
    public var consumers: Int
    /// The broker's refusal when the queue exists with other arguments than Warren would declare it with.
    public var inequivalence: String?
    /// Whether a task queue has priorities (`x-max-priority`, any number); nil when not known.
    public var priorities: Bool?

    public init(exists: Bool, messages: Int = 0, consumers: Int = 0, inequivalence: String? = nil, priorities: Bool? = nil) {
        self.exists = exists
        self.messages = messages
        self.consumers = consumers
        self.inequivalence = inequivalence
        self.priorities = priorities
    }
}

/// What doctor learnt from the broker.
public struct BrokerFacts: Sendable {
    /// What the broker said when the connection opened, with the negotiated heartbeat.
    public var server: ServerInfo
    /// The broker's `consumer_timeout`; a nil value means it is off.
    public var consumerTimeout: BrokerSetting<Duration?>
    /// The broker's `max_message_size` in bytes, when read.
    public var maxMessageSize: Int?
    /// Resource alarms in force (memory, disk), when read.
    public var alarms: [String]?
    /// Queues by name: Warren's own and those the settings name.
    public var queues: [String: QueueFacts]

    public init(server: ServerInfo, consumerTimeout: BrokerSetting<Duration?>, maxMessageSize: Int? = nil,
                alarms: [String]? = nil, queues: [String: QueueFacts] = [:]) {
        self.server = server
        self.consumerTimeout = consumerTimeout
        self.maxMessageSize = maxMessageSize
        self.alarms = alarms
        self.queues = queues
    }

    /// RabbitMQ's `consumer_timeout` when nothing sets it: 30 minutes from 3.8.17 (15 in
    /// 3.8.15–3.8.16, none before).
    public static func defaultConsumerTimeout(for server: ServerInfo) -> Duration? {
        if server.versionIsAtLeast(3, 8, 17) || server.versionNumbers.isEmpty { return .seconds(1800) }
        if server.versionIsAtLeast(3, 8, 15) { return .seconds(900) }
        return nil
    }
}
