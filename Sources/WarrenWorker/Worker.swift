import Foundation
import Logging
import RabbitMQ
import ServiceLifecycle
import Synchronization
import WarrenCore
import WarrenMessaging

/// `warren worker` as a service: declares its queues, consumes them with manual acks and the
/// configured prefetch, runs up to `concurrency` tasks at once, and on graceful shutdown stops
/// taking work, lets running tasks finish within `grace`, and returns the rest to the queue.
public final class Worker: Service, Sendable {
    public let configuration: WorkerConfiguration
    /// The catalog in force: `configuration.catalog`, then each good version of its file.
    let catalog: CatalogSource

    public init(configuration: WorkerConfiguration) {
        self.configuration = configuration
        catalog = CatalogSource(configured: configuration.catalog, file: configuration.catalogFile)
    }

    /// Reads the catalog file again (SIGHUP, a change to the file): new and changed tasks apply
    /// to deliveries from now on, running tasks are unaffected; a file that fails to load keeps
    /// the last good catalog, logged.
    public func reloadCatalog() {
        let logger = configuration.logger
        do {
            guard let changes = try catalog.reload() else { return }
            logger.notice("task catalog reloaded", metadata: [
                "file": "\(catalog.file ?? "-")", "tasks": "\(changes.count)", "added": "\(changes.added)",
                "changed": "\(changes.changed)", "removed": "\(changes.removed)",
            ])
        } catch {
            for problem in error.errors { logger.error("\(problem.description)") }
            logger.error("task catalog rejected; the last good version stays in force", metadata: ["file": "\(catalog.file ?? "-")"])
        }
    }

    public func run() async throws {
        let logger = configuration.logger
        var fileWatcher: DirectoryWatcher?
        if let file = configuration.catalogFile, configuration.watchCatalog {
            let directory = (file as NSString).deletingLastPathComponent
            let watcher = DirectoryWatcher(directory: directory.isEmpty ? "." : directory, threadName: "warren-catalog-watcher",
                                           recursive: false) { [weak self] in
                self?.reloadCatalog()
            }
            if watcher.start() {
                fileWatcher = watcher
            } else {
                logger.warning("cannot watch the task catalog for changes; send SIGHUP to reload", metadata: ["file": "\(file)"])
            }
        }
        defer { fileWatcher?.stop() }
        var consumeSettings = configuration.connection
        consumeSettings.connectionName = "warren-worker-consume"
        var publishSettings = configuration.connection
        publishSettings.connectionName = "warren-worker-publish"
        var retryDelay = Duration.milliseconds(100)
        while true {
            // A broker not reachable yet is waited for; shutdown meanwhile ends the worker.
            guard let consumeConnection = try await BrokerConnection.open(consumeSettings, logger: logger) else { return }
            let publishConnection: Connection
            do {
                guard let opened = try await BrokerConnection.open(publishSettings, logger: logger) else {
                    await consumeConnection.close()
                    return
                }
                publishConnection = opened
            } catch {
                await consumeConnection.close()
                throw error
            }
            let readiness = configuration.readiness
            let watcher = Task { await BrokerConnectionGauge.watch([consumeConnection, publishConnection], readiness: readiness) }
            defer { watcher.cancel() }
            do {
                try await work(consumeConnection: consumeConnection, publishConnection: publishConnection, logger: logger)
            } catch let error as AMQPError where BrokerConnection.isRetryableAtStart(error)
                && !Task.isShuttingDownGracefully && !Task.isCancelled {
                // Lost while declaring and subscribing, or a queue just declared (the
                // cancellation stream, a quorum queue) not ready on this node yet: nothing has
                // been taken, so start again on fresh connections rather than exit.
                let what = error.isBrokerNotReadyYet ? "the broker is not ready yet" : "lost the broker while starting"
                logger.warning("\(what); starting again", metadata: ["error": "\(error)", "in": "\(retryDelay)"])
                await consumeConnection.close()
                await publishConnection.close()
                try await Task.sleep(for: retryDelay)
                retryDelay = min(retryDelay * 2, .seconds(5))
                continue
            } catch {
                await consumeConnection.close()
                await publishConnection.close()
                throw error
            }
            // Closing returns every unacked delivery to its queue.
            await consumeConnection.close()
            await publishConnection.close()
            logger.info("worker stopped")
            return
        }
    }

    private func work(consumeConnection: Connection, publishConnection: Connection, logger: Logger) async throws {
        let setup = try await publishConnection.openChannel(confirms: false)
        try await WarrenTopology.declareShared(on: setup, queueType: configuration.queueOptions.type)
        for queue in configuration.queues {
            if try await WarrenTopology.declareTaskQueue(queue, options: configuration.queueOptions, on: setup) == .existingPriorities {
                logger.notice("queue has priorities 0-9 from an earlier declaration; it is used as it is (run with --max-priority 9 to say so, or see docs/operations.md, \"Changing a task queue's arguments\", to drop them)",
                              metadata: ["queue": "\(queue)"])
            }
        }
        try await setup.close()
        let publisher = try await publishConnection.openChannel(confirms: true)
        // Cancellations first: a task cancelled before this worker started must never run here.
        let cancellations = CancellationRegistry()
        let cancellationChannel = try await consumeConnection.openChannel(confirms: false)
        let cancellationReading = try await CancellationReader.start(channel: cancellationChannel, publisher: publisher,
                                                                     registry: cancellations, logger: logger)
        defer { cancellationReading.cancel() }
        let channel = try await consumeConnection.openChannel(confirms: false)
        try await channel.setPrefetch(UInt16(clamping: configuration.prefetch))
        let consumers = CurrentConsumers()
        for queue in configuration.queues {
            consumers.set(try await channel.consume(queue: queue))
        }
        // Delayed tasks whose delay is over, to forward to their queues (DueForwarder).
        let dueChannel = try await consumeConnection.openChannel(confirms: false)
        try await dueChannel.setPrefetch(64)
        consumers.set(try await dueChannel.consume(queue: DelayChain.dueQueue))
        let metrics = WorkerMetrics()
        let ledger = RunLedger<Delivery>()
        let settler = ResultSettler(publisher: publisher, ledger: ledger, metrics: metrics, logger: logger)
        let processor = TaskProcessor(catalog: catalog, reapTasks: configuration.reapTasks, maxPayload: configuration.maxPayload,
                                      workerName: configuration.workerName, settler: settler, ledger: ledger,
                                      cancellations: cancellations, metrics: metrics, tracing: configuration.tracing, logger: logger)
        let limiter = ConcurrencyLimiter(limit: configuration.autoscale?.lowerBound ?? configuration.concurrency)
        metrics.concurrencyLimit(limiter.snapshot.limit)
        let autoscaling = configuration.autoscale.map { range in
            Task { await Autoscaler(minimum: range.lowerBound, maximum: range.upperBound).run(limiter, metrics: metrics, logger: logger) }
        }
        defer { autoscaling?.cancel() }
        let announcer = configuration.announceInterval.map { interval in
            WorkerAnnouncer(configuration: configuration.connection, name: configuration.workerName, queues: configuration.queues,
                            interval: interval, metrics: metrics, limiter: limiter, logger: logger)
        }
        let announcing = announcer.map { announcer in Task { await announcer.run() } }
        defer { announcing?.cancel() }
        // Deliveries travel in the batches they were read in: one stream hop per batch.
        let (intake, intakeContinuation) = AsyncStream.makeStream(of: (DeliveryBatch, String).self)
        let stopping = ShutdownFlag()
        let maxTasks = configuration.maxTasks
        let stopIntake: @Sendable () -> Void = {
            stopping.raise()
            intakeContinuation.finish()
        }
        configuration.readiness.set("starting", nil)
        logger.info("worker started", metadata: [
            "queues": "\(configuration.queues.joined(separator: ","))", "concurrency": "\(configuration.concurrency)",
            "prefetch": "\(configuration.prefetch)",
        ])
        // Intake and the short steps of each task (decoding, the catalog, instant built-ins,
        // building the result) run on the consuming connection's I/O thread: deliveries and acks
        // then cross no thread. Task bodies that take time run on the global executor.
        let processing = Task(executorPreference: consumeConnection.executor) { () -> (tasks: Int, since: ContinuousClock.Instant?) in
            var started = 0
            var firstDelivery: ContinuousClock.Instant?
            await withDiscardingTaskGroup { group in
                let options = self.configuration.queueOptions
                for queue in self.configuration.queues {
                    group.addTask {
                        await self.consume(queue, consumers: consumers, channel: channel, declaringOn: publishConnection,
                                           declare: { try await WarrenTopology.declareTaskQueue(queue, options: options, on: $0) },
                                           stopping: stopping, metrics: metrics, logger: logger) { batch in
                            intakeContinuation.yield((batch, queue))
                        }
                    }
                }
                let forwarder = DueForwarder(settler: settler, workerName: self.configuration.workerName, metrics: metrics, logger: logger)
                group.addTask {
                    await self.consume(DelayChain.dueQueue, consumers: consumers, channel: dueChannel, declaringOn: publishConnection,
                                       declare: { try await DelayChain.declareDue(on: $0) },
                                       stopping: stopping, metrics: metrics, logger: logger) { batch in
                        for delivery in batch { forwarder.forward(delivery) }
                    }
                }
                intakeLoop: for await (batch, queue) in intake {
                    if firstDelivery == nil { firstDelivery = .now }
                    for delivery in batch {
                        // A copy of a run under way here waits for it without a slot; a copy of
                        // one settled here is acked without running again.
                        if delivery.redelivered, let key = RunKey(properties: delivery.properties) {
                            switch ledger.admit(delivery, key: key) {
                            case .run: break
                            case .held: continue
                            case .settled:
                                try? delivery.ack()
                                metrics.settled(1, queue: queue)
                                metrics.redeliverySkipped()
                                logger.info("redelivered copy of a task this worker already finished: acked, not run again",
                                            metadata: ["task_id": "\(key.id)", "attempt": "\(key.attempt)"])
                                continue
                            }
                        }
                        await limiter.acquire()
                        if stopping.isRaised {
                            limiter.release()
                            break intakeLoop
                        }
                        // Its channel died while it waited for a slot: the broker has requeued it
                        // and hands it out again, so running this copy would run it twice.
                        guard delivery.isSettleable else {
                            limiter.release()
                            metrics.staleSkipped(queue: queue)
                            continue
                        }
                        group.addTask {
                            await processor.process(delivery, queue: queue)
                            limiter.release()
                        }
                        started += 1
                        if let maxTasks, started >= maxTasks {
                            logger.info("started \(started) tasks (--max-tasks): finishing them, then stopping")
                            stopIntake()
                            break intakeLoop
                        }
                    }
                }
                for consumer in consumers.all { try? await consumer.cancel() }
            }
            // Every finished task's result is confirmed and its delivery acked before closing.
            await settler.finish()
            return (started, firstDelivery)
        }
        let grace = configuration.grace
        await withGracefulShutdownHandler {
            let (tasks, since) = await withTaskCancellationHandler {
                await processing.value
            } onCancel: {
                processing.cancel()
            }
            if let since {
                let seconds = (ContinuousClock.now - since).seconds
                logger.info("ran \(tasks) tasks in \(String(format: "%.3f", seconds)) s from the first delivery to the last settlement")
            }
            announcing?.cancel()
            await announcer?.farewell()
        } onGracefulShutdown: {
            logger.info("shutting down: no new tasks; running ones get \(grace)")
            stopIntake()
            Task {
                for consumer in consumers.all { try? await consumer.cancel() }
                try? await Task.sleep(for: grace)
                processing.cancel()
            }
        }
    }

    /// Hands `queue`'s deliveries to `deliver` until the worker stops. When the broker ends the
    /// consumer (the queue deleted, its node down, or a subscription it refused after a
    /// reconnection), the queue is declared again and consumed again, with backoff; meanwhile
    /// `/readyz` says so and `warren_consumers_lost_total` counts it.
    private func consume(_ queue: String, consumers: CurrentConsumers, channel: Channel, declaringOn connection: Connection,
                         declare: @Sendable (Channel) async throws -> Void,
                         stopping: ShutdownFlag, metrics: WorkerMetrics, logger: Logger,
                         deliver: (DeliveryBatch) -> Void) async {
        let part = "queue \(queue)"
        while let consumer = consumers.get(queue) {
            for await batch in consumer.batches {
                // Counted as it arrives: deliveries waiting for a concurrency slot are unacked
                // at the broker too (warren_deliveries_unsettled matches its unacked count).
                metrics.received(batch.count, queue: queue)
                deliver(batch)
            }
            if stopping.isRaised || Task.isCancelled { return }
            configuration.readiness.set(part, "not consumed: the broker ended its consumer; subscribing again")
            metrics.consumerLost(queue: queue)
            logger.warning("the broker ended the consumer of \(queue) (queue deleted, its node down, or a subscription refused); declaring it and subscribing again",
                           metadata: ["queue": "\(queue)"])
            var delay = Duration.milliseconds(200)
            while !stopping.isRaised && !Task.isCancelled {
                do {
                    let setup = try await connection.openChannel(confirms: false)
                    try await declare(setup)
                    try? await setup.close()
                    consumers.set(try await channel.consume(queue: queue))
                    configuration.readiness.set(part, nil)
                    logger.notice("consuming \(queue) again", metadata: ["queue": "\(queue)"])
                    break
                } catch {
                    configuration.readiness.set(part, "not consumed: \(error)")
                    logger.warning("cannot consume \(queue) yet; trying again", metadata: ["queue": "\(queue)", "error": "\(error)", "in": "\(delay)"])
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, .seconds(5))
                }
            }
        }
    }
}

/// The consumer of each queue now: replaced when the worker subscribes again.
final class CurrentConsumers: Sendable {
    private let consumers = Mutex<[String: Consumer]>([:])

    func set(_ consumer: Consumer) { consumers.withLock { $0[consumer.queue] = consumer } }
    func get(_ queue: String) -> Consumer? { consumers.withLock { $0[queue] } }
    var all: [Consumer] { consumers.withLock { Array($0.values) } }
}
