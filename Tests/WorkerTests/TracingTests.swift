import Foundation
import Hummingbird
import Logging
import Synchronization
import Testing
import WarrenCore
import WarrenTestSupport

/// Traces end to end: `warren publish` and `warren worker` with `--otlp-endpoint` export to a
/// real OTLP/HTTP receiver started by the test (protobuf, the default), and a task's run hands
/// its span on to the process it starts and the HTTP request it makes.
@Suite("traces (real binaries, real broker, OTLP/HTTP receiver)")
struct TracingTests {
    static let trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let caller = "00f067aa0ba902b7"

    @Test("publish → run: the spans reach the receiver linked caller → publish → run (→ the http task's client span); the run task's TRACEPARENT is the run's span")
    func spansAndPropagation() async throws {
        let receiver = try await Receiver.start()
        defer { receiver.stop() }
        let harness = try await WorkerHarness.make(queue: "trace")
        let catalog = try catalogFile("""
            tasks:
              trace.env: { run: ["/usr/bin/printenv", "TRACEPARENT"] }
              trace.http: { http: { method: GET, url: "http://127.0.0.1:\(receiver.port)/hook" } }
            """)
        let environment = ["WARREN_AMQP_URL": harness.url, "OTEL_BSP_SCHEDULE_DELAY": "200"]
        let worker = try WarrenProcess(["worker", "--queue", harness.queue, "--tasks", catalog, "--log-level", "warning",
                                        "--otlp-endpoint", "http://127.0.0.1:\(receiver.port)"], environment: environment)
        defer { worker.signal(SIGKILL) }

        var results: [String: TaskResult] = [:]
        for task in ["trace.env", "trace.http"] {
            let published = try await runWarren(["publish", task, "--queue", harness.queue, "--wait", "--traceparent", "00-\(Self.trace)-\(Self.caller)-01",
                                                 "--otlp-endpoint", "http://127.0.0.1:\(receiver.port)"], environment: environment)
            #expect(published.status == 0, "\(published.stderr)")
            let id = try #require(published.stdout.split(separator: "\n").first.map(String.init))
            results[task] = try await harness.finalResult(id)
        }
        let env = try #require(results["trace.env"])
        #expect(env.status == .succeeded)
        let given = try #require(env.output?.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(TraceParent.traceID(of: given) == Self.trace, "the run task's TRACEPARENT \(given) is in the caller's trace")
        #expect(env.traceparent == given, "the result carries the run's span")
        let http = try #require(results["trace.http"])
        #expect(receiver.hookHeaders.count == 1)
        let sent = try #require(receiver.hookHeaders.first)
        #expect(TraceParent.traceID(of: sent) == Self.trace, "one traceparent header, in the caller's trace: \(sent)")

        // The spans: publish (child of the caller's span) → run (child of the publish); the
        // http task's request is AsyncHTTPClient's client span, a child of the run.
        try await waitUntil("five spans at the receiver (have \(receiver.spans.count))", timeout: .seconds(30)) { receiver.spans.count >= 5 }
        let spans = receiver.spans
        var runs: [String: Receiver.ReceivedSpan] = [:]
        for task in ["trace.env", "trace.http"] {
            let run = try #require(spans.first { $0.name == "run \(task)" })
            let publish = try #require(spans.first { $0.name == "publish \(task)" })
            #expect(publish.traceID == Self.trace && run.traceID == Self.trace)
            #expect(publish.parentID == Self.caller, "publish \(task) is a child of the caller's span")
            #expect(run.parentID == publish.spanID, "run \(task) is a child of its publish")
            #expect(publish.kind == 4 && run.kind == 5, "producer and consumer")
            runs[task] = run
        }
        #expect(given == "00-\(Self.trace)-\(runs["trace.env"]?.spanID ?? "")-01", "the run task got the run's own span")
        #expect(http.traceparent == "00-\(Self.trace)-\(runs["trace.http"]?.spanID ?? "")-01", "the result carries the run's span")
        let request = try #require(spans.first { "00-\(Self.trace)-\($0.spanID)-01" == sent }, "the header names a recorded span")
        #expect(request.parentID == runs["trace.http"]?.spanID && request.kind == 3, "the request is a client span, child of the run")
        #expect(Set(spans.map(\.service)) == ["warren-publish", "warren-worker"])
        worker.signal(SIGTERM)
        #expect(try await worker.wait().status == 0)
        await harness.close()
    }

    @Test("a scheduled fire starts a trace: its span is the parent of the run, whose TRACEPARENT the task gets")
    func fireSpans() async throws {
        let receiver = try await Receiver.start()
        defer { receiver.stop() }
        // A virtual host of its own: the scheduler's lock is per virtual host.
        let vhost = try await TestVirtualHost.create()
        defer { vhost.delete() }
        let harness = try await WorkerHarness.make(queue: "trace-fire", url: vhost.url)
        let catalog = try catalogFile("tasks:\n  trace.env: { run: [\"/usr/bin/printenv\", \"TRACEPARENT\"] }\n")
        let schedules = FileManager.default.temporaryDirectory.appendingPathComponent("warren-trace-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: schedules, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: schedules) }
        try "schedules:\n  tick: { every: 1s, task: trace.env, queue: \(harness.queue) }\n"
            .write(to: schedules.appendingPathComponent("tick.yaml"), atomically: true, encoding: .utf8)
        let environment = ["WARREN_AMQP_URL": vhost.url, "OTEL_BSP_SCHEDULE_DELAY": "200"]
        let endpoint = ["--otlp-endpoint", "http://127.0.0.1:\(receiver.port)", "--log-level", "warning"]
        let scheduler = try WarrenProcess(["scheduler", "--schedules", schedules.path] + endpoint, environment: environment)
        defer { scheduler.signal(SIGKILL) }
        let worker = try WarrenProcess(["worker", "--queue", harness.queue, "--tasks", catalog] + endpoint, environment: environment)
        defer { worker.signal(SIGKILL) }

        try await waitUntil("a fire run", timeout: .seconds(30)) { harness.results.contains { $0.schedule == "tick" && $0.status == .succeeded } }
        let ran = try #require(harness.results.first { $0.schedule == "tick" && $0.status == .succeeded })
        let given = try #require(ran.output?.trimmingCharacters(in: .whitespacesAndNewlines))
        try await waitUntil("the fire's span and its run's at the receiver", timeout: .seconds(30)) {
            receiver.spans.contains { "00-\($0.traceID)-\($0.spanID)-01" == given }
        }
        let run = try #require(receiver.spans.first { "00-\($0.traceID)-\($0.spanID)-01" == given })
        try await waitUntil("the fire's span", timeout: .seconds(30)) { receiver.spans.contains { $0.spanID == run.parentID } }
        let fire = try #require(receiver.spans.first { $0.spanID == run.parentID })
        #expect(run.name == "run trace.env" && run.service == "warren-worker")
        #expect(fire.name == "fire tick" && fire.service == "warren-scheduler" && fire.kind == 4)
        #expect(fire.parentID == "" && fire.traceID == run.traceID, "the fire is the root of the run's trace")
        await harness.close()
    }

    @Test("a bad --otlp-endpoint or --announce-interval is a usage error naming the option; with --announce-interval off a worker works unlisted")
    func options() async throws {
        for (arguments, expected) in [
            (["worker", "--otlp-endpoint", "127.0.0.1:4318"], "warren: --otlp-endpoint: expected the collector's base URL, http://HOST:PORT or https://HOST:PORT, got 127.0.0.1:4318\n"),
            (["publish", "warren.echo", "--otlp-endpoint", "ftp://x"], "warren: --otlp-endpoint: expected the collector's base URL, http://HOST:PORT or https://HOST:PORT, got ftp://x\n"),
            (["worker", "--announce-interval", "500ms"], "warren: --announce-interval: expected 1s to 1m, or off, got 500ms\n"),
            (["worker", "--announce-interval", "soon"], "warren: --announce-interval: "),
        ] {
            let run = try await runWarren(arguments + ["--queue", "never.declared"], environment: ["WARREN_AMQP_URL": WorkerHarness.url])
            #expect(run.status != 0, "\(arguments)")
            #expect(run.stderr.hasPrefix(expected), "\(arguments): \(run.stderr)")
        }
        let vhost = try await TestVirtualHost.create()
        defer { vhost.delete() }
        let harness = try await WorkerHarness.make(queue: "unlisted", url: vhost.url)
        let worker = try harness.startWorker(["--announce-interval", "off", "--name", "unlisted-worker"])
        defer { worker.signal(SIGKILL) }
        #expect(try await harness.finalResult(try await harness.publish("warren.echo")).status == .succeeded)
        let listed = try await runWarren(["workers", "--json"], environment: ["WARREN_AMQP_URL": vhost.url])
        #expect(listed.status == 0 && !listed.stdout.contains("unlisted-worker"), "\(listed)")
        await harness.close()
    }

    @Test("without --otlp-endpoint nothing is exported, but the run still gets a span id in the trace it came with, or starts one")
    func withoutExport() async throws {
        let harness = try await WorkerHarness.make(queue: "trace-off")
        let catalog = try catalogFile("tasks:\n  trace.env: { run: [\"/usr/bin/printenv\", \"TRACEPARENT\"] }\n")
        let worker = try harness.startWorker(["--tasks", catalog])
        defer { worker.signal(SIGKILL) }
        let carried = try await harness.finalResult(try await harness.publish("trace.env", traceparent: "00-\(Self.trace)-\(Self.caller)-01"))
        let given = try #require(carried.output?.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(TraceParent.isValid(given) && TraceParent.traceID(of: given) == Self.trace && !given.contains(Self.caller))
        let fresh = try await harness.finalResult(try await harness.publish("trace.env"))
        let started = try #require(fresh.output?.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(TraceParent.isValid(started) && TraceParent.traceID(of: started) != Self.trace && fresh.traceparent == started)
        await harness.close()
    }
}

/// An OTLP/HTTP receiver (`POST /v1/traces`, protobuf) and an HTTP target (`GET /hook`, which
/// records the `traceparent` header), both on one port.
final class Receiver: Sendable {
    struct ReceivedSpan: Sendable {
        var traceID = "", spanID = "", parentID = "", name = "", kind = 0, service = ""
    }

    let port: Int
    private let received = Mutex<(spans: [ReceivedSpan], hook: [String])>(([], []))
    private let serving = Mutex<Task<Void, any Error>?>(nil)

    private init(port: Int) { self.port = port }

    var spans: [ReceivedSpan] { received.withLock { $0.spans } }
    var hookHeaders: [String] { received.withLock { $0.hook } }

    static func start() async throws -> Receiver {
        let receiver = Receiver(port: TestPorts.free())
        let router = Router()
        router.post("v1/traces") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 16 << 20)
            let spans = OTLPTraces.decode(Array(buffer: body))
            receiver.received.withLock { $0.spans += spans }
            return Response(status: .ok)
        }
        router.get("hook") { request, _ -> String in
            let header = request.headers[.init("traceparent")!] ?? ""
            receiver.received.withLock { $0.hook.append(header) }
            return "ok"
        }
        var logger = Logger(label: "otlp-receiver")
        logger.logLevel = .error
        let (listening, ready) = AsyncStream.makeStream(of: Void.self)
        let server = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: receiver.port)),
                                 onServerRunning: { _ in ready.yield() }, logger: logger)
        receiver.serving.withLock { $0 = Task { try await server.runService() } }
        var readiness = listening.makeAsyncIterator()
        _ = await readiness.next()
        return receiver
    }

    func stop() { serving.withLock { $0?.cancel() } }
}

/// Reads the fields the test checks from an OTLP `ExportTraceServiceRequest` in protobuf wire
/// format (opentelemetry-proto): resource_spans(1) → resource(1) attributes(1) service.name,
/// scope_spans(2) → spans(2) → trace_id(1), span_id(2), parent_span_id(4), name(5), kind(6).
enum OTLPTraces {
    static func decode(_ bytes: [UInt8]) -> [Receiver.ReceivedSpan] {
        var spans: [Receiver.ReceivedSpan] = []
        for (field, resourceSpans) in fields(bytes) where field == 1 {
            var service = ""
            var found: [Receiver.ReceivedSpan] = []
            for (field, value) in fields(resourceSpans) {
                if field == 1 {
                    for (field, attribute) in fields(value) where field == 1 {
                        let parts = Dictionary(fields(attribute), uniquingKeysWith: { first, _ in first })
                        if parts[1].map(text) == "service.name", let any = parts[2] {
                            service = fields(any).first { $0.0 == 1 }.map { text($0.1) } ?? ""
                        }
                    }
                } else if field == 2 {
                    for (field, span) in fields(value) where field == 2 {
                        var decoded = Receiver.ReceivedSpan()
                        for (field, value) in fields(span) {
                            switch field {
                            case 1: decoded.traceID = hex(value)
                            case 2: decoded.spanID = hex(value)
                            case 4: decoded.parentID = hex(value)
                            case 5: decoded.name = text(value)
                            case 6: decoded.kind = value.first.map(Int.init) ?? 0
                            default: break
                            }
                        }
                        found.append(decoded)
                    }
                }
            }
            spans += found.map { span in
                var span = span
                span.service = service
                return span
            }
        }
        return spans
    }

    /// The fields of a message: length-delimited ones with their bytes, varints as their one
    /// low byte (enough for the kinds), fixed-width ones skipped.
    private static func fields(_ bytes: [UInt8]) -> [(Int, [UInt8])] {
        var fields: [(Int, [UInt8])] = []
        var index = 0
        func varint() -> Int {
            var value = 0, shift = 0
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                value |= Int(byte & 0x7f) << shift
                shift += 7
                if byte & 0x80 == 0 { break }
            }
            return value
        }
        while index < bytes.count {
            let key = varint()
            switch key & 7 {
            case 0: fields.append((key >> 3, [UInt8(truncatingIfNeeded: varint())]))
            case 1: index += 8
            case 2:
                let length = varint()
                guard index + length <= bytes.count else { return fields }
                fields.append((key >> 3, Array(bytes[index..<index + length])))
                index += length
            case 5: index += 4
            default: return fields
            }
        }
        return fields
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
