import Cron
import RabbitMQ
import WarrenCore

/// The checks of `warren doctor`: pure functions of Warren's settings and what the broker said
/// (nil when it could not be reached), so each is tested in process.
public enum DoctorRules {
    /// Every check, in the order the report lists them within a severity.
    public static func evaluate(_ settings: WarrenSettings, broker: BrokerFacts?) -> [DoctorFinding] {
        var findings = connectionFindings(settings, broker: broker)
        findings += catalogFindings(settings)
        findings += queueTypeFindings(settings, broker: broker)
        guard let broker else { return findings }
        findings += consumerTimeoutFindings(settings, broker: broker)
        findings += queueFindings(settings, broker: broker)
        findings += brokerStateFindings(settings, broker: broker)
        return findings
    }

    // MARK: - Connection

    static func connectionFindings(_ settings: WarrenSettings, broker: BrokerFacts?) -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        if settings.heartbeat == .zero {
            findings.append(DoctorFinding("heartbeat", .error,
                "heartbeats are off (--heartbeat / WARREN_HEARTBEAT is 0): a connection that dies without closing goes unnoticed, its worker keeps running tasks the broker will hand to another worker once TCP gives up, and they run twice",
                fix: "remove WARREN_HEARTBEAT=0 / --heartbeat 0 (the default is 10s)"))
        } else if let broker, broker.server.heartbeatSeconds == 0 {
            findings.append(DoctorFinding("heartbeat", .error,
                "the broker negotiated no heartbeat: a connection that dies without closing goes unnoticed and its tasks run twice",
                fix: "set heartbeat = 60 (or any value above 0) in rabbitmq.conf"))
        } else if let broker {
            findings.append(DoctorFinding("heartbeat", .ok, "heartbeat \(broker.server.heartbeatSeconds)s negotiated"))
        }
        for endpoint in settings.endpoints where !endpoint.isLoopback {
            if !endpoint.usesTLS {
                findings.append(DoctorFinding("tls", .warning,
                    "\(endpoint) is reached over plain amqp://: the password and every task's args cross the network unencrypted",
                    fix: "use amqps:// (a TLS listener on the broker, --tls-ca on the clients)"))
            }
            if endpoint.user == "guest" {
                findings.append(DoctorFinding("credentials", .warning,
                    "\(endpoint) logs in as guest, the broker's default user, from another host",
                    fix: "create a user for Warren (rabbitmqctl add_user) and put it in WARREN_AMQP_URL"))
            }
        }
        return findings
    }

    // MARK: - Catalog and schedules

    static func catalogFindings(_ settings: WarrenSettings) -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        guard let catalog = settings.catalog else {
            if !settings.schedules.isEmpty {
                findings.append(DoctorFinding("catalog", .skipped,
                    "no task catalog given: whether workers have the tasks the schedules name is not checked",
                    fix: "give --tasks FILE (or WARREN_TASKS) as the worker gets it"))
            }
            return findings
        }
        let catalogName = settings.catalogPath ?? "the catalog"
        let consumed = Set(settings.queues)
        var missing = false
        for schedule in settings.schedules {
            // A schedule naming a workflow starts a run: its steps' tasks must be in the catalog.
            guard let workflow = settings.workflows[schedule.task] else { continue }
            for step in workflow.steps {
                let queue = step.queue ?? workflow.queue ?? schedule.queue
                guard consumed.contains(queue), catalog[step.task] == nil else { continue }
                missing = true
                findings.append(DoctorFinding("catalog", .error,
                    "workflow \(workflow.name) (\(workflow.location.map { "\($0)" } ?? "?")), started by schedule \(schedule.name), runs step \(step.name) as task \(step.task) in queue \(queue), which this worker consumes, but \(catalogName) has no task \(step.task): the step would be dead-lettered as unknown",
                    fix: "add \(step.task) to \(catalogName), or fix the task name in the step"))
            }
        }
        for schedule in settings.schedules where settings.workflows[schedule.task] == nil && consumed.contains(schedule.queue) && catalog[schedule.task] == nil {
            missing = true
            findings.append(DoctorFinding("catalog", .error,
                "schedule \(schedule.name) (\(schedule.location)) fires task \(schedule.task) into queue \(schedule.queue), which this worker consumes, but \(catalogName) has no task \(schedule.task): every fire is dead-lettered as unknown",
                fix: "add \(schedule.task) to \(catalogName), or fix the task name in the schedule"))
        }
        if !missing && !settings.schedules.isEmpty {
            findings.append(DoctorFinding("catalog", .ok, "\(catalogName) has every task the schedules fire into \(settings.queues.joined(separator: ", "))"))
        }
        for definition in catalog.tasks.values.sorted(by: { $0.name < $1.name }) where definition.retry.attempts > 1 {
            let longest = longestRetryDelay(definition.retry)
            if longest > .seconds(DelayChainLimit.longestDelaySeconds) {
                findings.append(DoctorFinding("delay-chain", .error,
                    "task \(definition.name) retries after up to \(DurationSyntax.format(longest)), longer than the broker-held delay chain can hold (\(DelayChainLimit.longestDelaySeconds / 86_400) days): the retry is cut short and runs early",
                    fix: "lower retry.max_backoff of \(definition.name) in \(catalogName) to at most \(DelayChainLimit.longestDelaySeconds / 86_400)d"))
            }
            for schedule in settings.schedules where schedule.task == definition.name {
                if let expires = schedule.expires, retryDelays(definition.retry).reduce(.zero, +) >= expires {
                    findings.append(DoctorFinding("expires", .warning,
                        "schedule \(schedule.name) expires its tasks after \(DurationSyntax.format(expires)), but the retries of \(definition.name) wait \(DurationSyntax.format(retryDelays(definition.retry).reduce(.zero, +))) in all: its last attempts are recorded expired instead of running",
                        fix: "raise expires: of \(schedule.name), or lower retry.attempts / backoff of \(definition.name)"))
                }
            }
        }
        return findings
    }

    /// The delays between attempts, without jitter (the longest each can be).
    static func retryDelays(_ retry: RetryPolicy) -> [Duration] {
        guard retry.attempts > 1 else { return [] }
        var policy = retry
        policy.jitter = false
        return (1..<min(retry.attempts, 64)).map { policy.delay(after: $0) }
    }

    static func longestRetryDelay(_ retry: RetryPolicy) -> Duration {
        retryDelays(retry).max() ?? .zero
    }

    // MARK: - Queue types

    static func queueTypeFindings(_ settings: WarrenSettings, broker: BrokerFacts?) -> [DoctorFinding] {
        guard settings.queueType == .quorum else { return [] }
        let prioritised = settings.schedules.filter { $0.priority != nil }
        guard !prioritised.isEmpty else { return [] }
        let names = prioritised.map { "\($0.name) (\($0.location))" }.joined(separator: ", ")
        return [DoctorFinding("priorities", .error,
            "with --queue-type quorum the scheduler rejects schedule files that set priority (quorum queues have no priorities in RabbitMQ 3.10-3.13): \(names)",
            fix: "drop priority: from those schedules, or run the deployment with --queue-type classic")]
    }

    // MARK: - consumer_timeout and prefetch

    /// The catalog task that may run longest and for how long (its timeout plus the kill
    /// grace); a nil `run` when a task has no timeout. Nil for a catalog of built-ins only.
    static func longestTask(_ catalog: TaskCatalog) -> (task: String, run: Duration?)? {
        let candidates: [(task: String, run: Duration?)] = catalog.tasks.values.sorted { $0.name < $1.name }.compactMap { definition in
            switch definition.kind {
            case .builtin: return nil
            case .http(let http): return (definition.name, definition.timeout ?? http.timeout)
            case .run, .handler: return (definition.name, definition.timeout.map { $0 + definition.killAfter })
            }
        }
        if let unbounded = candidates.first(where: { $0.run == nil }) { return unbounded }
        return candidates.max { $0.run! < $1.run! }
    }

    static func consumerTimeoutFindings(_ settings: WarrenSettings, broker: BrokerFacts) -> [DoctorFinding] {
        guard let limit = broker.consumerTimeout.value else {
            return [DoctorFinding("consumer-timeout", .ok, "consumer_timeout is off (\(broker.consumerTimeout.sourceText))")]
        }
        let limitText = "\(DurationSyntax.format(limit)) (\(broker.consumerTimeout.sourceText))"
        guard let catalog = settings.catalog else {
            return [DoctorFinding("consumer-timeout", .skipped,
                "the broker's consumer_timeout is \(limitText); with no task catalog given, task lengths are not checked against it",
                fix: "give --tasks FILE (or WARREN_TASKS) as the worker gets it")]
        }
        guard let (task, run) = longestTask(catalog) else {
            return [DoctorFinding("consumer-timeout", .ok, "consumer_timeout \(limitText); the catalog has only built-in tasks")]
        }
        guard let run else {
            return [DoctorFinding("consumer-timeout", .warning,
                "task \(task) has no timeout, and the broker's consumer_timeout is \(limitText): a run longer than that loses its channel, and the task is handed out again and runs twice",
                fix: "give \(task) a timeout: below \(DurationSyntax.format(limit)) in \(settings.catalogPath ?? "the catalog")")]
        }
        let recommended = "consumer_timeout = \(recommendedTimeout(above: run, settings: settings)) in rabbitmq.conf"
        if run > limit {
            return [DoctorFinding("consumer-timeout", .error,
                "task \(task) may run \(DurationSyntax.format(run)) (timeout plus the kill grace), longer than the broker's consumer_timeout of \(limitText): the broker closes the worker's channel mid-run and hands its deliveries out again, so they run twice",
                fix: "set \(recommended), or lower the timeout of \(task)")]
        }
        let rounds = (settings.prefetch + settings.concurrency - 1) / settings.concurrency
        let held = run * rounds
        if held > limit {
            return [DoctorFinding("prefetch", .error,
                "with --prefetch \(settings.prefetch) and --concurrency \(settings.concurrency) a delivery can wait behind \(rounds - 1) run(s) of \(task) (\(DurationSyntax.format(run)) each) before its own, unacked for up to \(DurationSyntax.format(held)), longer than the broker's consumer_timeout of \(limitText): the channel is closed and everything it held runs again",
                fix: "set --prefetch \(settings.concurrency) (WARREN_PREFETCH) for tasks this long, or \(recommendedHeld(held))")]
        }
        var findings = [DoctorFinding("consumer-timeout", .ok,
            "the longest task, \(task), may run \(DurationSyntax.format(run)); held behind a full prefetch up to \(DurationSyntax.format(held)), within consumer_timeout \(limitText)")]
        if run >= .seconds(300) && settings.prefetch > settings.concurrency {
            findings.append(DoctorFinding("prefetch", .warning,
                "--prefetch \(settings.prefetch) is above --concurrency \(settings.concurrency) while tasks such as \(task) run up to \(DurationSyntax.format(run)): deliveries wait on this worker behind long tasks while other workers may be idle",
                fix: "set --prefetch \(settings.concurrency) (WARREN_PREFETCH) for queues of long tasks"))
        }
        return findings
    }

    /// A consumer_timeout value (milliseconds) above `run` with a margin, for the fix text.
    static func recommendedTimeout(above run: Duration, settings: WarrenSettings) -> Int64 {
        let rounds = Int64((settings.prefetch + settings.concurrency - 1) / settings.concurrency)
        return (run.components.seconds * rounds + 60) * 1000
    }

    static func recommendedHeld(_ held: Duration) -> String {
        "set consumer_timeout = \((held.components.seconds + 60) * 1000) in rabbitmq.conf"
    }

    // MARK: - Queues on the broker

    static func queueFindings(_ settings: WarrenSettings, broker: BrokerFacts) -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        for name in settings.namedQueues + [WireNames.resultsQueue, WireNames.deadLetterQueue] {
            guard let queue = broker.queues[name] else { continue }
            if let inequivalence = queue.inequivalence {
                let wanted = " (queue type \(settings.queueType.rawValue))"
                findings.append(DoctorFinding("queue-arguments", .error,
                    "queue \(name) exists with other arguments than Warren declares it with\(wanted), so the processes declaring it fail to start: \(inequivalence)",
                    fix: "RabbitMQ cannot change a queue's type or arguments: every process must run with the same --queue-type; to move between classic and quorum follow docs/operations.md, \"Moving to cluster mode\""))
            }
        }
        // A priority on a queue without priorities is carried but has no effect.
        let ignored = settings.schedules.filter { ($0.priority ?? 0) > 0 && broker.queues[$0.queue]?.priorities == false }
        if settings.queueType == .classic, !ignored.isEmpty {
            let names = ignored.map { "\($0.name) (queue \($0.queue), \($0.location))" }.joined(separator: ", ")
            findings.append(DoctorFinding("priorities", .warning,
                "these schedules set a priority, but their queues have no priorities, so it has no effect: \(names)",
                fix: "give those tasks a queue with priorities (workers with --max-priority 9 on a new queue; docs/operations.md, \"Changing a task queue's arguments\"), or drop priority:"))
        }
        let consumed = Set(settings.queues)
        var seen = Set<String>()
        for schedule in settings.schedules where !consumed.contains(schedule.queue) && seen.insert(schedule.queue).inserted {
            let queue = broker.queues[schedule.queue]
            if queue?.exists != true || queue?.consumers == 0 {
                findings.append(DoctorFinding("consumers", .warning,
                    "queue \(schedule.queue) receives the fires of schedule \(schedule.name), but no worker consumes it now\(queue?.exists == true ? " (\(queue!.messages) waiting)" : " (it does not exist yet)")",
                    fix: "start a worker with --queue \(schedule.queue)"))
            }
        }
        if let deadLetters = broker.queues[WireNames.deadLetterQueue], deadLetters.messages > 0 {
            findings.append(DoctorFinding("dead-letters", .warning,
                "\(deadLetters.messages) message(s) wait in \(WireNames.deadLetterQueue): tasks that could not run (reasons in their headers)",
                fix: "see why with `warren results list --status failed` and `--status rejected`; `warren status` counts them"))
        }
        return findings
    }

    // MARK: - Broker state and version

    static func brokerStateFindings(_ settings: WarrenSettings, broker: BrokerFacts) -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        if let alarms = broker.alarms {
            if alarms.isEmpty {
                findings.append(DoctorFinding("alarms", .ok, "no memory or disk alarm"))
            } else {
                findings.append(DoctorFinding("alarms", .error,
                    "the broker has a resource alarm (\(alarms.joined(separator: ", "))): it blocks every publisher, so no fire, task or result is accepted until it clears",
                    fix: "free disk or memory on the broker, or raise disk_free_limit / vm_memory_high_watermark"))
            }
        }
        if let maxMessageSize = broker.maxMessageSize, maxMessageSize < settings.maxPayload + 64 * 1024 {
            findings.append(DoctorFinding("message-size", .warning,
                "the broker's max_message_size (\(maxMessageSize) bytes) is below the worker's --max-payload (\(settings.maxPayload) bytes) plus room for a result: larger tasks and results are refused by the broker",
                fix: "raise max_message_size in rabbitmq.conf, or lower --max-payload"))
        }
        if settings.queueType == .quorum && broker.server.versionIsAtLeast(4, 0) {
            findings.append(DoctorFinding("delivery-limit", .warning,
                "RabbitMQ \(broker.server.version ?? "4") drops a quorum queue message after 20 deliveries unless it has a dead-letter target: a task whose worker keeps dying is dropped without a result",
                fix: "set a delivery-limit policy on Warren's task queues (x-delivery-limit -1) or a dead-letter exchange"))
        }
        return findings
    }
}
