import RabbitMQ
import WarrenCore
import WarrenMessaging

/// The HTTP server's use of the broker, over a connection opened on first use (and re-opened by
/// the client after a loss): publishing the tasks `POST /api/tasks` accepts, with confirms, and
/// reading queue depths for the dashboard.
actor TaskSubmitter {
    private let configuration: ConnectionConfiguration
    private let queueOptions: TaskQueueOptions
    private var opening: Task<(Connection, Channel), any Error>?
    private var declared: Set<String> = []

    init(configuration: ConnectionConfiguration, queueOptions: TaskQueueOptions) {
        self.queueOptions = queueOptions
        var configuration = configuration
        configuration.connectionName = "warren-backend-api"
        self.configuration = configuration
    }

    /// Publishes the validated message; returns once the broker confirmed it.
    func submit(_ message: TaskMessage, delay: Duration) async throws {
        let (connection, channel) = try await open()
        if !declared.contains(message.queue) {
            try await TaskPublisher.ensureQueue(message.queue, options: queueOptions, priority: message.priority, on: connection)
            declared.insert(message.queue)
        }
        let outgoing = message.outgoing(delay: delay)
        try await channel.publish(outgoing.body, exchange: outgoing.exchange, routingKey: outgoing.routingKey,
                                  properties: outgoing.properties, mandatory: outgoing.mandatory)
    }

    /// Ready messages and consumers of each queue (nil for a queue that does not exist).
    func inspect(_ queues: [String]) async throws -> [(name: String, state: QueueState?)] {
        let (connection, _) = try await open()
        let channel = try await connection.openChannel(confirms: false)
        var states: [(name: String, state: QueueState?)] = []
        for queue in queues { states.append((queue, try? await channel.inspectQueue(queue))) }
        try? await channel.close()
        return states
    }

    /// The connection, for the schedule operations (`TaskClient`, `Inspector`).
    func connection() async throws -> Connection {
        try await open().0
    }

    private func open() async throws -> (Connection, Channel) {
        if let opening, let opened = try? await opening.value { return opened }
        let configuration = self.configuration
        let task = Task { () async throws -> (Connection, Channel) in
            let connection = try await Connection.open(configuration)
            return (connection, try await connection.openChannel(confirms: true))
        }
        opening = task
        do {
            return try await task.value
        } catch {
            opening = nil
            throw error
        }
    }

    func close() async {
        if let opening, let (connection, _) = try? await opening.value { await connection.close() }
    }
}
