import Logging
import RabbitMQ
import ServiceLifecycle

/// How Warren's services connect at start: a broker that cannot be reached yet (not started,
/// restarting, the network) is waited for, with one log line, instead of ending the process.
public enum BrokerConnection {
    /// Connects with `settings`, trying again with the reconnect policy's backoff while the broker
    /// cannot be reached. Returns nil when a graceful shutdown (or cancellation) comes first.
    /// Throws at once what waiting cannot fix: a bad URL, refused credentials or virtual host, TLS.
    public static func open(_ settings: ConnectionConfiguration, logger: Logger) async throws -> Connection? {
        do {
            return try await cancelWhenGracefulShutdown {
                try await Connection.openWhenReachable(settings) { error, failure, _ in
                    guard failure == 0 else { return }
                    logger.warning("broker unreachable; trying again until it answers (up to every \(settings.reconnect.maximumDelay))",
                                   metadata: ["connection": "\(settings.connectionName)", "error": "\(error)"])
                }
            }
        } catch is CancellationError {
            return nil
        }
    }

    /// Whether a failure while a service starts (declaring its topology, subscribing) clears by
    /// itself, so the service starts again on a new connection with backoff instead of exiting:
    /// the connection dropped or was closed under it (whatever the broker's reply code: a 541
    /// INTERNAL_ERROR or 320 CONNECTION_FORCED reaches operations in flight as `connectionLost`),
    /// a timeout, a channel closed with 541 INTERNAL_ERROR, or a queue just declared whose replica
    /// is not running yet (`AMQPError.isBrokerNotReadyYet`). False for what needs someone to act:
    /// refused permissions, a queue redeclared with different arguments, a bad name.
    public static func isRetryableAtStart(_ error: any Error) -> Bool {
        guard let error = error as? AMQPError else { return false }
        return error.mayClearByItself || error.isBrokerNotReadyYet || error.replyCode == 541
    }
}
