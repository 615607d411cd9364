import Cron
import Foundation
import Hummingbird
import RabbitMQ
import Synchronization
import WarrenCore
import WarrenMessaging
import WarrenStore

/// `/api/schedules…`: the schedules the active scheduler has in force with their runtime state,
/// and the operations of SPEC §6 (pause, resume, trigger, backfill) through `TaskClient`.
extension BackendHTTPServer {
    func addScheduleRoutes(to router: Router<APIRequestContext>) {
        router.get("api/schedules") { _, _ in await self.listSchedules() }
        router.post("api/schedules/:name/:operation") { request, context in
            let raw = context.parameters.get("name") ?? ""
            return await self.operate(raw.removingPercentEncoding ?? raw, context.parameters.get("operation") ?? "", request, context: context)
        }
    }

    /// `GET /api/schedules`.
    func listSchedules() async -> Response {
        do {
            let connection = try await submitter.connection()
            guard let loaded = try await Inspector(connection: connection).loadedSchedules() else {
                return JSONResponse.make(.ok, .object(["scheduler": .null, "schedules": .array([])]))
            }
            let state = try await runtimeState.current(on: connection)
            let now = Int64(Date().timeIntervalSince1970)
            let rows: [JSONValue] = loaded.scheduleSet().schedules.map { schedule in
                .object([
                    "name": .string(schedule.name), "file": .string(schedule.location.file), "expression": .string(schedule.recurrence.description),
                    "zone": .string(schedule.zone.identifier), "task": .string(schedule.task), "queue": .string(schedule.queue),
                    "args": schedule.args, "paused": .bool(schedule.paused),
                    "next_fire": schedule.timetable.nextFire(after: now).map { .string(Timestamp.format($0, in: schedule.zone)) } ?? .null,
                    "runtime_pause": Self.pauseJSON(state.currentPause(of: schedule.name, at: now * 1000)),
                ])
            }
            return JSONResponse.make(.ok, .object([
                "scheduler": .object(["instance": .string(loaded.instance),
                                      "loaded_at": .string(TaskResult.timestamp(Date(timeIntervalSince1970: Double(loaded.loadedAt) / 1000)))]),
                "schedules": .array(rows),
            ]))
        } catch {
            return JSONResponse.error(.serviceUnavailable, "the broker: \(error)")
        }
    }

    static func pauseJSON(_ pause: SchedulePause?) -> JSONValue {
        guard let pause else { return .null }
        return .object([
            "until": pause.until.map { .string(TaskResult.timestamp(Date(timeIntervalSince1970: Double($0) / 1000))) } ?? .null,
            "reason": pause.reason.map(JSONValue.string) ?? .null, "by": .string(pause.by),
            "since": .string(TaskResult.timestamp(Date(timeIntervalSince1970: Double(pause.since) / 1000))),
        ])
    }

    /// `POST /api/schedules/NAME/{pause,resume,trigger,backfill}`.
    func operate(_ name: String, _ operation: String, _ request: Request, context: APIRequestContext) async -> Response {
        guard ["pause", "resume", "trigger", "backfill"].contains(operation) else {
            return JSONResponse.error(.notFound, "no operation \(operation): expected pause, resume, trigger or backfill")
        }
        let fields: [String: JSONValue]
        do {
            fields = try await Self.bodyFields(request)
        } catch {
            return JSONResponse.error(.badRequest, error.description)
        }
        let actor = context.identity?.name ?? "api:anonymous (no token configured)"
        do {
            let connection = try await submitter.connection()
            guard let loaded = try await Inspector(connection: connection).loadedSchedules() else {
                return JSONResponse.error(.serviceUnavailable, "no scheduler has published its schedules to this broker yet")
            }
            let schedule: ScheduleDefinition
            do {
                schedule = try loaded.scheduleSet().lookup(name)
            } catch {
                return JSONResponse.error(.notFound, error.description)
            }
            let client = TaskClient(connection: connection, queueOptions: configuration.queueOptions, actor: actor)
            let response: Response
            switch operation {
            case "pause": response = try await pause(schedule, fields, client: client)
            case "resume":
                let change = try await client.resume(schedule.name)
                response = JSONResponse.make(.ok, .object(["schedule": .string(schedule.name), "change": .string(change == .applied ? "applied" : "unchanged")]))
            case "trigger": response = try await trigger(schedule, fields, client: client)
            default: response = try await backfill(schedule, fields, client: client)
            }
            if response.status.code < 300 {
                logger.notice("schedule \(operation) from the HTTP API", metadata: ["schedule": "\(schedule.name)", "by": "\(actor)"])
            }
            return response
        } catch let error as OperationInputError {
            return JSONResponse.error(.badRequest, error.description)
        } catch {
            return JSONResponse.error(.serviceUnavailable, "the broker: \(error)")
        }
    }

    private func pause(_ schedule: ScheduleDefinition, _ fields: [String: JSONValue], client: TaskClient) async throws -> Response {
        try OperationInputError.allowed(fields, ["for", "until", "reason"])
        var until: Int64?
        let now = Date().millisecondsSince1970
        switch (fields["for"], fields["until"]) {
        case (.some, .some): throw OperationInputError("give for or until, not both")
        case (.string(let text)?, nil):
            guard let duration = try? DurationSyntax.parse(text), duration > .zero else { throw OperationInputError("for: expected a duration such as 2h, got \(text)") }
            until = now + Int64(duration.seconds * 1000)
        case (nil, .string(let text)?):
            guard let seconds = try? Timestamp.parse(text, in: .utc) else { throw OperationInputError("until: expected an ISO-8601 instant, got \(text)") }
            until = seconds * 1000
            guard until! > now else { throw OperationInputError("until: \(text) is not in the future") }
        case (nil, nil): break
        default: throw OperationInputError("for and until must be strings")
        }
        var reason: String?
        switch fields["reason"] {
        case .string(let text)?:
            if let problem = ScheduleCommand.reasonProblem(text) { throw OperationInputError("reason: \(problem)") }
            reason = text
        case nil, .null?: break
        default: throw OperationInputError("reason: expected a string")
        }
        let change = try await client.pause(schedule.name, until: until, reason: reason)
        return JSONResponse.make(.ok, .object([
            "schedule": .string(schedule.name), "change": .string(change == .applied ? "applied" : "unchanged"),
            "until": until.map { .string(TaskResult.timestamp(Date(timeIntervalSince1970: Double($0) / 1000))) } ?? .null,
        ]))
    }

    private func trigger(_ schedule: ScheduleDefinition, _ fields: [String: JSONValue], client: TaskClient) async throws -> Response {
        try OperationInputError.allowed(fields, ["args", "id"])
        var id: String?
        switch fields["id"] {
        case .string(let text)?:
            if let problem = Names.taskIDProblem(text) { throw OperationInputError("id: \(problem)") }
            id = text
        case nil, .null?: break
        default: throw OperationInputError("id: expected a string")
        }
        let taskID = try await client.trigger(schedule, args: fields["args"], id: id)
        return JSONResponse.make(.accepted, .object(["id": .string(taskID), "schedule": .string(schedule.name)]))
    }

    private func backfill(_ schedule: ScheduleDefinition, _ fields: [String: JSONValue], client: TaskClient) async throws -> Response {
        try OperationInputError.allowed(fields, ["from", "to", "dry_run", "rerun"])
        func instant(_ key: String) throws -> Int64 {
            guard case .string(let text)? = fields[key] else { throw OperationInputError("\(key): expected an ISO-8601 instant") }
            do {
                return try Timestamp.parse(text, in: schedule.zone)
            } catch {
                throw OperationInputError("\(key): \(error)")
            }
        }
        func flag(_ key: String) throws -> Bool {
            switch fields[key] {
            case .bool(let value)?: return value
            case nil, .null?: return false
            default: throw OperationInputError("\(key): expected true or false")
            }
        }
        let (from, to, dryRun, rerun) = (try instant("from"), try instant("to"), try flag("dry_run"), try flag("rerun"))
        var stored: [String: ResultStatus] = [:]
        if !rerun {
            guard let store = state.store else { throw OperationInputError("the result store is not open yet; without it only rerun is possible") }
            for instant in BackfillPlan.instants(of: schedule, from: from, to: to).prefix(BackfillPlan.limit) {
                let id = ScheduleDefinition.fireTaskID(schedule: schedule.name, scheduledFor: instant)
                if let status = try await store.latest(of: id)?.status { stored[id] = status }
            }
        }
        let backfilled = rerun ? [] : try await client.backfilledIDs(of: schedule.name)
        let plan: BackfillPlan
        do {
            plan = try BackfillPlan.plan(schedule, from: from, to: to, now: Int64(Date().timeIntervalSince1970), stored: stored,
                                         backfilledIDs: backfilled, rerun: rerun)
        } catch {
            throw OperationInputError("from/to: \(error)")
        }
        if !dryRun { try await client.backfill(schedule, instants: plan.publish) }
        return JSONResponse.make(dryRun ? .ok : .accepted, .object([
            "schedule": .string(schedule.name), "dry_run": .bool(dryRun),
            "instants": .array(plan.publish.map { .string(Timestamp.format($0, in: schedule.zone)) }),
            "task_ids": .array(plan.publish.map { .string(ScheduleDefinition.fireTaskID(schedule: schedule.name, scheduledFor: $0)) }),
            "left_out_succeeded": .integer(Int64(plan.succeeded.count)), "left_out_backfilled": .integer(Int64(plan.backfilledBefore.count)),
        ]))
    }
}

/// A schedule operation's body that cannot be used: 400 with this line.
struct OperationInputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

    static func allowed(_ fields: [String: JSONValue], _ keys: Set<String>) throws(OperationInputError) {
        if let unknown = fields.keys.sorted().first(where: { !keys.contains($0) }) {
            throw OperationInputError("unknown field \(unknown): expected \(keys.sorted().joined(separator: ", "))")
        }
    }
}

/// The schedule state stream, followed once per connection and kept in memory, so that reading
/// it for every dashboard refresh appends nothing.
final class RuntimeStateCache: Sendable {
    private struct Following {
        var connection: ObjectIdentifier
        var task: Task<Void, Never>
        var ended: Bool
    }

    private let state = Mutex(ScheduleRuntimeState())
    private let following = Mutex<Following?>(nil)

    /// The runtime state, starting to follow the stream on `connection` when not yet following it.
    func current(on connection: Connection) async throws -> ScheduleRuntimeState {
        let id = ObjectIdentifier(connection)
        if let current = following.withLock({ $0 }), current.connection == id, !current.ended {
            return state.withLock { $0 }
        }
        let (read, task) = try await ScheduleStreams.follow(on: connection) { [self] new in
            self.state.withLock { if new.applied >= $0.applied { $0 = new } }
        }
        state.withLock { $0 = read }
        following.withLock { $0?.task.cancel(); $0 = Following(connection: id, task: task, ended: false) }
        Task { [self] in
            await task.value
            self.following.withLock { if $0?.connection == id { $0?.ended = true } }
        }
        return read
    }

    func stop() {
        following.withLock { $0?.task.cancel() }
    }
}

extension BackendHTTPServer {
    /// A write's body as a JSON object (an empty body: no fields), at most 1 MiB.
    static func bodyFields(_ request: Request) async throws(OperationInputError) -> [String: JSONValue] {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: 1 << 20)
        } catch {
            throw OperationInputError("the body could not be read: \(error)")
        }
        if body.readableBytes == 0 { return [:] }
        let value: JSONValue
        do {
            value = try JSONText.parse(Array(buffer: body))
        } catch {
            throw OperationInputError("the body is not JSON: \(error)")
        }
        guard case .object(let object) = value else { throw OperationInputError("the body must be a JSON object") }
        return object
    }
}
