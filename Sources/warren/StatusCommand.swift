import ArgumentParser
import Foundation
import RabbitMQ
import WarrenScheduler

/// `warren status`: is the broker reachable, and how deep are the named queues.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show broker reachability, the active scheduler instance, and the depth and consumers of queues."
    )

    @OptionGroup var broker: BrokerOptions

    @Option(name: .customLong("queue"), help: "A queue to inspect (repeatable).")
    var queues: [String] = []

    func run() async throws {
        let connection = try await broker.connect(command: "status")
        defer { Task { await connection.close() } }
        print("broker     \(connection.endpoint.map { "\($0)" } ?? "?")  reachable")
        let channel = try await connection.openChannel(confirms: false)
        print("scheduler  \(try await activeScheduler(on: channel))")
        guard !queues.isEmpty else { return }
        var missing = false
        print("queue".padding(toLength: 32, withPad: " ", startingAt: 0) + "  ready  consumers")
        for queue in queues {
            do {
                let state = try await channel.inspectQueue(queue)
                print(queue.padding(toLength: 32, withPad: " ", startingAt: 0)
                      + String(format: "  %5d  %9d", state.messageCount, state.consumerCount))
            } catch {
                print(queue.padding(toLength: 32, withPad: " ", startingAt: 0) + "  (does not exist)")
                missing = true
            }
        }
        await connection.close()
        if missing { throw ExitCode(1) }
    }

    /// "active: NAME (since …)" or "no active instance".
    private func activeScheduler(on channel: Channel) async throws -> String {
        guard try await SchedulerBroker.lockIsHeld(on: channel) else { return "no active instance" }
        guard let leader = try await SchedulerBroker.lastLeader(on: channel.connection) else { return "active: (instance unknown)" }
        return "active: \(leader.instance) (since \(leader.since))"
    }
}
