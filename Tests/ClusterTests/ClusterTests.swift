import Foundation
import RabbitMQ
import Testing
import Cron
import WarrenCore
import WarrenMessaging
import WarrenScheduler
import WarrenStore
import WarrenTestSupport

/// Warren in cluster mode on a real three-node RabbitMQ cluster (`scripts/cluster test` starts
/// it and runs these; `scripts/test` runs them in CI; without WARREN_TEST_CLUSTER_URLS they are
/// skipped). Serialized: they stop and start nodes.
@Suite("a real three-node RabbitMQ cluster", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["WARREN_TEST_CLUSTER_URLS"] != nil, "run by scripts/cluster test"))
struct ClusterTests {
    static let urls = (ProcessInfo.processInfo.environment["WARREN_TEST_CLUSTER_URLS"] ?? "").split(separator: ",").map(String.init)
    static let script = ProcessInfo.processInfo.environment["WARREN_TEST_CLUSTER_SCRIPT"] ?? "scripts/cluster"
    /// How a node is lost: `stop` (`rabbitmqctl stop_app`: a stop, which hands leadership over
    /// first; the default, and what CI runs) or `kill` (SIGKILL to its Erlang VM: a crash; on
    /// RabbitMQ 3.10.8 it can strand delayed tasks in the broker, docs/operations.md).
    static let nodeLoss = ProcessInfo.processInfo.environment["WARREN_CLUSTER_NODE_LOSS"] == "kill" ? "kill" : "stop"

    @discardableResult
    static func cluster(_ arguments: [String]) async throws -> String {
        try await runChecked(script, arguments)
    }

    /// One node stopped while everything runs, and the role it held when stopped.
    struct Round {
        let node: Int
        let role: String
        /// Queues whose leader the node must hold when it is stopped.
        let leaderOf: [String]
        /// Whether it must also hold the scheduler's lock (the active instance is connected to it).
        let holdsLock: Bool
    }

    /// What one round published and what was stored for it.
    struct RoundOutcome: CustomStringConvertible {
        var round: Round
        var confirmed = 0
        var delayed = 0
        var retried = 0
        var finals = 0
        var attemptsStored = 0
        var reruns = 0
        var lost = 0
        /// Longest stretch without any result finishing, from just before the stop until all was stored.
        var resultGap = 0.0
        /// The longest stretch without a result from the worker that was connected to the lost
        /// node, while work remained: how long it took to resume on another node.
        var workerResumed: Double?
        var description: String {
            "node \(round.node) (\(round.role)) lost (\(ClusterTests.nodeLoss)): \(confirmed) tasks confirmed (\(delayed) delayed, \(retried) retried); "
                + "\(finals) final results stored, \(lost) lost; \(attemptsStored) attempts stored, \(reruns) re-runs recorded; "
                + "longest stretch without a result \(String(format: "%.1f", resultGap)) s"
                + (workerResumed.map { "; its worker resumed on another node after \(String(format: "%.1f", $0)) s" } ?? "")
        }
    }

    /// A virtual host of this run's own on the cluster; the URL list starting at node `first`.
    struct Deployment {
        let vhost: String
        func urls(from first: Int) -> String {
            (0..<ClusterTests.urls.count).map { ClusterTests.urls[(first - 1 + $0) % ClusterTests.urls.count] + vhost }.joined(separator: ",")
        }
    }

    /// name → the node (1…3) holding the leader of each quorum queue, or the classic queue.
    static func queueNodes(_ deployment: Deployment, askingNode node: Int) async throws -> [String: Int] {
        let text = try await cluster(["ctl", "\(node)", "list_queues", "-p", deployment.vhost, "-q", "--no-table-headers", "name", "type", "leader", "pid"])
        var nodes: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 4 else { continue }
            let holder = fields[1] == "classic" ? fields[3] : fields[2]
            if let range = holder.range(of: #"warren-c(\d)@"#, options: .regularExpression),
               let number = Int(holder[range].dropFirst("warren-c".count).prefix(1)) {
                nodes[fields[0]] = number
            }
        }
        return nodes
    }

    static func milliseconds(_ timestamp: String?) -> Double? {
        timestamp.flatMap(TaskResult.parseTimestamp).map { $0.timeIntervalSince1970 }
    }

    @Test("cluster mode under load: each node stopped in turn (warren.results' leader, the delay chain's, the scheduler's lock and progress): no task, delayed task, retry or fire lost")
    func eachNodeLost() async throws {
        let vhost = "cluster-\(UUID().uuidString.prefix(6).lowercased())"
        try await Self.cluster(["ctl", "1", "add_vhost", vhost])
        try await Self.cluster(["ctl", "1", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"])
        let deployment = Deployment(vhost: vhost)
        let queue = "cluster-work"
        // Fires go to a queue of their own, so that their lateness measures the scheduler's
        // failover, not the backlog of the task queue.
        let ticks = "cluster-ticks"
        let schedule = "tick"

        // Where each role starts: the queue leader goes to the node the declaring client is
        // connected to (RabbitMQ's default, client-local), so the topology is declared node by
        // node before any process starts: the delay chain on node 2, warren.results and the task
        // queue on node 1, the scheduler's progress queue and streams on node 3.
        let placement: [(node: Int, declare: @Sendable (Channel) async throws -> Void)] = [
            (2, { try await DelayChain.declare(on: $0) }),
            (1, {
                try await WarrenTopology.declareShared(on: $0, queueType: .quorum)
                try await WarrenTopology.declareTaskQueue(queue, options: TaskQueueOptions(type: .quorum), on: $0)
                try await WarrenTopology.declareTaskQueue(ticks, options: TaskQueueOptions(type: .quorum), on: $0)
            }),
            (3, { try await SchedulerBroker.declare(on: $0, queueType: .quorum) }),
        ]
        for (node, declare) in placement {
            let connection = try await Connection.open(urls: Self.urls[node - 1] + vhost)
            try await declare(try await connection.openChannel(confirms: false))
            await connection.close()
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(vhost)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("schedules"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("schedules:\n  \(schedule):\n    every: 1s\n    task: warren.echo\n    queue: \(ticks)\n    catchup: all\n".utf8)
            .write(to: directory.appendingPathComponent("schedules/tick.yaml"))
        let catalog = directory.appendingPathComponent("tasks.yaml")
        try Data("tasks:\n  cluster.flaky:\n    run: [\"/bin/false\"]\n    retry: { attempts: 2, backoff: 2s, jitter: false }\n".utf8).write(to: catalog)

        let fixture = try await StoreFixture.make(.sqlite)
        let quorum = ["WARREN_QUEUE_TYPE": "quorum"]
        func start(_ arguments: [String], from node: Int, _ extra: [String: String] = [:]) throws -> WarrenProcess {
            try WarrenProcess(arguments + ["--log-level", "warning"],
                              environment: quorum.merging(extra) { $1 }.merging(["WARREN_AMQP_URL": deployment.urls(from: node)]) { $1 })
        }
        let backend = try start(["backend", "--http", "off"], from: 1, ["WARREN_STORE": fixture.argument])
        let workers = [2: try start(["worker", "--queue", queue, "--queue", ticks, "--tasks", catalog.path, "--concurrency", "8", "--prefetch", "16"], from: 2),
                       3: try start(["worker", "--queue", queue, "--queue", ticks, "--tasks", catalog.path, "--concurrency", "8", "--prefetch", "16"], from: 3)]
        // The active scheduler on node 3 (so the lock is there), a standby on node 1.
        let active = try WarrenProcess(["scheduler", "--schedules", directory.appendingPathComponent("schedules").path, "--instance", "on-3", "--log-level", "notice"],
                                       environment: quorum.merging(["WARREN_AMQP_URL": deployment.urls(from: 3)]) { $1 })
        try await waitUntil("the scheduler on node 3 active") { active.output.contains("active scheduler") }
        let standby = try WarrenProcess(["scheduler", "--schedules", directory.appendingPathComponent("schedules").path, "--instance", "on-1", "--log-level", "notice"],
                                        environment: quorum.merging(["WARREN_AMQP_URL": deployment.urls(from: 1)]) { $1 })
        let processes = [backend, active, standby] + Array(workers.values)
        defer { for process in processes { process.signal(SIGKILL) } }
        func allRunning() throws {
            for process in processes where !process.isRunning { throw HarnessError.exited(process.output) }
        }
        try await waitUntil("three fires stored") {
            try allRunning()
            return try await fixture.store.list(ResultQuery(schedule: schedule, limit: 10)).count >= 3
        }

        let rounds = [
            Round(node: 1, role: "warren.results' leader", leaderOf: [WireNames.resultsQueue, WireNames.deadLetterQueue, queue], holdsLock: false),
            Round(node: 2, role: "the delay chain's leaders", leaderOf: ["warren.delayed.0", "warren.delayed.1", "warren.delayed.2", DelayChain.dueQueue], holdsLock: false),
            Round(node: 3, role: "the scheduler's lock and progress", leaderOf: [SchedulerNames.progressQueue], holdsLock: true),
        ]
        var outcomes: [RoundOutcome] = []
        var windows: [(node: Int, from: Double, to: Double)] = []
        for round in rounds {
            let roundStart = Date().timeIntervalSince1970
            let up = round.node % 3 + 1
            // Where each role is, as rabbitmqctl reports it: a leader can move after an earlier
            // round (and the listing can lag), so a role found elsewhere is reported, not failed;
            // the rounds' assertions are about what is lost, whichever node holds what.
            let nodes = try await Self.queueNodes(deployment, askingNode: up)
            let elsewhere = round.leaderOf.filter { nodes[$0] != round.node }
            if !elsewhere.isEmpty { print("cluster round: node \(round.node): leaders found elsewhere: \(elsewhere.map { "\($0) on \(nodes[$0] ?? 0)" })") }
            if round.holdsLock { #expect(nodes[SchedulerNames.lockQueue] == round.node, "the lock is on node \(nodes[SchedulerNames.lockQueue] ?? 0)") }

            // 1200 tasks of 0.1 s (about 8 s of work for the 16 slots), 60 delayed by 1-5 s, 40
            // that fail and are retried once after 2 s.
            let prefix = "r\(round.node)"
            var lines: [String] = []
            for index in 0..<1200 { lines.append(#"{"task": "warren.sleep", "queue": "\#(queue)", "args": {"seconds": 0.1}, "id": "\#(prefix)-t-\#(index)"}"#) }
            for index in 0..<60 { lines.append(#"{"task": "warren.echo", "queue": "\#(queue)", "delay": "\#(1 + index % 5)s", "id": "\#(prefix)-d-\#(index)"}"#) }
            for index in 0..<40 { lines.append(#"{"task": "cluster.flaky", "queue": "\#(queue)", "id": "\#(prefix)-f-\#(index)"}"#) }
            let file = directory.appendingPathComponent("\(prefix).jsonl")
            try Data(lines.joined(separator: "\n").utf8).write(to: file)
            let published = try await runWarren(["publish", "--batch", file.path], environment: quorum.merging(["WARREN_AMQP_URL": deployment.urls(from: up)]) { $1 })
            // The ids on stdout, in file order; the summary, with the batch id, on stderr.
            let ids = (0..<1200).map { "\(prefix)-t-\($0)" } + (0..<60).map { "\(prefix)-d-\($0)" } + (0..<40).map { "\(prefix)-f-\($0)" }
            #expect(published.stdout == ids.joined(separator: "\n") + "\n", "\(published.stderr)")
            #expect(published.stderr.contains(": \(lines.count) of \(lines.count) tasks from \(file.path) confirmed\n"), "\(published.stderr)")
            var outcome = RoundOutcome(round: round, confirmed: published.status == 0 ? lines.count : 0, delayed: 60, retried: 40)

            func roundRows() async throws -> [String: [TaskResult]] {
                var rows: [String: [TaskResult]] = [:]
                for row in try await fixture.store.attempts(after: 0, limit: 1_000_000) where row.result.id.hasPrefix("\(prefix)-") {
                    rows[row.result.id, default: []].append(row.result)
                }
                return rows
            }
            try await waitUntil("100 results of round \(round.node) stored", timeout: .seconds(120)) {
                try allRunning()
                return try await roundRows().count >= 100
            }
            let stoppedAt = Date().timeIntervalSince1970
            try await Self.cluster(["\(Self.nodeLoss)-node", "\(round.node)"])
            // The outage: the node stays down while delays mature, retries fall due and fires come.
            try await Task.sleep(for: .seconds(10))
            try await Self.cluster(["start-node", "\(round.node)"])
            do {
                try await waitUntil("every task of round \(round.node) with its final result", timeout: .seconds(240)) {
                    try allRunning()
                    let rows = try await roundRows()
                    return rows.count == lines.count && rows.values.allSatisfy { $0.contains { $0.status.isFinal } }
                }
            } catch {
                let rows = try await roundRows()
                let missing = lines.indices.map { index in index < 1200 ? "\(prefix)-t-\(index)" : index < 1260 ? "\(prefix)-d-\(index - 1200)" : "\(prefix)-f-\(index - 1260)" }
                    .filter { id in !(rows[id]?.contains { $0.status.isFinal } ?? false) }
                print("round \(round.node) incomplete: \(rows.count) of \(lines.count) tasks stored; without a final result: \(missing.joined(separator: " "))")
                for id in missing.prefix(5) { print("  \(id): \(rows[id].map { $0.map { "\($0.attempt) \($0.status) \($0.error ?? "")" } } ?? [])") }
                print((try? await Self.cluster(["ctl", "\(up)", "list_queues", "-p", vhost, "name", "type", "messages_ready", "messages_unacknowledged", "consumers", "leader", "online"])) ?? "")
                for process in processes { print(process.output.suffix(3000)) }
                throw error
            }
            let rows = try await roundRows()
            outcome.finals = rows.values.filter { $0.contains { $0.status.isFinal } }.count
            outcome.lost = lines.count - outcome.finals
            outcome.attemptsStored = rows.values.map(\.count).reduce(0, +)
            outcome.reruns = rows.map { id, attempts in attempts.count - (id.contains("-f-") ? 2 : 1) }.reduce(0, +)
            for (id, attempts) in rows {
                let final = attempts.filter { $0.status.isFinal }.max { $0.attempt < $1.attempt }
                if id.contains("-f-") {
                    #expect(final?.status == .failed && final?.attempt == 2, "\(id): \(attempts.map { "\($0.attempt) \($0.status)" })")
                } else {
                    #expect(final?.status == .succeeded, "\(id): \(attempts.map { "\($0.attempt) \($0.status) \($0.error ?? "")" })")
                }
            }
            // Unavailability as users see it: the longest stretch in which no task of the round
            // finished, from just before the loss until the last one.
            let finished = rows.values.joined().compactMap { Self.milliseconds($0.finishedAt) }.filter { $0 >= stoppedAt - 2 }.sorted()
            outcome.resultGap = zip(finished, finished.dropFirst()).map { $1 - $0 }.max() ?? 0
            if let worker = workers[round.node] {
                let name = ":\(worker.pid)"
                let all = try await fixture.store.attempts(after: 0, limit: 1_000_000).map(\.result)
                let lastOfRound = all.filter { $0.id.hasPrefix("\(prefix)-t-") }.compactMap { Self.milliseconds($0.finishedAt) }.max() ?? 0
                let own = all.filter { $0.worker?.hasSuffix(name) == true }.compactMap { Self.milliseconds($0.finishedAt) }
                    .filter { $0 >= stoppedAt - 2 && $0 <= lastOfRound }.sorted()
                if own.last.map({ $0 > stoppedAt }) == true {
                    outcome.workerResumed = zip(own, own.dropFirst()).map { $1 - $0 }.max()
                }
            }
            print("cluster round: \(outcome)")
            outcomes.append(outcome)
            windows.append((round.node, roundStart, Date().timeIntervalSince1970))
            #expect(outcome.lost == 0)
            #expect(outcome.reruns >= 0)
        }

        // The fires: every second from the first fire to the last, each stored once, none lost.
        let beforeStop = Date().timeIntervalSince1970
        for process in [active, standby] { process.signal(SIGTERM) }
        for process in [active, standby] { _ = try await process.wait() }
        let fireRows = try await fixture.store.attempts(after: 0, limit: 1_000_000).filter { $0.result.schedule == schedule }
        var lastFire = fireRows.compactMap { Self.milliseconds($0.result.scheduledFor) }.max() ?? 0
        try await waitUntil("the last fires stored") {
            let rows = try await fixture.store.attempts(after: 0, limit: 1_000_000).filter { $0.result.schedule == schedule }
            lastFire = rows.compactMap { Self.milliseconds($0.result.scheduledFor) }.max() ?? 0
            return lastFire >= beforeStop - 1.5
        }
        let fires = try await fixture.store.attempts(after: 0, limit: 1_000_000).filter { $0.result.schedule == schedule }.map(\.result)
        let seconds = Set(fires.compactMap { Self.milliseconds($0.scheduledFor).map { Int($0.rounded()) } }).sorted()
        let lateness = fires.compactMap { fire in Self.milliseconds(fire.startedAt).flatMap { started in Self.milliseconds(fire.scheduledFor).map { started - $0 } } }
        let reruns = fires.count - Set(fires.map(\.id)).count
        print("cluster fires: \(seconds.count) seconds fired, first to last \(seconds.last.map { $0 - seconds.first! + 1 } ?? 0); \(reruns) re-runs recorded; "
              + "largest lateness \(String(format: "%.1f", lateness.max() ?? 0)) s")
        if let first = seconds.first, let last = seconds.last {
            #expect(seconds == Array(first...last), "every second from the first fire to the last was fired")
        }
        for window in windows {
            let due = Int(window.from.rounded(.up))...Int(window.to.rounded(.down))
            let stored = seconds.filter { due.contains($0) }.count
            print("cluster round fires: node \(window.node): \(stored) fires stored for the \(due.count) seconds of the round")
            #expect(stored == due.count, "round of node \(window.node): every second's fire stored")
        }
        #expect(fires.allSatisfy { $0.status == .succeeded })
        #expect(Set(fires.map(\.id)).count == seconds.count, "one task id per second")
        #expect(outcomes.count == 3)
        // Every process survived the three losses.
        for process in [backend] + Array(workers.values) { #expect(process.isRunning, "\(process.output.suffix(2000))") }
        for process in [backend] + Array(workers.values) { process.signal(SIGTERM) }
        for process in [backend] + Array(workers.values) { _ = try await process.wait() }
        await fixture.close()
        try await Self.cluster(["ctl", "1", "delete_vhost", vhost])
    }
}
