/// The names Warren's processes agree on over AMQP (docs/protocol.md).
public enum WireNames {
    /// Durable direct exchange tasks are published to, routing key = queue name.
    public static let tasksExchange = "warren.tasks"
    /// Durable fanout exchange results are published to.
    public static let resultsExchange = "warren.results"
    /// Durable direct exchange bound to `resultsExchange` (exchange-to-exchange): results are
    /// published with routing key = task id, so a queue bound here with a task id receives that
    /// task's results only (`warren publish --wait`).
    public static let resultsByIDExchange = "warren.results.by-id"
    /// Durable queue bound to `resultsExchange`, read by the backend.
    public static let resultsQueue = "warren.results"
    /// Durable fanout exchange for messages that cannot be processed.
    public static let deadLetterExchange = "warren.dead"
    /// Durable queue bound to `deadLetterExchange`.
    public static let deadLetterQueue = "warren.dead-letter"
    /// Durable fanout exchange `warren cancel` publishes cancellation records to.
    public static let cancelExchange = "warren.cancel"
    /// Durable stream (kept 7 days) of cancellation records, read from the start by every worker.
    public static let cancellationStream = "warren.cancellations"
    /// Exclusive, non-durable queue: whichever scheduler instance's connection declared it is the
    /// active one (docs/scheduler.md).
    public static let schedulerLock = "warren.scheduler.lock"
    /// Stream of `{"instance", "since"}` records, one per scheduler takeover.
    public static let schedulerLeaders = "warren.scheduler.leaders"
    /// Durable stream of schedule commands (pause, resume, trigger, backfill; `ScheduleCommand`),
    /// never trimmed: the runtime state of every schedule is the fold of it from its start.
    public static let scheduleStateStream = "warren.schedules.state"
    /// Stream (kept 7 days; the last entry always stays) of the active scheduler's loaded
    /// schedule files (`LoadedSchedules`), one entry per takeover or change.
    public static let loadedSchedulesStream = "warren.scheduler.loaded"
    /// Stream of the task queues Warren declared (`QueueRegistry`), for listing them.
    public static let queueRegistryStream = "warren.queues"
    /// Stream of `WorkerAnnouncement`s: each worker says every few seconds who it is and what it holds.
    public static let workersStream = "warren.workers"
    /// Durable queue of `WorkflowEvent`s (runs started, steps ended), read by one backend at a
    /// time (single active consumer): the workflow coordinator (docs/workflows.md).
    public static let workflowsQueue = "warren.workflows"
    /// Default queue for tasks that name none.
    public static let defaultQueue = "default"
}

/// Header names carried by task, result and dead-lettered messages.
public enum WireHeaders {
    /// Attempt number of this delivery of the task, 1 for the first.
    public static let attempt = "x-warren-attempt"
    /// When the task entered its queue, in milliseconds since the epoch: when it was published,
    /// or for a delayed task or retry when its delay ended. Results carry it as `published_at`,
    /// so the store has each task's queue wait (started − published).
    public static let publishedAt = "x-warren-published-ms"
    /// The attempt this series of retries began at: absent (1) for a new task, the requeued
    /// attempt for a task requeued from the dead letters, which gets its retries afresh.
    public static let firstAttempt = "x-warren-first-attempt"
    /// Name of the schedule whose fire this task is.
    public static let schedule = "x-warren-schedule"
    /// The instant the schedule fired for (ISO-8601).
    public static let scheduledFor = "x-warren-scheduled-for"
    /// Why a scheduled task was published outside the schedule's rhythm: `manual`
    /// (`schedules trigger`), `backfill` (`schedules backfill`) or `catchup`; absent for a
    /// regular fire.
    public static let trigger = "x-warren-trigger"
    /// The id of the batch a task was published in (`warren publish --batch`); absent for a task
    /// published on its own.
    public static let batch = "x-warren-batch"
    /// The id of the workflow run a task is a step of; its results carry it as `workflow`.
    public static let workflow = "x-warren-workflow"
    /// After this instant (ISO-8601) the task is not run and is recorded `expired`.
    public static let expiresAt = "x-warren-expires-at"
    /// The queue a delayed task goes to once its delay is over.
    public static let targetQueue = "x-warren-queue"
    /// W3C trace context.
    public static let traceparent = "traceparent"
    /// Why a message was dead-lettered: `malformed`, `unknown-task`, `too-large`, `bad-args`,
    /// `failed` (its last attempt failed), `retry-refused`, `undeliverable`, `unstorable`.
    public static let deadLetterReason = "x-warren-reason"
    /// The error, in words, of a dead-lettered message.
    public static let deadLetterError = "x-warren-error"
    /// The queue a dead-lettered message was taken from.
    public static let deadLetterQueue = "x-warren-original-queue"
    /// When a message was dead-lettered (ISO-8601).
    public static let deadLetterAt = "x-warren-dead-at"
}
