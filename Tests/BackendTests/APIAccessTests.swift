import Foundation
import Testing
import RabbitMQ
import WarrenBackend
import WarrenCore
import WarrenTestSupport

/// Who may do what on the HTTP API (SPEC §9): the pure rule, then every route against a real
/// backend with no token, the read token and the admin token.
@Suite("HTTP API access: tokens, sign-in, rate limits (real server)")
struct APIAccessTests {
    @Test func theRuleForEachKindOfRoute() {
        #expect(APIAccess.need(method: "GET", path: "/healthz", metricsOpen: false) == .open)
        #expect(APIAccess.need(method: "GET", path: "/readyz", metricsOpen: false) == .read)
        #expect(APIAccess.need(method: "POST", path: "/signin", metricsOpen: false) == .open)
        #expect(APIAccess.need(method: "GET", path: "/metrics", metricsOpen: false) == .read)
        #expect(APIAccess.need(method: "GET", path: "/metrics", metricsOpen: true) == .open)
        #expect(APIAccess.need(method: "GET", path: "/api/results", metricsOpen: false) == .read)
        #expect(APIAccess.need(method: "POST", path: "/api/tasks", metricsOpen: false) == .admin)
        #expect(APIAccess.need(method: "DELETE", path: "/api/results", metricsOpen: false) == .admin)
        let admin = APIIdentity(role: .admin, via: .bearer), read = APIIdentity(role: .read, via: .bearer)
        let dashboard = APIIdentity(role: .admin, via: .session)
        #expect(APIAccess.decide(.admin, identity: nil, authRequired: false, dashboardHeader: false) == .allow, "no token configured: open")
        #expect(APIAccess.decide(.read, identity: nil, authRequired: true, dashboardHeader: false) == .unauthorized)
        #expect(APIAccess.decide(.open, identity: nil, authRequired: true, dashboardHeader: false) == .allow)
        #expect(APIAccess.decide(.read, identity: read, authRequired: true, dashboardHeader: false) == .allow)
        #expect(APIAccess.decide(.admin, identity: read, authRequired: true, dashboardHeader: false) == .forbidden)
        #expect(APIAccess.decide(.admin, identity: admin, authRequired: true, dashboardHeader: false) == .allow)
        #expect(APIAccess.decide(.admin, identity: dashboard, authRequired: true, dashboardHeader: false) == .crossSite)
        #expect(APIAccess.decide(.admin, identity: dashboard, authRequired: true, dashboardHeader: true) == .allow)
        #expect(admin.name == "api:admin-token" && dashboard.name == "api:admin-token (dashboard)")
    }

    @Test func listeningBeyondLoopbackNeedsATokenOrTheInsecureFlag() throws {
        let connection = try ConnectionConfiguration(urls: "amqp://guest:guest@127.0.0.1:1/")
        var settings = HTTPConfiguration(host: "0.0.0.0", port: 8080, connection: connection, metricsText: { "" })
        #expect(throws: HTTPConfigurationError.self) { try settings.validated() }
        #expect((try? settings.validated()) == nil)
        settings.insecureNoAuth = true
        #expect((try? settings.validated()) != nil)
        settings.insecureNoAuth = false
        settings.readToken = "r"
        #expect((try? settings.validated()) != nil)
        settings.apiToken = "r"
        #expect(throws: HTTPConfigurationError.self) { try settings.validated() }
        for host in ["127.0.0.1", "localhost", "::1"] {
            #expect((try? HTTPConfiguration(host: host, port: 1, connection: connection, metricsText: { "" }).validated()) != nil, "\(host)")
        }
    }

    static let schedules = """
        schedules:
          tick:
            cron: "0 3 * * *"
            task: warren.echo
            queue: access
        """

    /// A backend with both tokens and a scheduler on `schedules`, in a virtual host of its own.
    static func withBackend(_ arguments: [String] = [], _ body: (BackendHarness, String, WarrenProcess) async throws -> Void) async throws {
        let harness = try await BackendHarness.make(.sqlite)
        let directory = try ScheduleOperationsTests.directory(["access.yaml": schedules])
        let scheduler = try WarrenProcess(["scheduler", "--schedules", directory], environment: harness.environment)
        let (backend, base) = try await HTTPAPITests.start(harness, ["--api-token", "admin-t", "--api-read-token", "read-t"] + arguments)
        do {
            try await waitUntil("the scheduler to publish its schedules") { scheduler.output.contains("schedules in force published") }
            try await body(harness, base, backend)
        } catch {
            await ScheduleOperationsTests.stop([scheduler, backend])
            await harness.close()
            throw error
        }
        await ScheduleOperationsTests.stop([scheduler, backend])
        await harness.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test("every route x {no token, read token, admin token} answers as SPEC §9 says; writes are attributed")
    func everyRouteByToken() async throws {
        let document = try OpenAPIDocument.load()
        try await Self.withBackend { harness, base, backend in
            // (method, path, body, status without a token, with the read token, with the admin token)
            let table: [(String, String, String?, Int, Int, Int)] = [
                ("GET", "/healthz", nil, 200, 200, 200),
                ("GET", "/readyz", nil, 401, 200, 200),
                ("GET", "/api/results", nil, 401, 200, 200),
                ("GET", "/api/results/nothing-here", nil, 401, 404, 404),
                ("GET", "/api/stats", nil, 401, 200, 200),
                ("GET", "/api/dashboard", nil, 401, 200, 200),
                ("GET", "/api/schedules", nil, 401, 200, 200),
                ("GET", "/api/whoami", nil, 401, 200, 200),
                ("GET", "/metrics", nil, 401, 200, 200),
                ("POST", "/api/tasks", #"{"task": "warren.echo", "queue": "access"}"#, 401, 403, 202),
                ("POST", "/api/schedules/tick/pause", #"{"reason": "table"}"#, 401, 403, 200),
                ("POST", "/api/schedules/tick/resume", nil, 401, 403, 200),
                ("POST", "/api/schedules/tick/trigger", nil, 401, 403, 202),
                ("POST", "/api/schedules/tick/backfill", #"{"from": "2026-03-01", "to": "2026-03-03", "dry_run": true}"#, 401, 403, 200),
                ("POST", "/api/schedules/tcik/pause", nil, 401, 403, 404),
            ]
            for (method, path, body, none, read, admin) in table {
                for (token, expected) in [(nil, none), ("read-t", read), ("admin-t", admin)] {
                    let headers = token.map { ["Authorization": "Bearer \($0)"] } ?? [:]
                    let answer = try await HTTPAPITests.request(method, base + path, body: body, headers: headers)
                    #expect(answer.status == expected, "\(method) \(path) with \(token ?? "no token"): \(answer.status) \(answer.text.prefix(200))")
                    if path != "/metrics", path != "/healthz" || expected != 200 {
                        let documented = path.replacingOccurrences(of: "/tick/", with: "/{name}/").replacingOccurrences(of: "/tcik/", with: "/{name}/")
                            .replacingOccurrences(of: "/nothing-here", with: "/{id}")
                        #expect(document.problems(method.lowercased(), documented, status: answer.status, body: answer.json) == [],
                                "\(method) \(path) \(answer.status): \(answer.text.prefix(200))")
                    }
                    if answer.status == 401 { #expect(answer.headers["www-authenticate"] == "Bearer") }
                }
            }
            // Pages: without a token the sign-in form, with one the dashboard.
            let page = try await HTTPAPITests.request("GET", base + "/")
            #expect(page.text.contains("Sign in with the backend's API token"))
            let signedPage = try await HTTPAPITests.request("GET", base + "/tasks/x", headers: ["Authorization": "Bearer read-t"])
            #expect(signedPage.text.contains("<title>Warren</title>"))
            let whoami = try await HTTPAPITests.request("GET", base + "/api/whoami", headers: ["Authorization": "Bearer read-t"])
            #expect(whoami.json == .object(["role": .string("read")]))
            let forbidden = try await HTTPAPITests.request("POST", base + "/api/tasks", body: "{}", headers: ["Authorization": "Bearer read-t"])
            #expect(forbidden.json == .object(["error": .string("the read token may only read; POST /api/tasks needs the admin token (--api-token)")]))
            // Writes are logged and stored with who did them.
            try await waitUntil("the pause logged with who") { backend.output.contains("by=api:admin-token") }
            let list = try await harness.warren(["schedules", "pause", "tick", "--reason", "table"])
            #expect(list.stdout == "tick: paused until resumed\n", "the API's resume was recorded, so pausing again changes something")
            let schedules = try await HTTPAPITests.request("GET", base + "/api/schedules", headers: ["Authorization": "Bearer read-t"])
            guard case .object(let object) = schedules.json, case .array(let rows)? = object["schedules"],
                  case .object(let tick)? = rows.first, case .object(let pause)? = tick["runtime_pause"] else {
                Issue.record("GET /api/schedules: \(schedules.text)")
                return
            }
            #expect(pause["by"]?.stringValue?.hasPrefix("cli:") == true)
            #expect(pause["reason"] == .string("table"))
        }
    }

    @Test("--metrics-open serves /metrics without a token; --http beyond loopback without a token refuses to start")
    func metricsOpenAndLoopback() async throws {
        try await Self.withBackend(["--metrics-open"]) { _, base, _ in
            let metrics = try await HTTPAPITests.request("GET", base + "/metrics")
            let results = try await HTTPAPITests.request("GET", base + "/api/results")
            #expect(metrics.status == 200)
            #expect(results.status == 401)
        }
        let refused = try await runWarren(["backend", "--http", "0.0.0.0:\(TestPorts.free())"], environment: ["WARREN_API_TOKEN": ""])
        #expect(refused.status == 2)
        #expect(refused.stderr.hasPrefix("warren: --http 0.0.0.0:"))
        #expect(refused.stderr.contains("listening beyond loopback needs --api-token (or WARREN_API_TOKEN); give --insecure-no-auth"))
    }

    @Test("rate limits are per token, and per forwarded address behind a trusted proxy")
    func rateLimitsPerTokenAndAddress() async throws {
        try await Self.withBackend(["--api-rate", "0.01"]) { _, base, _ in
            let body = #"{"task": "warren.echo", "queue": "access"}"#
            let first = try await HTTPAPITests.request("POST", base + "/api/tasks", body: body, headers: ["Authorization": "Bearer admin-t"])
            let second = try await HTTPAPITests.request("POST", base + "/api/tasks", body: body, headers: ["Authorization": "Bearer admin-t"])
            #expect(first.status == 202)
            #expect(second.status == 429)
            #expect(second.json.objectValue?["error"]?.stringValue?.hasPrefix("rate limit: the admin token sent more than 0.01 writes per second") == true)
        }
        let harness = try await BackendHarness.make(.sqlite)
        let (backend, base) = try await HTTPAPITests.start(harness, ["--api-rate", "0.01", "--trust-forwarded-for"])
        let body = #"{"task": "warren.echo", "queue": "proxied"}"#
        let a = try await HTTPAPITests.request("POST", base + "/api/tasks", body: body, headers: ["X-Forwarded-For": "10.0.0.1, 127.0.0.1"])
        let b = try await HTTPAPITests.request("POST", base + "/api/tasks", body: body, headers: ["X-Forwarded-For": "10.0.0.2"])
        let aAgain = try await HTTPAPITests.request("POST", base + "/api/tasks", body: body, headers: ["X-Forwarded-For": "10.0.0.1"])
        await ScheduleOperationsTests.stop([backend])
        await harness.close()
        let statuses: [Int] = [a.status, b.status, aAgain.status]
        #expect(statuses == [202, 202, 429])
    }
}

extension JSONValue {
    var objectValue: [String: JSONValue]? { if case .object(let value) = self { value } else { nil } }
}
