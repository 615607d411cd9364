// The Swift side of `scripts/bench amqp`: the same work as Benchmarks/c/amqp_bench.c through
// the RabbitMQ module's public API. Same arguments, same one-line output.
import Foundation
import RabbitMQ

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

let arguments = CommandLine.arguments
guard arguments.count == 7 || arguments.count == 8, let port = Int(arguments[3]), let count = Int(arguments[5]), let knob = Int(arguments[6]) else {
    FileHandle.standardError.write(Data("usage: warren-amqp-bench consume|publish HOST PORT QUEUE N PREFETCH|WINDOW [each|batch|io]\n".utf8))
    exit(2)
}
let (mode, host, queue) = (arguments[1], arguments[2], arguments[4])

var configuration = ConnectionConfiguration(endpoints: [Endpoint(host: host, port: port)], connectionName: "bench-swift")
configuration.publishWindow = knob
let connection = try await Connection.open(configuration)
try await connection.openChannel(confirms: false).declare(QueueSpec(name: queue, durable: true))

/// "each": ack every delivery on its own (the common style); "batch": one ack(multiple) per
/// batch read from the socket, as the C baseline does; "io": "batch" with the consumer on the
/// connection's executor (its I/O thread), so no delivery or ack crosses threads.
let style = arguments.count == 8 ? arguments[7] : "batch"
let ackStyle = style == "io" ? "batch" : style

/// Consumes `count` deliveries off the main actor, where a server's consumers run: a consumer
/// on the main actor pays one more thread wake-up per batch for the main queue's hop on Linux.
@concurrent func consume(_ connection: Connection) async throws -> (received: Int, elapsed: Duration, cpu: Double) {
    let channel = try await connection.openChannel(confirms: false)
    try await channel.setPrefetch(UInt16(knob))
    let consumer = try await channel.consume(queue: queue)
    let (t0, c0) = (ContinuousClock.now, cpuSeconds())
    var received = 0
    if ackStyle == "each" {
        for await delivery in consumer {
            try delivery.ack()
            received += 1
            if received == count { break }
        }
    } else {
        for await batch in consumer.batches {
            let wanted = batch.prefix(count - received)
            try wanted.last?.ack(multiple: true)
            received += wanted.count
            if received == count { break }
        }
    }
    return (received, ContinuousClock.now - t0, cpuSeconds() - c0)
}

/// Publishes `count` messages with confirms, at most `knob` unconfirmed, off the main actor.
@concurrent func publish(_ connection: Connection) async throws -> (elapsed: Duration, cpu: Double) {
    let channel = try await connection.openChannel(confirms: true)
    let body = Data(repeating: UInt8(ascii: "x"), count: 100)
    let properties = BasicProperties(contentType: "application/octet-stream", deliveryMode: 2)
    let (t0, c0) = (ContinuousClock.now, cpuSeconds())
    if ackStyle == "each" {
        // One publish call per message, `knob` of them in flight.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                if index >= knob { try await group.next() }
                group.addTask { try await channel.publish(body, routingKey: queue, properties: properties) }
            }
            try await group.waitForAll()
        }
    } else {
        // Batches of a quarter of the window, four in flight: at most `knob` unconfirmed.
        let batchSize = max(1, knob / 4)
        let message = OutgoingMessage(body: body, routingKey: queue, properties: properties)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var sent = 0
            var inFlight = 0
            while sent < count {
                if inFlight == 4 { try await group.next(); inFlight -= 1 }
                let size = min(batchSize, count - sent)
                group.addTask {
                    for result in await channel.publishBatch(Array(repeating: message, count: size)) { try result.get() }
                }
                sent += size
                inFlight += 1
            }
            try await group.waitForAll()
        }
    }
    return (ContinuousClock.now - t0, cpuSeconds() - c0)
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

if mode == "consume" {
    let (received, elapsed, cpu) = style == "io"
        ? try await withTaskExecutorPreference(connection.executor) { try await consume(connection) }
        : try await consume(connection)
    print("consume \(received) \(seconds(elapsed)) \(cpu)")
} else {
    let (elapsed, cpu) = try await publish(connection)
    print("publish \(count) \(seconds(elapsed)) \(cpu)")
}
await connection.close()
