import Foundation
import Hummingbird
import Logging
import Testing
import WarrenCore
import WarrenTestSupport

/// Catalog `http` tasks against a real HTTP server started by the test.
@Suite("http tasks (real binary, real broker, real HTTP server)")
struct HTTPTaskTests {
    @Test("2xx succeeds with the body as output, args go as JSON, placeholders are encoded, 500 and timeouts fail")
    func httpTasks() async throws {
        let port = TestPorts.free()
        let router = Router()
        router.post("hook/{name}") { request, context -> String in
            let body = try await request.body.collect(upTo: 1 << 20)
            let name = context.parameters.get("name") ?? "?"
            let token = request.headers[.authorization] ?? "none"
            return "name=\(name) token=\(token) body=\(String(buffer: body))"
        }
        router.get("fail") { _, _ -> Response in Response(status: .internalServerError) }
        router.get("slow") { _, _ -> String in
            try await Task.sleep(for: .seconds(10))
            return "late"
        }
        var logger = Logger(label: "http-target")
        logger.logLevel = .error
        let (listening, ready) = AsyncStream.makeStream(of: Void.self)
        let server = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
                                 onServerRunning: { _ in ready.yield() }, logger: logger)
        let serving = Task { try await server.runService() }
        defer { serving.cancel() }
        var readiness = listening.makeAsyncIterator()
        _ = await readiness.next()

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("warren-http-\(UUID().uuidString).yaml").path
        try """
            tasks:
              hook:
                http: { method: POST, url: "http://127.0.0.1:\(port)/hook/{name}", headers: { Authorization: "Bearer s3cret" } }
              broken:
                http: { method: GET, url: "http://127.0.0.1:\(port)/fail" }
              slow:
                http: { method: GET, url: "http://127.0.0.1:\(port)/slow", timeout: 1s }
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let harness = try await WorkerHarness.make(queue: "http")
        let worker = try harness.startWorker(["--tasks", path])
        let hook = try await harness.publish("hook", args: .object(["name": .string("a/b c"), "n": .integer(1)]))
        let broken = try await harness.publish("broken")
        let slow = try await harness.publish("slow")

        let hooked = try await harness.finalResult(hook)
        #expect(hooked.status == .succeeded)
        // The arg is percent-encoded into one path segment ("/" cannot add a segment).
        #expect(hooked.output == #"name=a%2Fb%20c token=Bearer s3cret body={"n":1,"name":"a/b c"}"#)
        #expect(hooked.result == .object(["status": .integer(200)]))
        let failed = try await harness.finalResult(broken)
        #expect(failed.status == .failed)
        #expect(failed.error == "HTTP 500 Internal Server Error from GET http://127.0.0.1:\(port)/fail")
        let late = try await harness.finalResult(slow, timeout: .seconds(20))
        #expect(late.status == .timedOut)
        #expect(late.error == "no answer from GET http://127.0.0.1:\(port)/slow within 1s")
        worker.signal(SIGTERM)
        let exit = try await worker.wait()
        #expect(exit.status == 0)
        #expect(!exit.output.contains("s3cret"), "header values must never be logged")
        await harness.close()
    }
}
