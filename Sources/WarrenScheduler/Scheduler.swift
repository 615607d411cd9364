import Cron
import Foundation
import Logging
import RabbitMQ
import ServiceLifecycle
import Synchronization
import WarrenCore
import WarrenMessaging

/// `warren scheduler`: publishes every schedule's fires when they are due. Any number of
/// instances may run; the one whose connection holds the broker's lock queue is active, the
/// others stand by and take over when its connection goes (docs/scheduler.md).
public final class Scheduler: Service, Sendable {
    public let configuration: SchedulerConfiguration
    public let library: ScheduleLibrary
    let metrics = SchedulerMetrics()
    let wake = WakeSignal()
    private let active = Atomic<Bool>(false)
    /// The last runs of `overlap: skip | replace` schedules and whether they finished.
    let tracker = RunTracker()
    /// Pauses and the other runtime commands, as read from the schedule state stream.
    let runtime = Mutex(ScheduleRuntimeState())
    var logger: Logger { configuration.logger }
    var clock: any SchedulerClock { configuration.clock }

    public init(configuration: SchedulerConfiguration) {
        self.configuration = configuration
        let queueOptions = configuration.queueOptions
        library = ScheduleLibrary(directory: configuration.schedulesDirectory, taskQueues: configuration.catalog.taskQueues) { schedule in
            queueOptions.priorityRefusal(schedule.priority).map { "priority: \($0)" }
        }
    }

    /// Whether this instance is the active one right now.
    public var isActive: Bool { active.load(ordering: .relaxed) }

    /// Reads the schedule files again (on a file change and on SIGHUP): added, changed, removed
    /// and paused schedules take effect at once; a file that fails validation keeps its last
    /// good version.
    public func reload() {
        do {
            log(try library.reload())
        } catch {
            metrics.reloadFailed()
            logger.error("cannot reload schedules: \(error)")
        }
        wake.signal()
    }

    private func log(_ report: ReloadReport) {
        for error in report.errors { logger.error("\(error.description)") }
        for file in report.keptPrevious {
            metrics.reloadFailed()
            logger.error("schedule file rejected; its last good version stays in force", metadata: ["file": "\(file)"])
        }
        for file in report.rejectedWithoutPrevious {
            metrics.reloadFailed()
            logger.error("schedule file rejected; none of its schedules are in force", metadata: ["file": "\(file)"])
        }
        logger.info("schedules loaded", metadata: ["files": "\(report.files)", "schedules": "\(report.schedules)"])
        metrics.setSchedules(report.schedules)
    }

    public func run() async throws {
        log(try library.reload())
        let watcher = DirectoryWatcher(directory: configuration.schedulesDirectory, threadName: "warren-schedules-watcher") { [weak self] in self?.reload() }
        if configuration.watchFiles, !watcher.start() {
            logger.warning("cannot watch the schedule directory for changes; send SIGHUP to reload",
                           metadata: ["directory": "\(configuration.schedulesDirectory)"])
        }
        defer { watcher.stop() }
        let ended = await cancelWhenGracefulShutdown { await self.runSessions() }
        active.store(false, ordering: .relaxed)
        metrics.setActive(false)
        if let mismatch = ended { throw mismatch }
        logger.info("scheduler stopped", metadata: ["instance": "\(configuration.instance)"])
    }

    /// One connection after another until cancelled; returns the error that no new connection
    /// can clear (a queue of the other type: the deployment must be moved first), if one ends it.
    private func runSessions() async -> QueueMismatchError? {
        var failures = 0
        while !Task.isCancelled {
            let started = ContinuousClock.now
            do {
                try await session()
            } catch is CancellationError {
                break
            } catch let mismatch as QueueMismatchError {
                return mismatch
            } catch {
                if Task.isCancelled { break }
                logger.warning("broker connection ended; contending again", metadata: ["error": "\(error)"])
            }
            configuration.readiness.set("broker", "not connected; connecting again")
            if active.exchange(false, ordering: .relaxed) {
                logger.notice("no longer the active scheduler", metadata: ["instance": "\(configuration.instance)"])
            }
            metrics.setActive(false)
            metrics.setConnected(false)
            failures = ContinuousClock.now - started > .seconds(30) ? 0 : failures + 1
            let backoff = Duration.milliseconds(min(5000, 250 << min(failures, 5))) * Double.random(in: 0.8...1.2)
            try? await Task.sleep(for: backoff)
        }
        return nil
    }

    /// Connects, stands by until the lock is taken, then runs as the active instance until the
    /// connection ends.
    private func session() async throws {
        var connectionConfiguration = configuration.connection
        connectionConfiguration.reconnect.enabled = false
        connectionConfiguration.connectionName = "warren-scheduler \(configuration.instance)"
        let connection = try await Connection.open(connectionConfiguration)
        metrics.setConnected(true)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in connection.events {
                        if case .disconnected(let error) = event { throw error }
                    }
                    throw AMQPError.notConnected
                }
                group.addTask { try await self.contend(on: connection) }
                defer { group.cancelAll() }
                try await group.next()
            }
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
    }

    private func contend(on connection: Connection) async throws {
        let channel = try await connection.openChannel(confirms: true)
        try await WarrenTopology.declareShared(on: channel, queueType: configuration.queueOptions.type)
        try await SchedulerBroker.declare(on: channel, queueType: configuration.queueOptions.type)
        // Holding the lock or contending for it: either way doing its job.
        configuration.readiness.set("broker", nil)
        configuration.readiness.set("starting", nil)
        var reportedStandby = false
        while !(try await SchedulerBroker.acquireLock(on: channel)) {
            if !reportedStandby {
                logger.info("standing by: another scheduler instance is active", metadata: ["instance": "\(configuration.instance)"])
                reportedStandby = true
            }
            try await Task.sleep(for: configuration.standbyRetry)
        }
        active.store(true, ordering: .relaxed)
        metrics.setActive(true)
        logger.notice("active scheduler", metadata: ["instance": "\(configuration.instance)"])
        try await SchedulerBroker.announce(instance: configuration.instance, since: Date(), on: channel)
        var run = ActiveRun(scheduler: self, connection: connection, channel: channel)
        try await run.start()
        try await run.loop()
    }

    /// The part of the scheduler that publishes, while this instance is active.
    struct ActiveRun {
        let scheduler: Scheduler
        let connection: Connection
        let channel: Channel
        var timeline = FireTimeline()
        var libraryVersion = -1
        var ensuredQueues = Set<String>()
        var follower: Task<Void, Never>?
        var stateFollower: Task<Void, Never>?
        var loadedPublisher: Task<Void, Never>?
        /// Every fire due at or before this instant (milliseconds) is published.
        var watermark: Int64 = 0

        init(scheduler: Scheduler, connection: Connection, channel: Channel) {
            self.scheduler = scheduler
            self.connection = connection
            self.channel = channel
        }

        var logger: Logger { scheduler.logger }
        var clock: any SchedulerClock { scheduler.clock }
        var metrics: SchedulerMetrics { scheduler.metrics }
        var tracker: RunTracker { scheduler.tracker }

        /// Reads the progress record, handles missed fires, and starts following results.
        mutating func start() async throws {
            let progress = try await SchedulerBroker.readProgress(on: connection)
            let now = clock.millisecondsNow()
            tracker.restore(progress?.openRuns ?? [:])
            let oldestOpen = progress?.openRuns.values.map(\.publishedAt).min() ?? now
            let followFrom = Date(timeIntervalSince1970: Double(min(oldestOpen, now) - 60_000) / 1000)
            follower = try await ResultFollower.start(on: try await connection.openChannel(confirms: false), since: followFrom,
                                                      tracker: tracker, logger: logger) { [wake = scheduler.wake] in wake.signal() }
            // The state is read again from the stream's start; of the state returned and the
            // ones the follower reports, whichever has applied more commands is the newer.
            scheduler.runtime.withLock { $0 = ScheduleRuntimeState() }
            let (state, following) = try await ScheduleStreams.follow(on: connection) { [scheduler] state in
                scheduler.runtime.withLock { if state.applied >= $0.applied { $0 = state } }
                scheduler.wake.signal()
            }
            scheduler.runtime.withLock { if state.applied >= $0.applied { $0 = state } }
            stateFollower = following
            libraryVersion = scheduler.library.version
            let schedules = scheduler.library.schedules
            try await ensureQueues(of: schedules)
            var catchup: [Fire] = []
            if let progress {
                logger.info("continuing from the progress record", metadata: [
                    "published_up_to": "\(Timestamp.formatUTC(milliseconds: progress.watermark))",
                    "written_by": "\(progress.instance)",
                ])
                let records: [OutgoingMessage]
                (catchup, records) = planCatchup(schedules, after: progress.watermark, upTo: now)
                try await publishRecords(records)
            } else {
                logger.info("no progress record in the broker: starting from now, nothing to catch up")
            }
            timeline.apply(schedules, after: now)
            if catchup.isEmpty {
                watermark = now
                try await writeProgress()
            } else {
                try await publish(catchup, upTo: now)
            }
            publishLoaded()
        }

        /// The missed fires to publish now, and the `skipped` and `missed` records of the others.
        private func planCatchup(_ schedules: [ScheduleDefinition], after watermark: Int64, upTo now: Int64)
            -> (fires: [Fire], records: [OutgoingMessage]) {
            var fires: [Fire] = []
            var records: [OutgoingMessage] = []
            for schedule in schedules {
                let plan = CatchupPlan(schedule: schedule, after: watermark, upTo: now)
                guard plan.missed > 0 else { continue }
                metrics.missed(tooOld: plan.tooOld, byPolicy: plan.skipped, caughtUp: plan.run.count)
                logger.warning("missed fires", metadata: [
                    "schedule": "\(schedule.name)", "missed": "\(plan.missed)\(plan.countIncomplete ? "+" : "")",
                    "older_than_window": "\(plan.tooOld)", "skipped_by_policy": "\(plan.skipped)",
                    "published_now": "\(plan.run.count)", "catchup": "\(schedule.catchup.rawValue)",
                ])
                let unrecorded = plan.tooOld - plan.tooOldFires.count + plan.skipped - plan.skippedFires.count
                if unrecorded > 0 {
                    logger.warning("missed fires beyond the \(CatchupPlan.recordLimit) recorded one by one are only counted",
                                   metadata: ["schedule": "\(schedule.name)", "not_recorded": "\(unrecorded)\(plan.countIncomplete ? "+" : "")"])
                }
                let window = DurationSyntax.format(schedule.catchupWindow)
                for var fire in plan.tooOldFires {
                    fire.trigger = "catchup"
                    records += fireRecord(fire, of: schedule, status: .missed, reason: "older than catchup_window \(window)", at: now)
                }
                for var fire in plan.skippedFires {
                    fire.trigger = "catchup"
                    records += fireRecord(fire, of: schedule, status: .skipped,
                                          reason: "catchup-skip: catchup \(schedule.catchup.rawValue) runs \(plan.run.count) of \(plan.missed - plan.tooOld)", at: now)
                }
                fires += plan.run.map { fire in
                    var fire = fire
                    fire.trigger = "catchup"
                    return fire
                }
            }
            return (fires.sorted { ($0.due, $0.schedule) < ($1.due, $1.schedule) }, records)
        }

        /// Publishes the records of fires that did not run, in confirmed batches; a record the
        /// broker refuses is logged, not retried.
        private func publishRecords(_ records: [OutgoingMessage]) async throws {
            var start = 0
            while start < records.count {
                let end = min(records.count, start + ActiveRun.batchLimit)
                for result in await channel.publishBatch(Array(records[start..<end])) {
                    if case .failure(let error) = result { try handleRecordFailure(error, what: "record of a fire that did not run") }
                }
                start = end
            }
        }

        /// Sleeps until the next due fire, publishes what is due, records progress; forever.
        mutating func loop() async throws {
            defer {
                follower?.cancel()
                stateFollower?.cancel()
                loadedPublisher?.cancel()
            }
            while true {
                let version = scheduler.library.version
                if version != libraryVersion {
                    libraryVersion = version
                    try await applyReload()
                }
                try await scheduler.wake.sleep(on: clock, until: timeline.nextDue())
                let now = clock.millisecondsNow()
                let published = try await publishDue(upTo: now)
                if !published, tracker.takeClosedRuns() {
                    // A run that finished is recorded too, so a successor does not wait for it.
                    watermark = now
                    try await writeProgress()
                }
            }
        }

        private mutating func applyReload() async throws {
            let schedules = scheduler.library.schedules
            try await ensureQueues(of: schedules)
            let changes = timeline.apply(schedules, after: clock.millisecondsNow())
            tracker.keep(only: Set(schedules.filter { $0.overlap != .allow }.map(\.name)))
            guard !changes.isEmpty else { return }
            publishLoaded()
            logger.notice("schedules reloaded", metadata: [
                "added": "\(changes.added)", "changed": "\(changes.changed)", "removed": "\(changes.removed)",
                "paused": "\(changes.paused)", "resumed": "\(changes.resumed)",
            ])
        }

        /// Tells the CLI what is in force now (`schedules trigger`, `backfill`, `plan` act on it),
        /// in the background on a channel of its own: fires never wait for it, and a failure is
        /// logged, not fatal. A newer record replaces one still being sent.
        private mutating func publishLoaded() {
            var loaded = LoadedSchedules(instance: scheduler.configuration.instance, loadedAt: clock.millisecondsNow(),
                                         files: scheduler.library.filesInForce)
            loaded.taskQueues = scheduler.library.taskQueues
            loadedPublisher?.cancel()
            loadedPublisher = Task { [connection, logger] in
                let body = loaded.body
                guard body.count <= LoadedSchedules.largestBody else {
                    logger.error("the schedule files in force are \(body.count / 1_048_576) MiB, over the \(LoadedSchedules.largestBody / 1_048_576) MiB a broker takes by default; warren schedules trigger, backfill and plan see the previous record")
                    return
                }
                do {
                    let channel = try await connection.openChannel(confirms: true)
                    try await ScheduleStreams.publishLoaded(loaded, on: channel)
                    try? await channel.close()
                    logger.info("schedules in force published for the CLI", metadata: ["files": "\(loaded.files.count)", "bytes": "\(body.count)"])
                } catch {
                    if !Task.isCancelled { logger.warning("cannot publish the schedules in force for the CLI: \(error)") }
                }
            }
        }

        private mutating func ensureQueues(of schedules: [ScheduleDefinition]) async throws {
            // A queue some schedule gives a priority is created with priorities.
            let priorities = Dictionary(schedules.map { ($0.queue, $0.priority ?? 0) }, uniquingKeysWith: max)
            for (queue, priority) in priorities.filter({ !ensuredQueues.contains($0.key) }).sorted(by: { $0.key < $1.key }) {
                try await TaskClient(connection: connection, queueOptions: scheduler.configuration.queueOptions,
                                     actor: "scheduler \(scheduler.configuration.instance)").ensureQueue(queue, priority: priority)
                ensuredQueues.insert(queue)
            }
        }
    }
}
