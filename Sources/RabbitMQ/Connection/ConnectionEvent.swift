/// Changes in a connection's state, for logs, metrics and status displays.
public enum ConnectionEvent: Sendable, Equatable {
    /// Connected (or reconnected) to this endpoint; recorded topology and consumers are restored.
    case connected(Endpoint)
    /// The connection was lost; the client reconnects with backoff if its policy allows.
    case disconnected(AMQPError)
    /// The broker stopped accepting publishes (memory or disk alarm); publishes wait.
    case blocked(reason: String)
    case unblocked
}
