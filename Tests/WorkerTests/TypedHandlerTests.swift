import Foundation
import InMemoryTracing
import Logging
import RabbitMQ
import ServiceLifecycle
import Testing
import Tracing
import WarrenCore
import WarrenMessaging
import WarrenWorker

/// A Swift program embedding the worker and registering typed handlers (the `WarrenWorker` library).
@Suite("typed Swift handlers (WarrenWorker library, real broker)")
struct TypedHandlerTests {
    struct Order: Codable, Sendable {
        var items: [String]
        var discount: Double
    }

    struct Receipt: Codable, Sendable, Equatable {
        var count: Int
        var discount: Double
    }

    struct NoArgs: Codable, Sendable {}

    struct Refused: Error, CustomStringConvertible {
        var description: String { "refused by the handler" }
    }

    /// Runs a worker with `catalog` on `queue` in this process, quiet below errors.
    static func startWorker(_ name: String, queue: String, catalog: TaskCatalog,
                            tracing: TaskTracing = TaskTracing()) throws -> (ServiceGroup, Task<Void, Error>) {
        var connection = try ConnectionConfiguration(urls: WorkerHarness.url, connectionName: name)
        connection.logger.logLevel = .error
        var logger = Logger(label: name)
        logger.logLevel = .error
        var configuration = WorkerConfiguration(connection: connection, queues: [queue], catalog: catalog, logger: logger)
        configuration.tracing = tracing
        let worker = Worker(configuration: configuration)
        let group = ServiceGroup(services: [worker], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        return (group, Task { try await group.run() })
    }

    @Test("a handler runs inside the run's span: a span it starts is the run's child; a failed run's span says so")
    func handlerInsideSpan() async throws {
        let harness = try await WorkerHarness.make(queue: "traced")
        let tracer = InMemoryTracer()
        var catalog = TaskCatalog()
        catalog.register("traced.inner") { (_: NoArgs) async throws -> String in
            tracer.withSpan("inner work", context: ServiceContext.current ?? .topLevel) { _ in "done" }
        }
        catalog.register("traced.fail") { (_: NoArgs) async throws -> String in throw Refused() }
        let (group, running) = try Self.startWorker("traced-handlers", queue: harness.queue, catalog: catalog, tracing: TaskTracing(tracer: tracer))
        let inner = try await harness.finalResult(try await harness.publish("traced.inner"))
        let failed = try await harness.finalResult(try await harness.publish("traced.fail"))
        #expect(inner.status == .succeeded && failed.status == .failed)
        await group.triggerGracefulShutdown()
        try await running.value
        let spans = tracer.finishedSpans
        let run = try #require(spans.first { $0.operationName == "run traced.inner" })
        let work = try #require(spans.first { $0.operationName == "inner work" })
        #expect(work.parentSpanID == run.spanID && work.traceID == run.traceID)
        #expect(run.kind == .consumer && run.status == nil)
        let failedRun = try #require(spans.first { $0.operationName == "run traced.fail" })
        #expect(failedRun.status?.code == .error && failedRun.status?.message == "refused by the handler")
        await harness.close()
    }

    @Test("a result too large for a result message is sent as failed with the reason, once, and the task is not run again")
    func oversizedResult() async throws {
        let harness = try await WorkerHarness.make(queue: "oversized")
        var catalog = TaskCatalog()
        catalog.register("big.result") { (_: NoArgs) async throws -> String in String(repeating: "x", count: 5 << 20) }
        let (group, running) = try Self.startWorker("oversized-result", queue: harness.queue, catalog: catalog)
        let id = try await harness.publish("big.result")
        let result = try await harness.finalResult(id)
        #expect(result.status == .failed)
        #expect(result.result == nil)
        #expect(result.error?.hasPrefix("the task's result is 524") == true, "\(result.error ?? "")")
        #expect(result.error?.hasSuffix("bytes, over the 4194304-byte limit of a result message") == true)
        #expect(harness.results(for: id).count == 1, "run once")
        await group.triggerGracefulShutdown()
        try await running.value
        await harness.close()
    }

    @Test("typed args in, typed result out; bad args rejected; thrown errors fail the attempt")
    func typedHandlers() async throws {
        let harness = try await WorkerHarness.make(queue: "typed")
        var catalog = TaskCatalog()
        catalog.register("orders.receipt") { (order: Order) async throws -> Receipt in
            Receipt(count: order.items.count, discount: order.discount)
        }
        catalog.register("orders.refuse") { (_: Order) async throws -> Receipt in throw Refused() }
        let (group, running) = try Self.startWorker("typed-handlers", queue: harness.queue, catalog: catalog)

        let good = try await harness.publish("orders.receipt", args: .object(["items": .array([.string("a"), .string("b")]), "discount": .number(0.1)]))
        let bad = try await harness.publish("orders.receipt", args: .object(["items": .string("not a list")]))
        let refused = try await harness.publish("orders.refuse", args: .object(["items": .array([]), "discount": .integer(0)]))

        let receipt = try await harness.finalResult(good)
        #expect(receipt.status == .succeeded)
        #expect(receipt.result == .object(["count": .integer(2), "discount": .number(0.1)]))
        let rejected = try await harness.finalResult(bad)
        #expect(rejected.status == .rejected)
        #expect(rejected.error?.hasPrefix("args do not match Order") == true)
        let failed = try await harness.finalResult(refused)
        #expect(failed.status == .failed)
        #expect(failed.error == "refused by the handler")

        await group.triggerGracefulShutdown()
        try await running.value
        await harness.close()
    }

    @Test("handlers run off the consuming connection's I/O thread, where the worker's intake runs")
    func handlersOffTheIOThread() async throws {
        let harness = try await WorkerHarness.make(queue: "handler-thread")
        var catalog = TaskCatalog()
        catalog.register("threads.name") { (_: Order) async throws -> String in
            let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
            return name.trimmingCharacters(in: .newlines)
        }
        let (group, running) = try Self.startWorker("handler-thread", queue: harness.queue, catalog: catalog)

        let id = try await harness.publish("threads.name", args: .object(["items": .array([]), "discount": .integer(0)]))
        let result = try await harness.finalResult(id)
        #expect(result.status == .succeeded)
        guard case .string(let thread) = result.result else {
            Issue.record("expected a thread name, got \(String(describing: result.result))")
            return
        }
        #expect(!thread.isEmpty && !thread.hasPrefix("amqp-io-"))

        await group.triggerGracefulShutdown()
        try await running.value
        await harness.close()
    }
}
