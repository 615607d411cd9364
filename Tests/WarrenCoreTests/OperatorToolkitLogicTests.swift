import Foundation
import Testing
@testable import WarrenCore

/// The pure parts of the operator's toolkit: which dead letters a selection takes, a requeued
/// task's fresh retries, worker announcements and who is alive, a catalog task's queue.
@Suite struct OperatorToolkitLogicTests {
    static func entry(_ id: String, reason: String) -> DeadLetterEntry {
        DeadLetterEntry(id: id, task: "t", reason: reason, error: nil, queue: "q", deadAt: nil, publishedAt: nil,
                        attempt: 1, schedule: nil, args: nil, bytes: 2)
    }

    @Test func aDeadLetterSelectionTakesTheIdsGivenAndTheReason() {
        let failed = Self.entry("a", reason: "failed"), unknown = Self.entry("b", reason: "unknown-task")
        #expect(failed.matches(ids: [], reason: nil) && unknown.matches(ids: [], reason: nil), "no ids: all")
        #expect(failed.matches(ids: ["a"], reason: nil) && !unknown.matches(ids: ["a"], reason: nil))
        #expect(!failed.matches(ids: [], reason: "unknown-task") && unknown.matches(ids: [], reason: "unknown-task"))
        #expect(!unknown.matches(ids: ["b"], reason: "failed"), "both must hold")
        #expect(failed.json["when"] == nil && failed.json["dead_at"] == .null && failed.json["attempt"] == .integer(1))
    }

    @Test func aRequeuedTaskGetsItsRetriesAfreshWithinTheAttemptLimit() {
        let retry = RetryPolicy(attempts: 3)
        var message = TaskMessage(task: "t", attempt: 3)
        #expect(!message.retries(under: retry), "attempt 3 of 3: no retry")
        message.attempt = 4
        message.firstAttempt = 4
        #expect(message.attemptInSeries == 1)
        #expect(message.retries(under: retry), "requeued as attempt 4: attempts 5 and 6 follow")
        message.attempt = 6
        #expect(message.attemptInSeries == 3 && !message.retries(under: retry))
        message.attempt = RetryPolicy.attemptLimit
        message.firstAttempt = RetryPolicy.attemptLimit
        #expect(!message.retries(under: retry), "never past the attempt limit")
    }

    @Test func announcementsRoundTripAndTellWhoIsAlive() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var first = WorkerAnnouncement(worker: "w1", host: "h", pid: 7, version: "1", queues: ["a", "b"], concurrency: 4, running: 2,
                                       finished: 10, unsettled: ["a": 3, "b": 1], at: now.addingTimeInterval(-4), intervalMs: 5000)
        first.busy = 0.375
        first.runningTasks = [WorkerAnnouncement.RunningTask(id: "t1", task: "render", attempt: 2, since: now.addingTimeInterval(-30))]
        let parsed = try #require(WorkerAnnouncement(json: try JSONText.parse(Array(first.json.jsonText.utf8))))
        #expect(parsed.busy == 0.375 && parsed.runningTasks.map(\.id) == ["t1"] && parsed.runningTasks.first?.attempt == 2)
        #expect(parsed.worker == "w1" && parsed.queues == ["a", "b"] && parsed.unsettled == ["a": 3, "b": 1] && parsed.intervalMs == 5000)
        #expect(abs(parsed.at.timeIntervalSince(first.at)) < 0.001)
        #expect(WorkerAnnouncement(json: .object(["worker": .string("x")])) == nil)
        var older = first
        older.at = now.addingTimeInterval(-9)
        older.unsettled = ["a": 99]
        var silent = first
        silent.worker = "w2"
        silent.at = now.addingTimeInterval(-16)
        var stopped = first
        stopped.worker = "w3"
        stopped.stopping = true
        let alive = WorkerAnnouncement.alive([older, first, silent, stopped], at: now)
        #expect(alive.map(\.worker) == ["w1"], "the newest of each; 3 missed intervals is gone; a stopping one is gone at once")
        #expect(alive.first?.unsettled == ["a": 3, "b": 1])
        var other = first
        other.worker = "w4"
        other.unsettled = ["a": 2]
        #expect(WorkerAnnouncement.unsettled([first, other]) == ["a": 5, "b": 1])
    }

    @Test func aCatalogTaskNamesItsQueueAndSchedulesWithoutOneGoThere() throws {
        let parsed = TaskCatalogParser.parse(yaml: """
            tasks:
              images.resize:
                run: ["/bin/true"]
                queue: images
              plain:
                run: ["/bin/true"]
            """, file: "t.yaml")
        #expect(parsed.errors.isEmpty)
        let catalog = TaskCatalog(parsed.tasks)
        #expect(catalog.queue(for: "images.resize") == "images")
        #expect(catalog.queue(for: "plain") == "default" && catalog.queue(for: "unknown") == "default")
        #expect(catalog.namedQueues == ["images"] && catalog.taskQueues == ["images.resize": "images"])
        let bad = TaskCatalogParser.parse(yaml: "tasks:\n  x:\n    run: [\"/bin/true\"]\n    queue: \"amq.x\"\n", file: "t.yaml")
        #expect(bad.errors.map(\.description) == ["t.yaml:4:12: queue: queue names starting with \"amq.\" are reserved by the broker"])

        let schedules = ScheduleDirectory.parse("""
            schedules:
              own:
                every: 1m
                task: images.resize
              named:
                every: 1m
                task: images.resize
                queue: elsewhere
            """, file: "s.yaml").schedules
        let resolved = schedules.map { $0.resolvingQueue(taskQueues: catalog.taskQueues) }
        #expect(resolved.map(\.queue) == ["images", "elsewhere"], "a queue in the file wins")
        var loaded = LoadedSchedules(instance: "i", loadedAt: 1, files: ["s.yaml": """
            schedules:
              own:
                every: 1m
                task: images.resize
            """])
        loaded.taskQueues = catalog.taskQueues
        let read = try #require(LoadedSchedules(body: loaded.body))
        #expect(read.taskQueues == ["images.resize": "images"])
        #expect(read.scheduleSet().schedules.map(\.queue) == ["images"], "the CLI sees the queue the scheduler fires into")
    }

    @Test func aTaskRequestWithoutAQueueTakesTheCatalogs() throws {
        let request = try TaskRequest(json: .object(["task": .string("images.resize")])) { $0 == "images.resize" ? "images" : "default" }
        #expect(request.queue == "images")
        let given = try TaskRequest(json: .object(["task": .string("images.resize"), "queue": .string("q")])) { _ in "images" }
        #expect(given.queue == "q")
        #expect(try TaskRequest(json: .object(["task": .string("x")])).queue == "default")
    }
}
