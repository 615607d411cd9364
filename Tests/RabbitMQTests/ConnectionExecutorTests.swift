import Foundation
import Testing
@testable import RabbitMQ

/// The name of the thread running the caller (the I/O thread's is "amqp-io-<connection name>",
/// cut to 15 bytes).
private func currentThreadName() -> String {
    let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
    return name.trimmingCharacters(in: .newlines)
}

@Suite("ConnectionExecutor")
struct ConnectionExecutorTests {
    @Test("a consumer on the connection's executor runs on its I/O thread; its acks and publishes go through")
    func consumerOnTheIOThread() async throws {
        try await TestBroker.withQueue("on-io") { channel, queue, connection in
            try await channel.setPrefetch(10)
            for index in 0..<200 { try await channel.publish(Data("\(index)".utf8), routingKey: queue) }
            let consumer = try await channel.consume(queue: queue)
            let other = TestBroker.unique("on-io-other")
            let (bodies, threads) = try await withTaskExecutorPreference(connection.executor) {
                var bodies: [String] = []
                var threads: Set<String> = []
                for await delivery in consumer {
                    threads.insert(currentThreadName())
                    bodies.append(String(decoding: delivery.body, as: UTF8.self))
                    try delivery.ack()
                    if bodies.count == 200 { break }
                }
                // A broker's reply and a confirm resume their caller here too.
                try await channel.declare(QueueSpec(name: other, durable: false, exclusive: true))
                threads.insert(currentThreadName())
                try await channel.publish(Data("after".utf8), routingKey: other)
                threads.insert(currentThreadName())
                return (bodies, threads)
            }
            // 200 deliveries through a window of 10: the acks reached the broker from this thread.
            #expect(bodies == (0..<200).map(String.init))
            #expect(threads.count == 1)
            #expect(threads.first?.hasPrefix("amqp-io-") == true)
            try await waitUntil("nothing unacked or left, the publish queued") {
                let left = try await TestBroker.queueCount(queue, "messages"), queued = try await TestBroker.queueCount(other, "messages")
                return left == 0 && queued == 1
            }
        }
    }

    @Test("without the preference a consumer runs elsewhere")
    func consumerElsewhere() async throws {
        try await TestBroker.withQueue("off-io") { channel, queue, _ in
            try await channel.publish(Data("one".utf8), routingKey: queue)
            let consumer = try await channel.consume(queue: queue)
            var thread = ""
            for await delivery in consumer {
                thread = currentThreadName()
                try delivery.ack()
                break
            }
            #expect(!thread.isEmpty && !thread.hasPrefix("amqp-io-"))
        }
    }

    @Test("after the connection is closed, tasks that prefer its executor still run", .timeLimit(.minutes(1)))
    func afterClose() async throws {
        let connection = try await TestBroker.connect()
        let executor = connection.executor
        // Closing from a task on the executor: its own resumption comes after the I/O thread ends.
        await withTaskExecutorPreference(executor) { await connection.close() }
        let thread = await withTaskExecutorPreference(executor) { () async -> String in
            await Task.yield()
            return currentThreadName()
        }
        #expect(!thread.hasPrefix("amqp-io-"))
    }
}
