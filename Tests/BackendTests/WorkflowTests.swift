import Foundation
import Testing
import WarrenCore
import WarrenMessaging
import WarrenTestSupport

/// Workflows (SPEC §8) with the real binaries: `warren publish NAME` starts a run, the backend
/// coordinates it, a worker runs its steps, `warren results show RUN` shows the graph.
@Suite("workflows (real worker, backend, broker, SQLite)")
struct WorkflowTests {
    /// A directory with one schedule file.
    static func schedules(_ yaml: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warren-workflows-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try yaml.write(to: directory.appendingPathComponent("workflows.yaml"), atomically: true, encoding: .utf8)
        return directory.path
    }

    /// The graph line of `warren results show RUN --json`, and the steps by name.
    static func graph(_ harness: BackendHarness, _ run: String) async throws -> (status: String, steps: [String: JSONValue])? {
        let shown = try await harness.warren(["results", "show", run, "--json"])
        guard shown.status == 0, let first = OperatorToolkitTests.jsonLines(shown.stdout).first, let workflow = first["workflow"],
              let status = workflow["status"]?.stringValue, case .array(let steps)? = workflow["steps"] else { return nil }
        return (status, Dictionary(uniqueKeysWithValues: steps.compactMap { step in step["name"]?.stringValue.map { ($0, step) } }))
    }

    /// The run's graph once its record has a final status. The run's result reaches a waiter as
    /// soon as the broker routes it, a moment before the coordinator saves the record (and the
    /// backend stores the result): `results show` right after `publish --wait` may still say running.
    static func finishedGraph(_ harness: BackendHarness, _ run: String) async throws -> (status: String, steps: [String: JSONValue])? {
        var graph = try await Self.graph(harness, run)
        try await waitUntil("the record of run \(run) to have a final status") {
            graph = try await Self.graph(harness, run)
            return graph.map { $0.status != "running" } ?? false
        }
        return graph
    }

    /// Runs `body`, then stops `processes` and closes the harness, whether it threw or not.
    static func running(_ harness: BackendHarness, _ processes: [WarrenProcess], _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            await OperatorToolkitTests.stop(processes)
            await harness.close()
            throw error
        }
        await OperatorToolkitTests.stop(processes)
        await harness.close()
    }

    static func args(_ harness: BackendHarness, _ id: String) async throws -> JSONValue? {
        OperatorToolkitTests.jsonLines(try await harness.warren(["results", "show", id, "--json"]).stdout).last?["args"]
    }

    @Test("a chain with a fan-out and a fan-in: each step after the ones it follows, upstream results in downstream args, the run succeeded")
    func fanOutFanIn() async throws {
        let directory = try Self.schedules("""
            workflows:
              etl:
                steps:
                  extract:   { task: warren.echo, args: { path: "/data/{args.day}.csv", rows: 12 } }
                  transform: { task: warren.echo, after: [extract], args: { input: "{steps.extract.result.path}", rows: "{steps.extract.result.rows}" } }
                  load-eu:   { task: warren.echo, after: [transform], args: { region: eu } }
                  load-us:   { task: warren.echo, after: [transform], args: { region: us } }
                  report:    { task: warren.echo, after: [load-eu, load-us], args: { regions: ["{steps.load-eu.result.region}", "{steps.load-us.result.region}"], run: "{run.id}" } }
            """)
        let harness = try await BackendHarness.make(.sqlite)
        let port = TestPorts.free()
        let backend = try harness.startBackend(["--http", "127.0.0.1:\(port)", "--schedules", directory])
        let worker = try WarrenProcess(["worker", "--log-level", "warning"], environment: harness.environment)
        try await Self.running(harness, [worker, backend]) {
            let published = try await harness.warren(["publish", "etl", "--schedules", directory, "--arg", "day=2026-12-06", "--id", "etl-1", "--wait"])
            #expect(published.status == 0, "\(published.stderr)")
            #expect(published.stdout.hasPrefix("etl-1\n"), "\(published.stdout)")
            let final = try #require(OperatorToolkitTests.jsonLines(published.stdout).last)
            #expect(final["status"] == .string("succeeded") && final["task"] == .string("etl") && final["id"] == .string("etl-1"))

            let graph = try #require(try await Self.finishedGraph(harness, "etl-1"))
            #expect(graph.status == "succeeded")
            #expect(graph.steps.keys.sorted() == ["extract", "load-eu", "load-us", "report", "transform"])
            #expect(graph.steps.values.allSatisfy { $0["state"] == .string("succeeded") }, "\(graph.steps)")
            #expect(graph.steps["report"]?["task_id"] == .string("etl-1/report"))
            #expect(try await Self.args(harness, "etl-1/transform") == .object(["input": .string("/data/2026-12-06.csv"), "rows": .integer(12)]))
            #expect(try await Self.args(harness, "etl-1/report") == .object(["regions": .array([.string("eu"), .string("us")]), "run": .string("etl-1")]))

            // Each step started after every step it follows had finished.
            var finished: [String: Date] = [:]
            var started: [String: Date] = [:]
            for step in graph.steps.keys {
                let row = try #require(OperatorToolkitTests.jsonLines(try await harness.warren(["results", "show", "etl-1/\(step)", "--json"]).stdout).last)
                started[step] = row["started_at"]?.stringValue.flatMap(TaskResult.parseTimestamp)
                finished[step] = row["finished_at"]?.stringValue.flatMap(TaskResult.parseTimestamp)
            }
            for (step, before) in [("transform", "extract"), ("load-eu", "transform"), ("load-us", "transform"), ("report", "load-eu"), ("report", "load-us")] {
                #expect(try #require(started[step]) >= (try #require(finished[before])), "\(step) after \(before)")
            }

            let text = try await harness.warren(["results", "show", "etl-1"])
            #expect(text.stdout.contains("workflow  etl\nrun       etl-1\nstatus    succeeded"), "\(text.stdout)")
            #expect(text.stdout.contains("report     succeeded"), "\(text.stdout)")
            // The dashboard draws the graph: a box per step in its state, a line per `after`.
            let page = try await DashboardTests.chromium("http://127.0.0.1:\(port)/tasks/etl-1")
            #expect(page.contains(#"<section class="wide" id="workflow"><h2>Workflow etl"#), "\(page)")
            // (The page's own script holds the templates, with `${…}` where the drawn page has values.)
            for step in ["extract", "transform", "load-eu", "load-us", "report"] {
                #expect(page.contains(#"class="step" data-step="\#(step)" data-state="succeeded""#), "\(step) drawn")
            }
            #expect(page.components(separatedBy: #"<path d="M"#).count - 2 == 5, "one line per after: 1 + 2 + 2")
            #expect(page.contains(#"href="/tasks/etl-1%2Freport""#))
            try FileManager.default.createDirectory(atPath: DashboardTests.screenshots, withIntermediateDirectories: true)
            _ = try await DashboardTests.chromium("http://127.0.0.1:\(port)/tasks/etl-1", screenshot: DashboardTests.screenshots + "/workflow.png")

            #expect(try await harness.warren(["publish", "etl", "--schedules", directory, "--id", "etl-1"]).status == 0)
            // POST /api/tasks starts a run as `publish` does; what only a task can have is refused.
            let api = try await HTTPAPITests.request("POST", "http://127.0.0.1:\(port)/api/tasks", body: #"{"task": "etl", "id": "etl-api", "args": {"day": "2026-12-07"}}"#)
            #expect(api.status == 202, "\(api.text)")
            try await waitUntil("the run started by the API to succeed") { try await Self.graph(harness, "etl-api")?.status == "succeeded" }
            #expect(try await Self.args(harness, "etl-api/transform") == .object(["input": .string("/data/2026-12-07.csv"), "rows": .integer(12)]))
            let delayed = try await HTTPAPITests.request("POST", "http://127.0.0.1:\(port)/api/tasks", body: #"{"task": "etl", "delay": "1m"}"#)
            #expect(delayed.status == 400 && delayed.text.contains("not for a workflow (etl is one)"), "\(delayed.text)")
            let refused = try await harness.warren(["publish", "etl", "--schedules", directory, "--priority", "3"])
            #expect(refused.status == 2 && refused.stderr.contains("--priority: not for a workflow (etl is one)"), "\(refused.stderr)")

            // Starting etl-1 again (before the API's run, which the coordinator takes after it) started nothing.
            #expect(OperatorToolkitTests.jsonLines(try await harness.warren(["results", "show", "etl-1", "--json"]).stdout).count == 2)
            #expect(OperatorToolkitTests.jsonLines(try await harness.warren(["results", "show", "etl-1/extract", "--json"]).stdout).count == 1)
        }
    }

    @Test("a schedule whose task names a workflow starts a run per fire, attributed to the schedule, with the fire's id")
    func startedBySchedule() async throws {
        let directory = try Self.schedules("""
            workflows:
              pair:
                steps:
                  first:  { task: warren.echo, args: { at: "{args.at}" } }
                  second: { task: warren.echo, after: [first], args: { got: "{steps.first.result.at}" } }
            schedules:
              every-second:
                every: 1s
                task: pair
                args: { at: tick }
            """)
        let harness = try await BackendHarness.make(.sqlite)
        let backend = try harness.startBackend()
        let worker = try WarrenProcess(["worker", "--log-level", "warning"], environment: harness.environment)
        // Two schedulers, as a deployment with a standby runs them: one fire, one run.
        let scheduler = try WarrenProcess(["scheduler", "--schedules", directory, "--log-level", "warning"], environment: harness.environment)
        let standby = try WarrenProcess(["scheduler", "--schedules", directory, "--log-level", "warning"], environment: harness.environment)
        try await Self.running(harness, [scheduler, standby, worker, backend]) {
            var runs: [JSONValue] = []
            try await waitUntil("a run of the schedule to succeed") {
                runs = OperatorToolkitTests.jsonLines(try await harness.warren(["results", "list", "--schedule", "every-second", "--status", "succeeded", "--json"]).stdout)
                return !runs.isEmpty
            }
            let run = try #require(runs.first)
            let id = try #require(run["id"]?.stringValue)
            #expect(run["task"] == .string("pair"))
            #expect(id.hasPrefix("every-second@"), "the fire's task id: \(id)")
            #expect(run["scheduled_for"]?.stringValue.map { id.hasSuffix($0) || id.contains("@") } == true)
            let graph = try #require(try await Self.finishedGraph(harness, id))
            #expect(graph.status == "succeeded")
            #expect(try await Self.args(harness, "\(id)/second") == .object(["got": .string("tick")]))
            let shown = OperatorToolkitTests.jsonLines(try await harness.warren(["results", "show", id, "--json"]).stdout)
            #expect(shown.count == 2, "the graph, then the run's one result: \(shown)")
        }
    }

    @Test("a failed step: the steps after it are recorded skipped, other branches run, the run failed and `publish --wait` exits 1")
    func failureStops() async throws {
        let directory = try Self.schedules("""
            workflows:
              nightly:
                steps:
                  prepare: { task: warren.echo }
                  broken:  { task: fails, after: [prepare] }
                  after-broken: { task: warren.echo, after: [broken] }
                  last:    { task: warren.echo, after: [after-broken] }
                  side:    { task: warren.echo, after: [prepare] }
                  bad-arg: { task: warren.echo, after: [side], args: { x: "{steps.side.result.missing}" } }
            """)
        let catalog = try OperatorToolkitTests.catalogFile("""
            tasks:
              fails:
                run: ["/bin/false"]
            """)
        let harness = try await BackendHarness.make(.sqlite)
        let backend = try harness.startBackend()
        let worker = try WarrenProcess(["worker", "--tasks", catalog, "--log-level", "warning"], environment: harness.environment)
        try await Self.running(harness, [worker, backend]) {
            let published = try await harness.warren(["publish", "nightly", "--schedules", directory, "--id", "n-1", "--wait"])
            #expect(published.status == 1, "\(published.stdout) \(published.stderr)")
            let final = try #require(OperatorToolkitTests.jsonLines(published.stdout).last)
            #expect(final["status"] == .string("failed"))
            #expect(final["error"] == .string("step \"broken\" ended failed"))
            let graph = try #require(try await Self.finishedGraph(harness, "n-1"))
            #expect(graph.status == "failed")
            let states = graph.steps.mapValues { $0["state"]?.stringValue ?? "?" }
            #expect(states == ["prepare": "succeeded", "broken": "failed", "after-broken": "skipped", "last": "skipped",
                               "side": "succeeded", "bad-arg": "rejected"])
            let skipped = try #require(OperatorToolkitTests.jsonLines(try await harness.warren(["results", "show", "n-1/last", "--json"]).stdout).last)
            #expect(skipped["error"] == .string("after \"after-broken\", which was skipped"))
            let rejected = try #require(OperatorToolkitTests.jsonLines(try await harness.warren(["results", "show", "n-1/bad-arg", "--json"]).stdout).last)
            #expect(rejected["error"] == .string("args: {steps.side.result.missing}: step \"side\"'s result has no \"missing\""))

            // A start published by another program with a graph no file would pass ends at once, rejected.
            let cycle = WorkflowDefinition(name: "loop", steps: [WorkflowStep(name: "a", task: "warren.echo", after: ["b"]),
                                                                 WorkflowStep(name: "b", task: "warren.echo", after: ["a"])])
            let start = WorkflowEvent.start(WorkflowRun(id: "loop-1", definition: cycle, args: .object([:]), queue: "default", startedMs: 0)).outgoing()
            try await harness.publisher.publish(start.body, exchange: start.exchange, routingKey: start.routingKey, properties: start.properties,
                                                mandatory: true)
            try await waitUntil("the run to be rejected") { try await Self.graph(harness, "loop-1")?.status == "rejected" }
            let loop = try #require(OperatorToolkitTests.jsonLines(try await harness.warren(["results", "show", "loop-1", "--json"]).stdout).last)
            #expect(loop["error"] == .string("workflow cannot run: the steps' after lists form a cycle"))
        }
    }
}
