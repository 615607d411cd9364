import ArgumentParser
import Foundation
import RabbitMQ
import WarrenMessaging

/// `--queue-type`: the deployment's queue type, for every command that declares Warren's queues
/// (worker, scheduler, backend, publish, doctor). Every process of a deployment must agree.
struct QueueTypeOption: ParsableArguments {
    @Option(name: .customLong("queue-type"),
            help: "classic (default) or quorum (cluster mode: every durable queue Warren declares is replicated); every process must agree (env WARREN_QUEUE_TYPE).")
    var queueType: String?

    /// The flag, else `WARREN_QUEUE_TYPE`, else classic; anything else is a usage error naming its source.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> QueueType {
        let (name, source) = queueType.map { ($0, "--queue-type") } ?? environment["WARREN_QUEUE_TYPE"].map { ($0, "WARREN_QUEUE_TYPE") } ?? ("classic", "")
        do {
            return try TaskQueueOptions.queueType(named: name)
        } catch {
            throw ValidationError("\(source): \(error)")
        }
    }
}
