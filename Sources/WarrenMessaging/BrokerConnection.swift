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
}
