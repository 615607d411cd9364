import Foundation
import Hummingbird
import HummingbirdAuth
import Logging
import ServiceLifecycle
import Synchronization
import WarrenCore
import WarrenStore

/// The backend's HTTP server: the results API (docs/openapi.yaml), task submission, health,
/// metrics and the dashboard.
public final class BackendHTTPServer: Sendable {
    let configuration: HTTPConfiguration
    let state: BackendState
    let logger: Logger
    let submitter: TaskSubmitter
    let buckets: Mutex<TokenBuckets>
    let schedules: ScheduleCache
    let runtimeState = RuntimeStateCache()

    public init(configuration: HTTPConfiguration, state: BackendState, logger: Logger) {
        self.configuration = configuration
        self.state = state
        self.logger = logger
        submitter = TaskSubmitter(configuration: configuration.connection, queueOptions: configuration.queueOptions,
                                  tracing: configuration.tracing)
        buckets = Mutex(TokenBuckets(perSecond: configuration.rate.perSecond, burst: configuration.rate.burst))
        schedules = ScheduleCache(directory: configuration.schedulesDirectory)
    }

    /// The server as a service to run beside the backend. Every request passes the sign-in
    /// session, then the bearer token, then `APIAccess` (SPEC §9).
    public func service() -> some Service {
        let router = Router(context: APIRequestContext.self)
        let sessions = MemoryPersistDriver()
        router.add(middleware: MethodMiddleware())
        router.add(middleware: SessionMiddleware(storage: sessions, configuration: SessionMiddlewareConfiguration(
            sessionCookieParameters: SessionCookieParameters(name: "warren_session", sameSite: .strict), keyPrefix: "warren.session.")))
        router.add(middleware: SessionAuthenticator(context: APIRequestContext.self) { (role: APIRole, _) in APIIdentity(role: role, via: .session) })
        router.add(middleware: BearerTokenAuthenticator(adminToken: configuration.apiToken, readToken: configuration.readToken))
        router.add(middleware: AccessMiddleware(server: self))
        router.get("signin") { request, _ in self.signInPage(request) }
        router.post("signin") { request, context in await self.signIn(request, context: context) }
        router.post("signout") { _, context in self.signOut(context: context) }
        router.get("api/whoami") { _, context in
            let role = context.identity?.role.rawValue ?? (self.configuration.authRequired ? "none" : "open")
            return JSONResponse.make(.ok, .object(["role": .string(role)]))
        }
        addScheduleRoutes(to: router)
        addSchedulePageRoutes(to: router)
        addDeadLetterRoutes(to: router)
        router.get("api/results") { request, _ in await self.listResults(request) }
        router.get("api/results/:id") { _, context in
            let raw = context.parameters.get("id") ?? ""
            return await self.showResult(raw.removingPercentEncoding ?? raw)
        }
        router.get("api/stats") { request, _ in await self.statistics(request) }
        router.post("api/tasks") { request, context in await self.submitTask(request, context: context) }
        router.get("api/dashboard") { _, context in await self.dashboard(viewer: context.identity) }
        router.get("healthz") { _, _ in JSONResponse.make(.ok, .object(["status": .string("ok")])) }
        router.get("readyz") { _, _ in self.readiness() }
        router.get("/") { _, _ in Self.page }
        router.get("tasks/:id") { _, _ in Self.page }
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: self.configuration.metricsText())))
        }
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .warning)
        var application = Application(router: router, configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port), serverName: "warren"), logger: serverLogger)
        application.addServices(sessions)
        return application
    }

    func openStore() -> (any ResultStore)? { state.store }

    func listResults(_ request: Request) async -> Response {
        let parameters = request.uri.queryParameters
        var query = ResultQuery()
        if let task = parameters.get("task") { query.task = task }
        if let schedule = parameters.get("schedule") { query.schedule = schedule }
        if let queue = parameters.get("queue") { query.queue = queue }
        if let batch = parameters.get("batch") { query.batch = batch }
        if let status = parameters.get("status") {
            guard let value = ResultStatus(rawValue: status) else {
                return JSONResponse.error(.badRequest, "status \(status): expected one of \(ResultStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.status = value
        }
        if let since = parameters.get("since") {
            guard let date = Self.instant(since) else {
                return JSONResponse.error(.badRequest, "since \(since): expected a duration such as 1h or an ISO-8601 time")
            }
            query.since = date
        }
        if let limit = parameters.get("limit") {
            guard let value = Int(limit), (1...1000).contains(value) else { return JSONResponse.error(.badRequest, "limit \(limit): expected 1 to 1000") }
            query.limit = value
        }
        if let after = parameters.get("after"), !after.isEmpty {
            guard let cursor = ResultCursor(text: after) else { return JSONResponse.error(.badRequest, "after \(after): not a cursor from \"next\"") }
            query.after = cursor
        }
        guard let store = openStore() else { return Self.storeNotOpen }
        do {
            let page = try await store.page(query)
            let next = page.next.map { JSONValue.string($0.text).jsonText } ?? "null"
            return JSONResponse.make(.ok, text: "{\"next\":\(next),\"results\":\(JSONResponse.resultsText(page.results))}")
        } catch {
            return JSONResponse.error(.serviceUnavailable, "result store: \(error)")
        }
    }

    func showResult(_ id: String) async -> Response {
        guard let store = openStore() else { return Self.storeNotOpen }
        do {
            let attempts = try await store.attempts(of: id)
            // A workflow run has its graph (with each step's state) from its start, its own result only at its end.
            var workflow = ""
            if let run = try await store.workflowRun(id) {
                workflow = ",\"workflow\":" + run.graphJSON(latest: try await store.latest(ofIDs: run.stepTaskIDs)).jsonText
            }
            guard let latest = attempts.last else {
                if !workflow.isEmpty {
                    return JSONResponse.make(.ok, text: "{\"attempts\":[],\"id\":\(JSONValue.string(id).jsonText),\"latest\":null\(workflow)}")
                }
                return JSONResponse.error(.notFound, "no result stored for task id \(id)")
            }
            let current = try await store.latest(of: id) ?? latest
            return JSONResponse.make(.ok, text: "{\"attempts\":\(JSONResponse.resultsText(attempts)),\"id\":\(JSONValue.string(id).jsonText),\"latest\":\(JSONResponse.resultText(current))\(workflow)}")
        } catch {
            return JSONResponse.error(.serviceUnavailable, "result store: \(error)")
        }
    }

    func statistics(_ request: Request) async -> Response {
        let sinceText = request.uri.queryParameters.get("since") ?? "24h"
        guard let since = Self.instant(sinceText) else {
            return JSONResponse.error(.badRequest, "since \(sinceText): expected a duration such as 1h or an ISO-8601 time")
        }
        guard let store = openStore() else { return Self.storeNotOpen }
        do {
            let statistics = ResultStatistics(try await store.finalResults(since: since))
            return JSONResponse.make(.ok, statistics.json(since: since))
        } catch {
            return JSONResponse.error(.serviceUnavailable, "result store: \(error)")
        }
    }

    func submitTask(_ request: Request, context: APIRequestContext) async -> Response {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: 1 << 20)
        } catch {
            return JSONResponse.error(.contentTooLarge, "the request body is over 1 MiB")
        }
        let taskRequest: TaskRequest
        let message: TaskMessage
        let delay: Duration
        do {
            let catalog = configuration.catalog
            var parsed = try TaskRequest(json: try JSONText.parse(Array(buffer: body))) { catalog.queue(for: $0) }
            if parsed.traceparent == nil, let header = request.headers.first(where: { $0.name.canonicalName == "traceparent" }) {
                parsed.traceparent = header.value
            }
            taskRequest = parsed
            (message, delay) = try taskRequest.validated()
        } catch {
            return JSONResponse.error(.badRequest, "\(error)")
        }
        if let refusal = configuration.queueOptions.priorityRefusal(message.priority) {
            return JSONResponse.error(.badRequest, "priority: \(refusal)")
        }
        let workflow = schedules.workflow(named: message.task)
        if workflow != nil, delay > .zero || message.priority != nil || message.expiresAt != nil {
            return JSONResponse.error(.badRequest, "delay, at, priority and expires are not for a workflow (\(message.task) is one)")
        }
        do {
            if let workflow {
                try await submitter.startWorkflow(WorkflowRun(fire: message, workflow: workflow, at: Date().millisecondsSince1970))
            } else {
                try await submitter.submit(message, delay: delay)
            }
        } catch {
            logger.warning("POST /api/tasks: publish failed: \(error)", metadata: ["task_id": "\(message.id)"])
            return JSONResponse.error(.serviceUnavailable, "the broker did not take the task: \(error)")
        }
        logger.info("task published from the HTTP API", metadata: [
            "task_id": "\(message.id)", "task": "\(message.task)", "queue": "\(message.queue)",
            "by": "\(context.identity?.name ?? "api:anonymous (no token configured)")",
        ])
        return JSONResponse.make(.accepted, .object(["id": .string(message.id), "queue": .string(message.queue), "task": .string(message.task)]))
    }

    func dashboard(viewer: APIIdentity?) async -> Response {
        guard let store = openStore() else { return Self.storeNotOpen }
        let runtime = try? await runtimeState.current(on: submitter.connection())
        let role = viewer?.role.rawValue ?? (configuration.authRequired ? "none" : "open")
        do {
            return JSONResponse.make(.ok, try await DashboardData(store: store, broker: submitter, schedules: schedules, runtime: runtime, viewer: role,
                                                                       health: state.scheduleHealth).json())
        } catch {
            return JSONResponse.error(.serviceUnavailable, "result store: \(error)")
        }
    }

    static var page: Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: DashboardPage.html)))
    }

    /// Ready when the store is open and available, the broker connected and results consumed;
    /// `problems` lists every part that is not.
    func readiness() -> Response {
        let store = state.store != nil && state.storeAvailable
        let broker = state.brokerConnected
        let unready = state.readiness.unready
        let ready = store && broker && unready.isEmpty
        let body: JSONValue = .object(["status": .string(ready ? "ok" : "unavailable"),
                                       "store": .string(store ? "ok" : "unavailable"), "broker": .string(broker ? "ok" : "unavailable"),
                                       "problems": .array(unready.map(JSONValue.string))])
        return JSONResponse.make(ready ? .ok : .serviceUnavailable, body)
    }

    static let storeNotOpen = JSONResponse.error(.serviceUnavailable, "the result store is not open yet")
    static let epoch = ContinuousClock.now

    /// `10` rather than `10.0`.
    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    static func instant(_ text: String) -> Date? { PastInstant.parse(text) }

    /// Compares without stopping at the first difference, so timing does not reveal the token.
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = x.count ^ y.count
        for index in 0..<max(x.count, y.count) {
            difference |= Int((index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0))
        }
        return difference == 0
    }
}
