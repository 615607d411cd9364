import Foundation
import Logging
import RabbitMQ
import WarrenCore
import WarrenMessaging

/// How fires get on the wire: built into messages, published in confirmed batches, and the
/// progress record written once every fire it covers is confirmed.
extension Scheduler.ActiveRun {
    /// Most fires handed to the client at once; a burst larger than this goes out in several
    /// confirmed batches, so the first fires of a burst need not wait for the last to be built.
    static let batchLimit = 2000

    /// The messages of a batch of fires, built and not yet published.
    struct PreparedBatch {
        /// The fires' messages, then the records of fires not run.
        var messages: [OutgoingMessage]
        /// The fires published, each with its schedule, in the order of the first messages.
        var fires: [(fire: Fire, schedule: ScheduleDefinition)]
        var spans: [TraceSpan]
        /// Schedules whose overlap policy looks at open runs: a later fire of one of them waits
        /// for this batch's confirms, which open its run.
        var overlapSchedules: Set<String>
    }

    /// A batch handed to the channel, its confirms still to come.
    struct SentBatch {
        var batch: PreparedBatch
        /// Each message's outcome, in order, or the task that resolves to them; the last is the
        /// progress record's if the batch carries one.
        var confirms: Confirms
        var carriesProgress: Bool
        /// Every fire due at or before this instant is in this batch or an earlier one.
        var watermark: Int64
    }

    enum Confirms {
        case pending(Task<[Result<Void, AMQPError>], Never>)
        case received([Result<Void, AMQPError>])
    }

    /// Fires in flight, one batch at a time: the next batch is built while the one before it
    /// awaits its confirms, and the progress up to a confirmed batch rides with the next one.
    struct Pipeline {
        var inFlight: SentBatch?
        /// A watermark every fire up to which is confirmed, not yet sent in a progress record.
        var unrecorded: Int64?
    }

    /// Pops and publishes every fire due at or before `now`, batch by batch as popped; the
    /// progress recorded with each batch stops short of the fires still waiting. Returns
    /// whether anything was due.
    mutating func publishDue(upTo now: Int64) async throws -> Bool {
        var fires = timeline.popDue(upTo: now, limit: Self.batchLimit)
        guard !fires.isEmpty else { return false }
        var pipeline = Pipeline()
        while !fires.isEmpty {
            let next = timeline.nextDue()
            let more = next.map { $0 <= now } ?? false
            try await send(fires[...], upTo: more ? next! - 1 : now, last: !more, in: &pipeline)
            fires = more ? timeline.popDue(upTo: now, limit: Self.batchLimit) : []
        }
        try await finish(&pipeline)
        return true
    }

    /// Publishes `fires` (applying each schedule's overlap policy) in confirmed batches, then
    /// records progress up to `watermark`.
    mutating func publish(_ fires: [Fire], upTo watermark: Int64) async throws {
        var pipeline = Pipeline()
        var start = 0
        repeat {
            let end = min(fires.count, start + Self.batchLimit)
            // A batch covers the fires due before the next batch's first.
            try await send(fires[start..<end], upTo: end < fires.count ? fires[end].due - 1 : watermark, last: end == fires.count,
                           in: &pipeline)
            start = end
        } while start < fires.count
        try await finish(&pipeline)
    }

    /// Builds `fires`' messages while the batch in flight awaits its confirms, then settles that
    /// batch and hands this one to the channel, with the progress record of what is confirmed.
    /// The record is written only once every fire it covers is confirmed: written beside them,
    /// it could be confirmed while a fire was not (the broker confirms each queue on its own; a
    /// node stopping in a cluster lost two fires so), and the next active instance would never
    /// publish that fire. A crash between the confirms and the record leaves fires published but
    /// not recorded: the next active instance publishes them again, with the same ids.
    /// The `last` batch is awaited here: nothing is left to build while it is in flight.
    private mutating func send(_ fires: ArraySlice<Fire>, upTo watermark: Int64, last: Bool, in pipeline: inout Pipeline) async throws {
        if let inFlight = pipeline.inFlight, fires.contains(where: { inFlight.batch.overlapSchedules.contains($0.schedule) }) {
            try await settle(&pipeline)
        }
        let batch: PreparedBatch
        do {
            batch = try await prepare(fires)
        } catch {
            // The batch in flight is left to the broker: no record covers it, so the next
            // active instance publishes it again if need be.
            if case .pending(let task) = pipeline.inFlight?.confirms { task.cancel() }
            throw error
        }
        try await settle(&pipeline)
        var messages = batch.messages
        var carriesProgress = false
        if let confirmed = pipeline.unrecorded {
            self.watermark = confirmed
            messages.append(SchedulerBroker.progressMessage(progressRecord()))
            pipeline.unrecorded = nil
            carriesProgress = true
        }
        // Handed to the client now, after the batch before it settled: in a burst, that wait is
        // part of how late a fire goes out.
        let sentAt = clock.nanosecondsNow()
        for (fire, _) in batch.fires { metrics.sentFire(latenessNanoseconds: sentAt - fire.due * 1_000_000) }
        let confirms: Confirms = last ? .received(await channel.publishBatch(messages))
            : .pending(Task { [channel] in await channel.publishBatch(messages) })
        pipeline.inFlight = SentBatch(batch: batch, confirms: confirms, carriesProgress: carriesProgress, watermark: watermark)
    }

    /// Settles the batch in flight, then writes the progress record of everything confirmed.
    private mutating func finish(_ pipeline: inout Pipeline) async throws {
        try await settle(&pipeline)
        if let confirmed = pipeline.unrecorded {
            watermark = confirmed
            try await writeProgress()
        }
    }

    /// Waits for the batch in flight's confirms, publishes what the broker nacked again for a
    /// while (NackRetry), and notes its watermark as confirmed.
    private func settle(_ pipeline: inout Pipeline) async throws {
        guard let sent = pipeline.inFlight else { return }
        pipeline.inFlight = nil
        var results: [Result<Void, AMQPError>]
        switch sent.confirms {
        case .pending(let task):
            // The batch's task does not inherit this one's cancellation: pass it on, so a
            // shutdown does not wait for a burst's confirms (or for ever, while the broker
            // blocks publishers); its fires come back as failures and the loop ends.
            results = await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
        case .received(let received): results = received
        }
        if sent.carriesProgress, case .failure(let error) = results.removeLast() {
            try handleRecordFailure(error, what: "progress record")
        }
        var nacked = try record(results, of: sent.batch, lastTry: false)
        var round = 0
        while !nacked.isEmpty {
            round += 1
            try await Task.sleep(for: NackRetry.interval)
            let fresh = round >= NackRetry.newChannelFromRound ? try? await connection.openChannel(confirms: true) : nil
            let retry = try await prepare(nacked[...])
            let outcomes = await (fresh ?? channel).publishBatch(retry.messages)
            nacked = try record(outcomes, of: retry, lastTry: round == NackRetry.rounds)
            if let fresh { try? await fresh.close() }
        }
        pipeline.unrecorded = sent.watermark
    }

    /// Builds the messages of `fires`: a fire of a paused schedule, or of one whose previous run
    /// is open under `overlap: skip`, becomes a `skipped` record; under `overlap: replace` the
    /// previous run is cancelled first. The batch's confirms are not yet started.
    private func prepare(_ fires: ArraySlice<Fire>) async throws -> PreparedBatch {
        var messages: [OutgoingMessage] = []
        var sent: [(fire: Fire, schedule: ScheduleDefinition)] = []
        var spans: [TraceSpan] = []
        var overlapSchedules = Set<String>()
        let tracing = scheduler.configuration.tracing
        messages.reserveCapacity(fires.count)
        var skipped: [OutgoingMessage] = []
        let now = clock.millisecondsNow()
        let runtime = scheduler.runtime.withLock { $0 }
        let workflows = scheduler.library.workflows
        for fire in fires {
            guard let schedule = timeline.schedule(named: fire.schedule) else { continue }
            if let pause = runtime.pause(of: schedule.name, at: fire.due) {
                metrics.skippedByPause()
                logger.info("fire skipped: the schedule is paused", metadata: [
                    "schedule": "\(schedule.name)", "task_id": "\(fire.taskID)", "paused_by": "\(pause.by)",
                ])
                skipped += fireRecord(fire, of: schedule, status: .skipped, reason: "paused" + (pause.reason.map { ": \($0)" } ?? ""), at: now)
                continue
            }
            if schedule.overlap != .allow {
                overlapSchedules.insert(schedule.name)
                if let previous = tracker.openRun(of: schedule.name) {
                    if schedule.overlap == .skip {
                        metrics.skippedByOverlap()
                        logger.info("fire skipped: the previous run has no final result", metadata: [
                            "schedule": "\(schedule.name)", "task_id": "\(fire.taskID)", "previous": "\(previous.taskID)",
                        ])
                        skipped += fireRecord(fire, of: schedule, status: .skipped, reason: "overlap: \(previous.taskID) has no final result", at: now)
                        continue
                    }
                    try await CancellationStream.append(.cancel(taskID: previous.taskID), on: channel)
                    metrics.replacedRun()
                    logger.info("previous run cancelled, replaced by this fire", metadata: [
                        "schedule": "\(schedule.name)", "task_id": "\(fire.taskID)", "previous": "\(previous.taskID)",
                    ])
                }
            }
            var message = fire.message(of: schedule)
            if tracing.tracer != nil {
                let span = tracing.start("fire \(schedule.name)", kind: .producer, parent: nil, attributes: [
                    "warren.task.id": fire.taskID, "warren.task": schedule.task, "warren.queue": schedule.queue, "warren.schedule": schedule.name,
                ])
                message.traceparent = span.traceparent
                spans.append(span)
            }
            if let workflow = workflows[schedule.task] {
                // The fire starts a run of the workflow, whose id is the fire's task id.
                messages.append(WorkflowEvent.start(WorkflowRun(fire: message, workflow: workflow, at: now)).outgoing())
            } else {
                messages.append(message.outgoing())
            }
            sent.append((fire, schedule))
        }
        messages += skipped
        return PreparedBatch(messages: messages, fires: sent, spans: spans, overlapSchedules: overlapSchedules)
    }

    /// Records the outcome of each of `batch`'s messages (its fires, then the records of fires
    /// not run). Returns the fires the broker nacked, to publish again (none on the `lastTry`,
    /// where a nack is a refusal); a lost connection is thrown.
    private func record(_ results: [Result<Void, AMQPError>], of batch: PreparedBatch, lastTry: Bool) throws -> [Fire] {
        let confirmedAt = clock.nanosecondsNow()
        let now = clock.millisecondsNow()
        for (span, result) in zip(batch.spans, results) {
            span.end(confirmed: result)
        }
        var nacked: [Fire] = []
        for (index, result) in results.enumerated() {
            guard index < batch.fires.count else {
                if case .failure(let error) = result { try handleRecordFailure(error, what: "record of a skipped fire") }
                continue
            }
            let (fire, schedule) = batch.fires[index]
            switch result {
            case .success:
                metrics.publishedFire(latenessNanoseconds: confirmedAt - fire.due * 1_000_000)
                if schedule.overlap != .allow {
                    tracker.opened(OpenRun(taskID: fire.taskID, publishedAt: now), schedule: schedule.name)
                }
                logger.info("fire published", metadata: [
                    "task_id": "\(fire.taskID)", "schedule": "\(schedule.name)", "queue": "\(schedule.queue)",
                    "lateness_ms": "\(Double((confirmedAt - fire.due * 1_000_000) / 1000) / 1000)",
                ])
            case .failure(let error):
                switch error {
                case .publishNacked where !lastTry:
                    if nacked.isEmpty { logger.warning("the broker nacked a fire; publishing it again (a queue leader may be changing)", metadata: ["task_id": "\(fire.taskID)"]) }
                    nacked.append(fire)
                case .publishNacked, .returned:
                    metrics.failedFire()
                    logger.error("fire not published: \(error)", metadata: ["task_id": "\(fire.taskID)", "schedule": "\(schedule.name)"])
                default:
                    throw error  // the connection is gone; the next active instance catches up
                }
            }
        }
        return nacked
    }

    func handleRecordFailure(_ error: AMQPError, what: String) throws {
        switch error {
        case .publishNacked, .returned:
            logger.warning("\(what) refused by the broker: \(error)")
        default:
            throw error
        }
    }

    /// The `skipped` or `missed` result that records a fire not run, so the backend stores it
    /// beside the runs (SPEC §7); `error` says why.
    func fireRecord(_ fire: Fire, of schedule: ScheduleDefinition, status: ResultStatus, reason: String,
                    at now: Int64) -> [OutgoingMessage] {
        let message = fire.message(of: schedule)
        var result = TaskResult(id: message.id, task: message.task, queue: message.queue, attempt: 1, status: status)
        result.schedule = schedule.name
        result.scheduledFor = message.scheduledFor
        result.trigger = message.trigger
        result.args = TaskResult.boundedArgs(message.args, limit: TaskResult.defaultArgsLimit)
        result.finishedAt = TaskResult.timestamp(Date(timeIntervalSince1970: Double(now) / 1000))
        result.error = reason
        guard let outgoing = try? result.outgoing() else { return [] }
        return [outgoing]
    }

    /// The progress record: every fire due at or before `watermark` is confirmed, and the open runs.
    func progressRecord() -> ProgressRecord {
        ProgressRecord(watermark: watermark, instance: scheduler.configuration.instance,
                       writtenAt: clock.millisecondsNow(), openRuns: tracker.openRuns)
    }

    /// Writes the progress record and waits for its confirm.
    func writeProgress() async throws {
        let message = SchedulerBroker.progressMessage(progressRecord())
        try await channel.publish(message.body, exchange: message.exchange, routingKey: message.routingKey, properties: message.properties)
    }
}
