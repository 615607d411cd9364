import Foundation
import Logging
import RabbitMQ
import ServiceLifecycle
import WarrenCore
import WarrenMessaging
import WarrenStore

/// `warren backend` as a service: consumes `warren.results` with manual acks, commits results
/// to the store in batches (bounded size and delay) and acks each batch only after its commit.
/// A result that cannot be read is dead-lettered with the reason; retention runs beside ingest.
public struct Backend: Service {
    let configuration: BackendConfiguration
    let logger: Logger
    let state: BackendState
    private let metrics: BackendMetrics

    /// `state` is shared with the HTTP server: the open store, store and broker health.
    public init(configuration: BackendConfiguration, state: BackendState = BackendState(), logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.state = state
        metrics = BackendMetrics(state: state)
    }

    public func run() async throws {
        guard let store = try await openStore() else { return }
        defer { state.opened(nil) }
        var connectionConfiguration = configuration.connection
        connectionConfiguration.connectionName = "warren-backend"
        var backoff = Backoff(first: .milliseconds(100), longest: .seconds(5))
        while true {
            let connection: Connection
            do {
                // A broker not reachable yet is waited for, like the store; shutdown meanwhile ends it.
                guard let opened = try await BrokerConnection.open(connectionConfiguration, logger: logger) else {
                    await store.close()
                    return
                }
                connection = opened
            } catch {
                await store.close()
                throw error
            }
            metrics.setConnected(true)
            let started: Subscription
            do {
                started = try await subscribe(on: connection)
            } catch where BrokerConnection.isRetryableAtStart(error) && !Task.isShuttingDownGracefully && !Task.isCancelled {
                // Lost or refused for a moment while declaring and subscribing (a 541, a queue
                // not ready on this node yet): nothing has been taken, so start again.
                let wait = backoff.step()
                logger.warning("the broker failed the start; starting again", metadata: ["error": "\(error)", "in": "\(wait)"])
                await connection.close()
                metrics.setConnected(false)
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
                continue
            } catch {
                await connection.close()
                await store.close()
                throw error
            }
            do {
                try await serve(connection: connection, subscription: started, store: store)
            } catch {
                await connection.close()
                await store.close()
                throw error
            }
            await connection.close()
            await store.close()
            return
        }
    }

    /// Opens the store, retrying while it is unreachable; nil when shutdown came first.
    private func openStore() async throws -> (any ResultStore)? {
        var backoff = Backoff(first: configuration.retryBackoff.first, longest: configuration.retryBackoff.longest)
        var reported = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let store = try await ResultStores.openForWriting(configuration.store, logger: logger)
                let version = try await store.schemaVersion()
                logger.info("result store open", metadata: ["store": "\(configuration.store)", "schema_version": "\(version)"])
                metrics.setStoreAvailable(true)
                state.opened(store)
                return store
            } catch {
                metrics.setStoreAvailable(false)
                if !reported {
                    logger.error("result store unavailable: \(error); retrying with backoff up to \(configuration.retryBackoff.longest)")
                    reported = true
                }
            }
            let wait = backoff.step()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
        }
        return nil
    }

    /// The channels of a started backend: where results come from and where the unstorable go.
    private struct Subscription {
        let consumer: Consumer
        /// Confirmed publishes: dead letters, workflow step events.
        let publishing: Channel
    }

    /// The start: declares the topology and subscribes to `warren.results`.
    private func subscribe(on connection: Connection) async throws -> Subscription {
        let setup = try await connection.openChannel(confirms: false)
        try await WarrenTopology.declareShared(on: setup, queueType: configuration.queueType)
        try? await setup.close()
        let publishing = try await connection.openChannel(confirms: true)
        let channel = try await connection.openChannel(confirms: false)
        try await channel.setPrefetch(UInt16(clamping: max(configuration.prefetch, configuration.batchSize)))
        return Subscription(consumer: try await channel.consume(queue: WireNames.resultsQueue), publishing: publishing)
    }

    private func serve(connection: Connection, subscription: Subscription, store: any ResultStore) async throws {
        let metrics = self.metrics
        let (consumer, publishing) = (subscription.consumer, subscription.publishing)
        state.setConsuming(true)
        defer { state.setConsuming(false) }
        logger.info("backend consuming", metadata: ["queue": "\(WireNames.resultsQueue)", "store": "\(configuration.store)",
                                                    "batch_size": "\(configuration.batchSize)", "batch_delay": "\(configuration.batchDelay)"])
        var ingest = ResultIngest(configuration: configuration, publishing: publishing, logger: logger, metrics: metrics,
                                  writer: StoreWriter(store: store, backoff: configuration.retryBackoff, logger: logger, metrics: metrics))
        let retention = configuration.retain.map {
            Retention(store: store, retain: $0, interval: configuration.retentionInterval, chunk: configuration.retentionChunk,
                      logger: logger, metrics: metrics)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in connection.events {
                    switch event {
                    case .connected: metrics.setConnected(true)
                    case .disconnected: metrics.setConnected(false)
                    default: break
                    }
                }
            }
            if let retention { group.addTask { await retention.run() } }
            let coordinator = WorkflowCoordinator(store: store, connection: connection, queueType: configuration.queueType, logger: logger)
            group.addTask { await coordinator.run() }
            if let directory = configuration.schedulesDirectory {
                let watch = ScheduleWatch(store: store, schedules: ScheduleCache(directory: directory), interval: configuration.healthInterval,
                                          state: state, logger: logger)
                group.addTask { await watch.run() }
            }
            try await withGracefulShutdownHandler {
                try await ingest.run(consumer)
            } onGracefulShutdown: {
                Task { try? await consumer.cancel() }
            }
            group.cancelAll()
        }
        logger.info("backend stopped")
    }
}
