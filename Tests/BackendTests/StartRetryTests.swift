import Foundation
import RabbitMQ
import Testing
import WarrenCore
import WarrenMessaging
import WarrenTestSupport

@Suite("what a service starts again after, while starting (pure)")
struct StartRetryRuleTests {
    @Test("a lost connection, a 541, a replica not ready yet or a timeout start again; refusals that need someone to act do not")
    func retryableAtStart() {
        let retryable: [AMQPError] = [
            .connectionLost(reason: "broker closed the connection: 541 INTERNAL_ERROR"), .notConnected, .timeout(operation: "queue.declare"),
            .connectionClosed(code: 320, text: "CONNECTION_FORCED - broker forced connection closure"),
            .connectionClosed(code: 541, text: "INTERNAL_ERROR"), .channelClosed(code: 541, text: "INTERNAL_ERROR"),
            .channelClosed(code: 406, text: "PRECONDITION_FAILED - queue 'warren.cancellations' in vhost 'v' does not have a replica on the local node"),
        ]
        let final: [any Error] = [
            AMQPError.channelClosed(code: 406, text: "PRECONDITION_FAILED - inequivalent arg 'x-max-priority'"),
            AMQPError.channelClosed(code: 403, text: "ACCESS_REFUSED - access to queue 'warren.results' refused"),
            AMQPError.accessRefused(endpoint: "127.0.0.1:5672", text: "ACCESS_REFUSED"),
            AMQPError.connectionClosed(code: 530, text: "NOT_ALLOWED"), AMQPError.invalidURL("x", reason: "no scheme"),
            CancellationError(),
        ]
        for error in retryable { #expect(BrokerConnection.isRetryableAtStart(error), "\(error)") }
        for error in final { #expect(!BrokerConnection.isRetryableAtStart(error), "\(error)") }
    }
}

@Suite("a broker failing the backend's start (real binary, a forwarder answering the first queue.declare with 541)", .serialized)
struct BackendStartRetryTests {
    @Test("a 541 INTERNAL_ERROR while the backend declares its queues: it logs it, starts again, and stores results")
    func startsAgainAfter541() async throws {
        let harness = try await BackendHarness.make(.sqlite)
        let port = TestPorts.free()
        let forwarder = try TCPForwarder(port: port, failingDeclares: 1)
        defer { forwarder.stop() }
        var environment = harness.environment
        environment["WARREN_AMQP_URL"] = TCPForwarder.url(harness.vhost.url, port: port)
        let backend = try WarrenProcess(["backend", "--log-level", "info", "--http", "off"], environment: environment)
        try await waitUntil("the backend consuming, or gone") { backend.output.contains("backend consuming") || !backend.isRunning }
        #expect(forwarder.failedDeclares == 1, "the forwarder failed the start once")
        #expect(backend.isRunning, "the backend exited on a failed start: \(backend.output)")
        #expect(backend.output.contains("the broker failed the start; starting again"), "\(backend.output)")
        #expect(backend.output.contains("541"), "the log names the error")
        if backend.isRunning {
            try await harness.publish([makeResult("after-541")])
            try await harness.waitForCounts(tasks: 1, attempts: 1)
            backend.signal(SIGTERM)
            #expect(try await backend.wait().status == 0)
        }
        await harness.close()
    }
}
