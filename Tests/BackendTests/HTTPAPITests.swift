import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import WarrenCore
import WarrenStore
import WarrenTestSupport

/// The backend's HTTP API against the real server, each answer checked against docs/openapi.yaml.
@Suite("warren backend HTTP API (real server, checked against docs/openapi.yaml)")
struct HTTPAPITests {
    struct Answer {
        var status: Int
        var headers: [String: String]
        var text: String
        var json: JSONValue { (try? JSONText.parse(Array(text.utf8))) ?? .null }
    }

    static func request(_ method: String, _ url: String, body: String? = nil, headers: [String: String] = [:]) async throws -> Answer {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body.map { Data($0.utf8) }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
        return Answer(status: http.statusCode, headers: fields, text: String(decoding: data, as: UTF8.self))
    }

    /// A backend with its HTTP server on a free port of its own.
    static func start(_ harness: BackendHarness, _ arguments: [String] = []) async throws -> (WarrenProcess, String) {
        let port = TestPorts.free()
        let backend = try harness.startBackend(["--http", "127.0.0.1:\(port)"] + arguments)
        let base = "http://127.0.0.1:\(port)"
        try await waitUntil("the HTTP server answering /healthz with 200") {
            guard backend.isRunning else { throw HarnessError.exited(backend.output) }
            return (try? await request("GET", "\(base)/healthz"))?.status == 200
        }
        return (backend, base)
    }

    @Test("results, one task and stats: shapes as documented, filters, pages, 404 and 400")
    func reads() async throws {
        let document = try OpenAPIDocument.load()
        let harness = try await BackendHarness.make(.sqlite)
        let (backend, base) = try await Self.start(harness)
        try await ResultsCommandTests.seed(harness.store)
        let all = try await Self.request("GET", "\(base)/api/results")
        let failed = try await Self.request("GET", "\(base)/api/results?status=failed")
        let first = try await Self.request("GET", "\(base)/api/results?limit=2")
        guard case .object(let firstPage) = first.json, case .string(let next)? = firstPage["next"] else {
            Issue.record("no next cursor: \(first.text)"); return
        }
        let second = try await Self.request("GET", "\(base)/api/results?limit=2&after=\(next)")
        let one = try await Self.request("GET", "\(base)/api/results/r-1")
        let missing = try await Self.request("GET", "\(base)/api/results/nope")
        let stats = try await Self.request("GET", "\(base)/api/stats?since=7d")
        let badStatus = try await Self.request("GET", "\(base)/api/results?status=great")
        let badLimit = try await Self.request("GET", "\(base)/api/results?limit=5000")
        backend.signal(SIGTERM)
        _ = try await backend.wait()
        await harness.close()
        for (answer, path, status) in [(all, "/api/results", 200), (failed, "/api/results", 200), (first, "/api/results", 200),
                                       (second, "/api/results", 200), (one, "/api/results/{id}", 200), (missing, "/api/results/{id}", 404),
                                       (stats, "/api/stats", 200), (badStatus, "/api/results", 400), (badLimit, "/api/results", 400)] {
            #expect(answer.status == status, "\(path): \(answer.text)")
            #expect(answer.headers["content-type"] == "application/json")
            #expect(document.problems("get", path, status: status, body: answer.json) == [], "\(path) \(status): \(answer.text)")
        }
        func ids(_ answer: Answer) -> [String] {
            guard case .object(let page) = answer.json, case .array(let rows)? = page["results"] else { return [] }
            return rows.compactMap { if case .object(let row) = $0, case .string(let id)? = row["id"] { return id } else { return nil } }
        }
        #expect(ids(all) == ["r-2", "r-1", "r-3"])
        #expect(ids(failed) == ["r-2"])
        #expect(ids(first) + ids(second) == ["r-2", "r-1", "r-3"])
        guard case .object(let task) = one.json, case .array(let attempts)? = task["attempts"], case .object(let latest)? = task["latest"] else {
            Issue.record("\(one.text)"); return
        }
        #expect(attempts.count == 2)
        #expect(latest["attempt"] == .integer(2) && latest["status"] == .string("succeeded"))
        #expect(missing.json == .object(["error": .string("no result stored for task id nope")]))
        #expect(badStatus.json == .object(["error": .string("status great: expected one of succeeded, failed, retrying, timed_out, cancelled, expired, rejected, skipped, missed")]))
        guard case .object(let statistics) = stats.json, case .array(let tasks)? = statistics["tasks"] else { Issue.record("\(stats.text)"); return }
        #expect(tasks.count == 2)
    }

    @Test("POST /api/tasks: the bearer token is required when set; a task goes through the worker and is stored with its trace context")
    func submit() async throws {
        let document = try OpenAPIDocument.load()
        let harness = try await BackendHarness.make(.sqlite)
        let worker = try WarrenProcess(["worker", "--queue", "api", "--log-level", "warning"], environment: harness.environment)
        let token = "s3cret-\(UUID().uuidString)"
        let (backend, base) = try await Self.start(harness, ["--api-token", token])
        let body = #"{"task": "warren.echo", "queue": "api", "args": {"via": "http"}, "id": "api-1"}"#
        let anonymous = try await Self.request("POST", "\(base)/api/tasks", body: body)
        let wrong = try await Self.request("POST", "\(base)/api/tasks", body: body, headers: ["Authorization": "Bearer nope"])
        let bad = try await Self.request("POST", "\(base)/api/tasks", body: #"{"task": "warren.echo", "priority": 12}"#,
                                         headers: ["Authorization": "Bearer \(token)"])
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let accepted = try await Self.request("POST", "\(base)/api/tasks", body: body,
                                              headers: ["Authorization": "Bearer \(token)", "traceparent": traceparent])
        var stored: Answer?
        try await waitUntil("the task's result stored and served") {
            stored = try? await Self.request("GET", "\(base)/api/results/api-1", headers: ["Authorization": "Bearer \(token)"])
            return stored?.status == 200
        }
        worker.signal(SIGTERM)
        backend.signal(SIGTERM)
        _ = try await worker.wait()
        let exit = try await backend.wait()
        await harness.close()
        #expect(anonymous.status == 401)
        #expect(anonymous.headers["www-authenticate"] == "Bearer")
        #expect(wrong.status == 401)
        #expect(bad.status == 400)
        #expect(bad.json == .object(["error": .string("priority: expected 0 to 9, got 12")]))
        #expect(accepted.status == 202)
        #expect(accepted.json == .object(["id": .string("api-1"), "queue": .string("api"), "task": .string("warren.echo")]))
        for (answer, status) in [(anonymous, 401), (wrong, 401), (bad, 400), (accepted, 202)] {
            #expect(document.problems("post", "/api/tasks", status: status, body: answer.json) == [], "\(status): \(answer.text)")
        }
        guard case .object(let task)? = stored?.json, case .object(let latest)? = task["latest"] else { Issue.record("no stored result"); return }
        #expect(latest["result"] == .object(["via": .string("http")]))
        // The run's own span, in the trace of the request's traceparent.
        guard case .string(let stored)? = latest["traceparent"] else { Issue.record("no traceparent stored"); return }
        #expect(TraceParent.traceID(of: stored) == TraceParent.traceID(of: traceparent) && stored != traceparent)
        #expect(!exit.output.contains(token), "the token never reaches the log")
    }

    @Test("POST /api/tasks is rate limited per client: a clear 429 with Retry-After")
    func rateLimit() async throws {
        let document = try OpenAPIDocument.load()
        let harness = try await BackendHarness.make(.sqlite)
        // 0.01 per second: a burst of one, then one every 100 seconds, however slow the machine is.
        let (backend, base) = try await Self.start(harness, ["--api-rate", "0.01"])
        var statuses: [Int] = []
        var limited: Answer?
        for index in 0..<4 {
            let answer = try await Self.request("POST", "\(base)/api/tasks", body: #"{"task": "warren.echo", "queue": "rate", "id": "rate-\#(index)"}"#)
            statuses.append(answer.status)
            if answer.status == 429 { limited = answer }
        }
        backend.signal(SIGTERM)
        _ = try await backend.wait()
        await harness.close()
        #expect(statuses == [202, 429, 429, 429], "a burst of one, then refused")
        let retryAfter = try #require(limited?.headers["retry-after"].flatMap { Int($0) })
        #expect((1...100).contains(retryAfter))
        #expect(limited?.json == .object(["error": .string(
            "rate limit: this client sent more than 0.01 writes per second (bursts of 1); retry after \(retryAfter) s")]))
        #expect(document.problems("post", "/api/tasks", status: 429, body: limited?.json ?? .null) == [])
    }

    @Test("healthz and metrics; every route the server answers is documented")
    func healthAndMetrics() async throws {
        let document = try OpenAPIDocument.load()
        let harness = try await BackendHarness.make(.sqlite)
        let (backend, base) = try await Self.start(harness)
        try await harness.publish(sampleResults("h", count: 30))
        try await harness.waitForCounts(tasks: 30, attempts: 30)
        let health = try await Self.request("GET", "\(base)/healthz")
        let ready = try await Self.request("GET", "\(base)/readyz")
        let dashboard = try await Self.request("GET", "\(base)/api/dashboard")
        var metrics = try await Self.request("GET", "\(base)/metrics")
        try await waitUntil("30 results in /metrics") {
            metrics = try await Self.request("GET", "\(base)/metrics")
            return prometheusSample(metrics.text, "warren_backend_results_stored_total") == 30
        }
        backend.signal(SIGTERM)
        _ = try await backend.wait()
        await harness.close()
        #expect(health.json == .object(["status": .string("ok")]))
        #expect(document.problems("get", "/healthz", status: 200, body: health.json) == [])
        #expect(ready.json == .object(["status": .string("ok"), "store": .string("ok"), "broker": .string("ok"), "problems": .array([])]))
        #expect(document.problems("get", "/readyz", status: 200, body: ready.json) == [])
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
        #expect(prometheusSample(metrics.text, "warren_broker_connected") == 1)
        #expect(dashboard.status == 200)
        #expect(document.problems("get", "/api/dashboard", status: 200, body: dashboard.json) == [], "\(dashboard.text)")
        #expect(document.operations == ["get /api/results", "get /api/results/{id}", "get /api/stats", "post /api/tasks", "get /api/dashboard",
                                        "get /api/schedules", "post /api/schedules/{name}/pause", "post /api/schedules/{name}/resume",
                                        "post /api/schedules/{name}/trigger", "post /api/schedules/{name}/backfill",
                                        "get /api/schedules/{name}/history", "get /api/dead-letters", "get /api/dead-letters/{id}",
                                        "post /api/dead-letters/requeue", "post /api/dead-letters/purge", "get /api/whoami",
                                        "get /", "get /tasks/{id}", "get /schedules/{name}", "get /dead-letters", "get /signin", "post /signin", "post /signout", "get /healthz", "get /readyz", "get /metrics"])
    }
}
