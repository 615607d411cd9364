import RabbitMQ
import WarrenCore
import WarrenMessaging

/// The HTTP server's use of the broker, over a connection opened on first use (and re-opened by
/// the client after a loss): publishing the tasks `POST /api/tasks` accepts through a
/// `TaskClient`, and reading queue depths for the dashboard through an `Inspector`.
actor TaskSubmitter {
    /// The broker settings (also for reads on connections of their own, `SideConnection`).
    let configuration: ConnectionConfiguration
    private let queueOptions: TaskQueueOptions
    private let tracing: TaskTracing
    private var opening: Task<(Connection, TaskClient), any Error>?

    init(configuration: ConnectionConfiguration, queueOptions: TaskQueueOptions, tracing: TaskTracing) {
        self.queueOptions = queueOptions
        self.tracing = tracing
        var configuration = configuration
        configuration.connectionName = "warren-backend-api"
        self.configuration = configuration
    }

    /// Publishes the validated message; returns once the broker confirmed it.
    func submit(_ message: TaskMessage, delay: Duration) async throws {
        try await open().1.publish(message, delay: delay)
    }

    /// Starts a workflow run; returns once the broker confirmed its start event.
    func startWorkflow(_ run: WorkflowRun) async throws {
        try await open().1.startWorkflow(run)
    }

    /// Ready messages and consumers of each queue (nil for a queue that does not exist).
    func inspect(_ queues: [String]) async throws -> [(name: String, state: QueueState?)] {
        try await Inspector(connection: open().0).queues(queues)
    }

    /// The connection, for the schedule operations (`TaskClient`, `Inspector`).
    func connection() async throws -> Connection {
        try await open().0
    }

    private func open() async throws -> (Connection, TaskClient) {
        if let opening, let opened = try? await opening.value { return opened }
        let (configuration, queueOptions, tracing) = (self.configuration, self.queueOptions, self.tracing)
        let task = Task { () async throws -> (Connection, TaskClient) in
            let connection = try await Connection.open(configuration)
            return (connection, TaskClient(connection: connection, queueOptions: queueOptions, actor: "api", tracing: tracing))
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
