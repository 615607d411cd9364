import RabbitMQ

/// A short-lived connection of its own for Warren's auxiliary streams (worker announcements,
/// the queue registry). RabbitMQ 3.10 ends a whole connection (541 INTERNAL_ERROR,
/// `stream_not_found`) when a stream is consumed just after another client created it, so that
/// reading never shares a connection with work that matters: the worst it can do is fail itself.
public enum SideConnection {
    /// Opens a connection named `name` (no reconnection), runs `body`, closes it; nil when the
    /// broker cannot be reached or `body` fails.
    public static func with<T: Sendable>(_ configuration: ConnectionConfiguration, name: String,
                                         _ body: (Connection) async throws -> T) async -> T? {
        var settings = configuration
        settings.connectionName = name
        settings.reconnect.enabled = false
        guard let connection = try? await Connection.open(settings) else { return nil }
        let value = try? await body(connection)
        await connection.close()
        return value
    }

    /// Whether `stream` exists (a passive declare on a channel of its own): readers never
    /// create Warren's auxiliary streams, the workers do.
    static func exists(_ stream: String, on connection: Connection) async throws -> Bool {
        let channel = try await connection.openChannel(confirms: false)
        defer { Task { try? await channel.close() } }
        do {
            _ = try await channel.inspectQueue(stream)
            return true
        } catch let error as AMQPError where error.replyCode == 404 {
            return false
        }
    }
}
