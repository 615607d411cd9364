import Foundation
import Hummingbird
import WarrenCore
import WarrenMessaging

/// `/api/dead-letters…` and the dashboard's page of them (`GET /dead-letters`), through
/// `DeadLetterQueue`. Every route needs the admin token, reads included: a dead letter carries
/// its task's args, and reading holds the messages for a moment.
extension BackendHTTPServer {
    func addDeadLetterRoutes(to router: Router<APIRequestContext>) {
        router.get("dead-letters") { _, _ in Self.page }
        router.get("api/dead-letters") { request, _ in await self.listDeadLetters(request) }
        router.get("api/dead-letters/:id") { _, context in
            let raw = context.parameters.get("id") ?? ""
            return await self.showDeadLetter(raw.removingPercentEncoding ?? raw)
        }
        router.post("api/dead-letters/requeue") { request, context in await self.requeueDeadLetters(request, context: context) }
        router.post("api/dead-letters/purge") { request, context in await self.purgeDeadLetters(request, context: context) }
    }

    /// `GET /api/dead-letters[?reason=R]`: oldest first.
    func listDeadLetters(_ request: Request) async -> Response {
        let reason = request.uri.queryParameters.get("reason")
        return await withDeadLetters { queue in
            let entries = try await queue.list().filter { $0.matches(ids: [], reason: reason) }
            return JSONResponse.make(.ok, .object(["count": .integer(Int64(entries.count)), "dead_letters": .array(entries.map(\.json))]))
        }
    }

    /// `GET /api/dead-letters/ID`: every dead letter with that id (a task dead-lettered twice has two).
    func showDeadLetter(_ id: String) async -> Response {
        await withDeadLetters { queue in
            let entries = try await queue.list().filter { $0.id == id }
            guard !entries.isEmpty else { return JSONResponse.error(.notFound, "no dead letter with id \(id)") }
            return JSONResponse.make(.ok, .object(["id": .string(id), "dead_letters": .array(entries.map(\.json))]))
        }
    }

    /// `POST /api/dead-letters/requeue` with `{"ids": [...]}` or `{"all": true}`, either with an
    /// optional `"reason"`.
    func requeueDeadLetters(_ request: Request, context: APIRequestContext) async -> Response {
        await withDeadLetters(request, context) { queue, selection, actor in
            let outcomes = try await queue.requeue(where: selection.matches)
            let requeued = outcomes.filter { $0.problem == nil }
            if !requeued.isEmpty {
                logger.notice("dead letters requeued from the HTTP API", metadata: ["count": "\(requeued.count)", "by": "\(actor)"])
            }
            let missing = selection.ids.subtracting(outcomes.map(\.entry.id)).sorted()
            return JSONResponse.make(.ok, .object([
                "requeued": .array(requeued.map { .object(["id": .string($0.entry.id), "queue": $0.entry.queue.map(JSONValue.string) ?? .null]) }),
                "not_requeued": .array(outcomes.compactMap { outcome in
                    outcome.problem.map { .object(["id": .string(outcome.entry.id), "problem": .string($0)]) }
                }),
                "not_found": .array(missing.map(JSONValue.string)),
            ]))
        }
    }

    /// `POST /api/dead-letters/purge` with `{"ids": [...]}` or `{"all": true}`, either with an
    /// optional `"reason"`; `all` without a reason empties the queue.
    func purgeDeadLetters(_ request: Request, context: APIRequestContext) async -> Response {
        await withDeadLetters(request, context) { queue, selection, actor in
            let everything = selection.ids.isEmpty && selection.reason == nil
            let chosen: ((DeadLetterEntry) -> Bool)? = everything ? nil : { selection.matches($0) }
            let purged = try await queue.purge(where: chosen)
            logger.notice("dead letters purged from the HTTP API", metadata: ["count": "\(purged)", "by": "\(actor)"])
            return JSONResponse.make(.ok, .object(["purged": .integer(Int64(purged))]))
        }
    }

    /// Reads a write's selection (400 when it is not one), then runs `body` with it and who acts.
    private func withDeadLetters(_ request: Request, _ context: APIRequestContext,
                                 _ body: (DeadLetterQueue, DeadLetterSelection, String) async throws -> Response) async -> Response {
        let selection: DeadLetterSelection
        do {
            selection = try DeadLetterSelection(try await Self.bodyFields(request))
        } catch {
            return JSONResponse.error(.badRequest, error.description)
        }
        let actor = context.identity?.name ?? "api:anonymous (no token configured)"
        return await withDeadLetters { try await body($0, selection, actor) }
    }

    private func withDeadLetters(_ body: (DeadLetterQueue) async throws -> Response) async -> Response {
        do {
            return try await body(DeadLetterQueue(connection: submitter.connection()))
        } catch {
            return JSONResponse.error(.serviceUnavailable, "the broker: \(error)")
        }
    }
}

/// Which dead letters a requeue or purge acts on: `ids`, or `all`; either narrowed by `reason`.
struct DeadLetterSelection: Sendable {
    var ids: Set<String> = []
    var reason: String?

    init(_ fields: [String: JSONValue]) throws(OperationInputError) {
        try OperationInputError.allowed(fields, ["ids", "all", "reason"])
        switch fields["ids"] {
        case nil: break
        case .array(let values)?:
            for value in values {
                guard let id = value.stringValue else { throw OperationInputError("ids: expected an array of strings") }
                ids.insert(id)
            }
        default: throw OperationInputError("ids: expected an array of strings")
        }
        let all: Bool
        switch fields["all"] {
        case nil: all = false
        case .bool(let value)?: all = value
        default: throw OperationInputError("all: expected true or false")
        }
        switch fields["reason"] {
        case nil: break
        case .string(let value)?: reason = value
        default: throw OperationInputError("reason: expected a string")
        }
        if ids.isEmpty && !all { throw OperationInputError("give ids (a non-empty array) or \"all\": true") }
        if !ids.isEmpty && all { throw OperationInputError("give ids or \"all\": true, not both") }
    }

    func matches(_ entry: DeadLetterEntry) -> Bool { entry.matches(ids: ids, reason: reason) }
}
