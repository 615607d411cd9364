import Foundation
import RabbitMQ
import Subprocess
import WarrenCore
import WarrenMessaging
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Gathers `BrokerFacts`: what AMQP tells (server properties, the negotiated heartbeat, each
/// queue's depth, consumers and whether it exists with Warren's arguments) and, through the
/// operator's `rabbitmqctl`, what it does not (consumer_timeout, max_message_size, alarms).
public enum BrokerProbe {
    /// How to read the settings AMQP does not carry.
    public struct SettingsSource: Sendable {
        /// A `rabbitmqctl` command line, split on spaces and run without a shell, e.g.
        /// `rabbitmqctl -n rabbit@broker-1`.
        public var rabbitmqctl: [String]?
        /// The broker's consumer_timeout as the operator knows it (nil: off).
        public var consumerTimeout: Duration??

        public init(rabbitmqctl: [String]? = nil, consumerTimeout: Duration?? = nil) {
            self.rabbitmqctl = rabbitmqctl
            self.consumerTimeout = consumerTimeout
        }
    }

    /// The settings `rabbitmqctl eval` reads, as `name=value` lines.
    struct ReadSettings: Equatable {
        var consumerTimeout: Duration?
        var maxMessageSize: Int?
        var alarms: [String]
    }

    /// Connects with `configuration` and gathers the facts; throws when the broker cannot be
    /// reached or `rabbitmqctl` fails.
    public static func gather(_ configuration: ConnectionConfiguration, settings: WarrenSettings,
                              source: SettingsSource) async throws -> BrokerFacts {
        let connection = try await Connection.open(configuration)
        defer { Task { await connection.close() } }
        guard let server = connection.serverInfo else { throw AMQPError.notConnected }
        var facts = BrokerFacts(server: server, consumerTimeout: BrokerSetting(BrokerFacts.defaultConsumerTimeout(for: server), source: .assumed))
        let queueOptions = TaskQueueOptions(type: settings.queueType)
        let channel = try await connection.openChannel(confirms: false)
        for name in settings.namedQueues + [WireNames.resultsQueue, WireNames.deadLetterQueue] {
            let spec = name.hasPrefix("warren.") ? WarrenTopology.sharedQueue(name, type: settings.queueType)
                : QueueSpec(name: name, arguments: queueOptions.arguments)
            facts.queues[name] = try await inspect(spec, on: channel)
        }
        await connection.close()
        if let given = source.consumerTimeout {
            facts.consumerTimeout = BrokerSetting(given, source: .given)
        }
        if let command = source.rabbitmqctl {
            let read = try await readSettings(command)
            if source.consumerTimeout == nil { facts.consumerTimeout = BrokerSetting(read.consumerTimeout, source: .read) }
            facts.maxMessageSize = read.maxMessageSize
            facts.alarms = read.alarms
        }
        return facts
    }

    /// Depth and consumers of a queue, and whether declaring it as `spec` would be refused.
    /// A queue that does not exist is left so (only a passive declare is sent for it).
    static func inspect(_ spec: QueueSpec, on channel: Channel) async throws -> QueueFacts {
        let state: QueueState
        do {
            state = try await channel.inspectQueue(spec.name)
        } catch let error as AMQPError where error.replyCode == 404 {
            return QueueFacts(exists: false)
        }
        var facts = QueueFacts(exists: true, messages: state.messageCount, consumers: state.consumerCount)
        let taskQueue = !spec.name.hasPrefix("warren.")
        do {
            _ = try await channel.declare(spec)
            if taskQueue { facts.priorities = spec.arguments.maxPriority != nil }
        } catch let error as AMQPError where error.replyCode == 406 {
            let text: String
            if case .channelClosed(_, let said) = error { text = said } else { text = "\(error)" }
            // A classic task queue declared without priorities is refused only if it has some:
            // the worker's --max-priority, which doctor does not know, and no fault.
            if taskQueue, spec.arguments.type != .quorum, spec.arguments.maxPriority == nil, text.contains("x-max-priority") {
                facts.priorities = true
            } else {
                facts.inequivalence = text
            }
        }
        return facts
    }

    /// The Erlang expression `rabbitmqctl eval` runs: one `name=value` line per setting.
    static let evalExpression = #"io:format("consumer_timeout=~w~nmax_message_size=~w~nalarms=~w~n", [application:get_env(rabbit, consumer_timeout, undefined), application:get_env(rabbit, max_message_size, undefined), rabbit_alarm:get_alarms()])."#

    static func readSettings(_ command: [String]) async throws -> ReadSettings {
        guard let program = command.first else { throw ProbeError("--rabbitmqctl: empty command") }
        let executable: Executable = program.contains("/") ? .path(FilePath(program)) : .name(program)
        let result = try await Subprocess.run(
            executable, arguments: Arguments(Array(command.dropFirst()) + ["eval", evalExpression]),
            output: .string(limit: 64 * 1024), error: .string(limit: 64 * 1024))
        let output = result.standardOutput
        guard case .exited(0) = result.terminationStatus, let settings = parseSettings(output) else {
            let detail = (result.standardError.isEmpty ? output : result.standardError).split(separator: "\n").first.map(String.init) ?? "no output"
            throw ProbeError("--rabbitmqctl \(command.joined(separator: " ")): could not read the broker's settings: \(detail)")
        }
        return settings
    }

    /// Reads the lines `evalExpression` prints; nil when they are not there.
    static func parseSettings(_ output: String) -> ReadSettings? {
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
        }
        guard let timeout = values["consumer_timeout"], let size = values["max_message_size"], let alarms = values["alarms"] else { return nil }
        // `[{{resource_limit,disk,'rabbit@host'},[]}]`: the resource of each alarm.
        let resources = alarms.components(separatedBy: "resource_limit,").dropFirst().map { $0.prefix { $0 != "," } }
        return ReadSettings(
            consumerTimeout: Int64(timeout).map { .milliseconds($0) },
            maxMessageSize: Int(size),
            alarms: resources.map { "\($0) alarm" } + (alarms != "[]" && resources.isEmpty ? [alarms] : []))
    }
}

/// A probe that could not be made, in one line.
public struct ProbeError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
