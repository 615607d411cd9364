import Foundation
import Synchronization

/// A connection to RabbitMQ that survives broker restarts and network drops.
///
/// One I/O thread per connection does all socket work. Channels opened on it, the topology
/// declared through them and their consumers are restored automatically after a reconnection.
/// Use separate connections for heavy publishing and consuming, so flow control on one does not
/// slow the other.
public final class Connection: Sendable {
    let core: ConnectionCore
    private let channelNumbers = Mutex<Set<UInt16>>([])
    private let consumerCounter = Atomic<Int>(0)

    private init(core: ConnectionCore) {
        self.core = core
    }

    deinit {
        core.inbox.post(.close(completion: {}))
    }

    /// Connects, trying each endpoint once in order; throws `AMQPError` if none accepts.
    public static func open(_ configuration: ConnectionConfiguration) async throws -> Connection {
        let core = ConnectionCore(configuration: configuration)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            core.start { result in continuation.resume(with: result.mapError { $0 as Error }) }
        }
        return Connection(core: core)
    }

    /// Connects like `open`, but while no endpoint can be reached (refused, unreachable, timed
    /// out, or refused for now by the broker: a connection limit, a node shutting down) tries
    /// again after the reconnect policy's delays, until it connects or the calling task is
    /// cancelled (then `CancellationError`). Errors that waiting cannot fix (a bad URL, refused
    /// credentials or virtual host, TLS) are thrown at once. `retrying` hears each failure with
    /// its number (0 for the first) and the wait after it.
    public static func openWhenReachable(
        _ configuration: ConnectionConfiguration,
        retrying: @Sendable (_ error: AMQPError, _ failure: Int, _ wait: Duration) -> Void = { _, _, _ in }
    ) async throws -> Connection {
        var failures = 0
        while true {
            do {
                return try await open(configuration)
            } catch let error as AMQPError where error.mayClearByItself {
                let wait = configuration.reconnect.delay(attempt: failures)
                retrying(error, failures, wait)
                failures += 1
                try await Task.sleep(for: wait)
            }
        }
    }

    /// Connects to a comma-separated list of `amqp://` / `amqps://` URLs.
    public static func open(urls: String, connectionName: String = "warren") async throws -> Connection {
        try await open(ConnectionConfiguration(urls: urls, connectionName: connectionName))
    }

    /// Opens a channel. With `confirms` (the default) every publish on it waits for the
    /// broker's confirmation.
    public func openChannel(confirms: Bool = true) async throws -> Channel {
        let number = try channelNumbers.withLock { used throws(AMQPError) -> UInt16 in
            guard let free = (ConnectionCore.topologyChannel + 1...2047).first(where: { !used.contains($0) }) else {
                throw .channelClosed(code: 504, text: "no free channel number (2047 in use)")
            }
            used.insert(free)
            return free
        }
        do {
            _ = try await core.request { .openChannel(number, confirms: confirms, completion: $0) }
        } catch {
            releaseChannelNumber(number)
            throw error
        }
        return Channel(connection: self, number: number, confirms: confirms)
    }

    func releaseChannelNumber(_ number: UInt16) {
        _ = channelNumbers.withLock { $0.remove(number) }
    }

    func nextConsumerTag(channel: UInt16) -> String {
        let n = consumerCounter.wrappingAdd(1, ordering: .relaxed).newValue
        return "\(core.configuration.connectionName)-\(channel)-\(n)"
    }

    /// Closes the connection: consumers end, operations in flight fail with `closedByClient`.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if !core.inbox.post(.close(completion: { continuation.resume() })) { continuation.resume() }
        }
    }

    /// Connection state changes. A single stream: iterate it from one task.
    public var events: AsyncStream<ConnectionEvent> { core.events }

    /// True while a broker connection is up.
    public var isConnected: Bool { core.status.withLock { $0.connected } }

    /// True while the broker has blocked publishing (resource alarm).
    public var isBlocked: Bool { core.status.withLock { $0.blocked } }

    /// How many times the connection was re-established after a loss.
    public var reconnectCount: Int { core.status.withLock { $0.reconnects } }

    /// The endpoint of the current (or last) broker connection.
    public var endpoint: Endpoint? { core.status.withLock { $0.endpoint } }

    /// What the broker of the current (or last) connection said about itself, and the
    /// negotiated heartbeat and limits.
    public var serverInfo: ServerInfo? { core.status.withLock { $0.serverInfo } }

    /// Runs tasks on this connection's I/O thread (see `ConnectionExecutor`).
    public var executor: ConnectionExecutor { core.executor }

    /// The name the broker shows for this connection (`connection_name` client property).
    public var name: String { core.configuration.connectionName }
}

extension ConnectionCore {
    /// Posts a command built around a completion and waits for that completion.
    func request(_ make: (@escaping RPCCompletion) -> Command) async throws -> RPCReply {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RPCReply, Error>) in
            let command = make { result in continuation.resume(with: result.mapError { $0 as Error }) }
            if !inbox.post(command) { continuation.resume(throwing: AMQPError.closedByClient) }
        }
    }
}
