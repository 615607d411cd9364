import Cron
import Foundation
import Hummingbird
import WarrenCore
import WarrenStore

/// `GET /api/schedules/NAME/history` and the dashboard's page of one schedule
/// (`GET /schedules/NAME`): its definition, runtime state, next fires, health and every stored
/// fire (SPEC §7).
extension BackendHTTPServer {
    func addSchedulePageRoutes(to router: Router<APIRequestContext>) {
        router.get("schedules/:name") { _, _ in Self.page }
        router.get("api/schedules/:name/history") { request, context in
            let raw = context.parameters.get("name") ?? ""
            return await self.scheduleHistory(raw.removingPercentEncoding ?? raw, request)
        }
    }

    /// Most fires the page and the API return (the newest).
    static let historyLimit = 2000

    func scheduleHistory(_ name: String, _ request: Request) async -> Response {
        guard let store = openStore() else { return Self.storeNotOpen }
        var since = Date().addingTimeInterval(-7 * 86_400)
        if let text = request.uri.queryParameters.get("since") {
            guard let date = Self.instant(text) else {
                return JSONResponse.error(.badRequest, "since \(text): expected a duration such as 1h or an ISO-8601 time")
            }
            since = date
        }
        let definition = schedules.current().first { $0.name == name }
        do {
            let history = try await store.history(of: name, since: since, limit: Self.historyLimit)
            guard definition != nil || !history.isEmpty else {
                return JSONResponse.error(.notFound, "no schedule named \"\(name)\" in the schedule files and none in the store")
            }
            let now = Int64(Date().timeIntervalSince1970)
            let runtime = try? await runtimeState.current(on: submitter.connection())
            let next = definition.map { schedule in
                schedule.timetable.fires(after: now, count: 5).map { JSONValue.string(Timestamp.format($0, in: schedule.zone)) }
            } ?? []
            return JSONResponse.make(.ok, .object([
                "name": .string(name),
                "definition": definition.map(Self.definitionJSON) ?? .null,
                "runtime_pause": Self.pauseJSON(runtime?.currentPause(of: name, at: now * 1000)),
                "next_fires": .array(next),
                "health": state.scheduleHealth[name].map(\.json) ?? .null,
                "since": .string(TaskResult.timestamp(since)),
                "fires": .array(history.map(\.json)),
            ]))
        } catch {
            return JSONResponse.error(.serviceUnavailable, "result store: \(error)")
        }
    }

    /// A schedule's settings as the page shows them, each as its file writes it.
    static func definitionJSON(_ schedule: ScheduleDefinition) -> JSONValue {
        var fields: [String: JSONValue] = ["file": .string(schedule.location.description), "args": schedule.args]
        for (key, value) in schedule.settingFields where key != "args" { fields[key] = .string(value) }
        return .object(fields)
    }
}
