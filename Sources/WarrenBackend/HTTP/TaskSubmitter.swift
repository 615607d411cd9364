import RabbitMQ
import WarrenCore
import WarrenMessaging

/// Publishes the tasks `POST /api/tasks` accepts, with confirms, over a connection opened on
/// first use (and re-opened by the client after a loss).
actor TaskSubmitter {
    private let configuration: ConnectionConfiguration
    private var opening: Task<(Connection, Channel), any Error>?
    private var declared: Set<String> = []

    init(configuration: ConnectionConfiguration) {
        var configuration = configuration
        configuration.connectionName = "warren-backend-api"
        self.configuration = configuration
    }

    /// Publishes the validated message; returns once the broker confirmed it.
    func submit(_ message: TaskMessage, delay: Duration) async throws {
        let (connection, channel) = try await open()
        if !declared.contains(message.queue) {
            try await TaskPublisher.ensureQueue(message.queue, on: connection)
            declared.insert(message.queue)
        }
        let outgoing = message.outgoing(delay: delay)
        try await channel.publish(outgoing.body, exchange: outgoing.exchange, routingKey: outgoing.routingKey,
                                  properties: outgoing.properties, mandatory: outgoing.mandatory)
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
