import ArgumentParser
import Foundation
import RabbitMQ
import WarrenCore
import WarrenDoctor

/// `warren doctor`: checks the broker's effective settings against Warren's own, before a
/// mismatch loses or repeats work.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the broker's settings and Warren's own for what would lose, repeat or stall work.",
        discussion: """
            Reads Warren's settings from the same flags and environment variables the services \
            read (WARREN_AMQP_URL, WARREN_HEARTBEAT, WARREN_CONCURRENCY, WARREN_PREFETCH, \
            WARREN_QUEUE_TYPE, WARREN_TASKS, WARREN_SCHEDULES), connects to the broker, and \
            reports each problem with what to change. consumer_timeout, max_message_size and \
            resource alarms are not carried by AMQP: give --rabbitmqctl to read them, or \
            --consumer-timeout if you know it; otherwise RabbitMQ's default (30m) is assumed. \
            Exit status 1 when something would lose or repeat work (or the broker cannot be \
            reached), 0 otherwise, warnings included. See docs/operations.md#warren-doctor.
            """
    )

    @OptionGroup var broker: BrokerOptions

    @Option(help: "AMQP heartbeat the services use (env WARREN_HEARTBEAT; default 10s).")
    var heartbeat: String?

    @Option(help: "Directory of schedule files (env WARREN_SCHEDULES; default ./schedules when it exists).")
    var schedules: String?

    @OptionGroup(title: "The worker's options") var worker: WorkerOptions

    @Option(help: "A rabbitmqctl command line for the broker, run without a shell, e.g. \"rabbitmqctl -n rabbit@broker-1\" (env WARREN_RABBITMQCTL); reads consumer_timeout, max_message_size and alarms.")
    var rabbitmqctl: String?

    @Option(name: .customLong("consumer-timeout"), help: "The broker's consumer_timeout when you know it and cannot give --rabbitmqctl, e.g. 6h, or off.")
    var consumerTimeout: String?

    @Flag(help: "As one JSON object.")
    var json = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let tuning = try worker.resolve(environment: environment)
        var connection = try broker.configuration(connectionName: "warren-doctor")
        if let heartbeat = try ServiceOptions.heartbeat(heartbeat, environment: environment) { connection.heartbeat = heartbeat }
        var source = BrokerProbe.SettingsSource()
        if let command = rabbitmqctl ?? environment["WARREN_RABBITMQCTL"] {
            let words = command.split(separator: " ").map(String.init)
            guard !words.isEmpty else { throw ValidationError("--rabbitmqctl: expected a command line") }
            source.rabbitmqctl = words
        }
        if let consumerTimeout {
            source.consumerTimeout = consumerTimeout == "off" ? .some(nil) : try ArgumentValues.duration(consumerTimeout, option: "--consumer-timeout")
        }

        var findings: [DoctorFinding] = []
        var settings = WarrenSettings(endpoints: connection.endpoints, heartbeat: connection.heartbeat, queues: tuning.queues,
                                      concurrency: tuning.concurrency, prefetch: tuning.prefetch, queueType: tuning.queueType,
                                      maxPayload: tuning.maxPayload)
        if let path = tuning.tasksPath {
            settings.catalogPath = path
            do {
                let catalog = try TaskCatalog.load(path: path)
                settings.catalog = catalog
                settings.queues = tuning.consumedQueues(catalog: catalog)
            } catch {
                findings += error.errors.map { DoctorFinding("catalog", .error, "the worker would not start: \($0)", fix: "fix \(path)") }
            }
        }
        if let directory = scheduleDirectory(environment) {
            settings.schedulesPath = directory
            do {
                let set = try ScheduleDirectory.load(directory)
                settings.schedules = set.schedules
                settings.workflows = Dictionary(set.workflows.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
                findings += set.errors.map { DoctorFinding("schedules", .error, "the scheduler rejects this file and keeps its last good version: \($0)", fix: "fix it; `warren schedules validate \(directory)` lists every error") }
            } catch {
                throw ValidationError("--schedules: \(error)")
            }
        }

        var brokerFacts: BrokerFacts?
        do {
            brokerFacts = try await BrokerProbe.gather(connection, settings: settings, source: source)
        } catch let error as ProbeError {
            findings.append(DoctorFinding("rabbitmqctl", .error, error.description, fix: "check the command: it must reach the broker's node (its -n NODE and Erlang cookie)"))
        } catch {
            findings.append(DoctorFinding("broker", .error, "the broker cannot be reached: \(error)", fix: "check WARREN_AMQP_URL / --amqp-url, and that the broker runs"))
        }
        let report = DoctorReport(findings + DoctorRules.evaluate(settings, broker: brokerFacts))
        if json {
            print(DoctorOutput.json(report, broker: brokerFacts).jsonText)
        } else {
            print(DoctorOutput.text(report, broker: brokerFacts), terminator: "")
        }
        if report.exitStatus != 0 { throw ExitCode(report.exitStatus) }
    }

    private func scheduleDirectory(_ environment: [String: String]) -> String? {
        if let directory = schedules ?? environment["WARREN_SCHEDULES"] { return directory }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: "schedules", isDirectory: &isDirectory) && isDirectory.boolValue ? "schedules" : nil
    }
}

/// How `warren doctor` prints its report.
enum DoctorOutput {
    static func text(_ report: DoctorReport, broker: BrokerFacts?) -> String {
        var text = ""
        if let broker {
            let server = broker.server
            text += "broker  \(server.product ?? "?") \(server.version ?? "?")\(server.clusterName.map { ", cluster \($0)" } ?? "")\n\n"
        }
        for finding in report.findings {
            text += "\(finding.severity.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(finding.check): \(finding.message)\n"
            if let fix = finding.fix, finding.severity >= .warning || finding.severity == .skipped {
                text += "         fix: \(fix)\n"
            }
        }
        text += "\n\(report.errors) error(s), \(report.warnings) warning(s)\n"
        return text
    }

    static func json(_ report: DoctorReport, broker: BrokerFacts?) -> JSONValue {
        let findings: [JSONValue] = report.findings.map { finding in
            .object(["check": .string(finding.check), "severity": .string(finding.severity.rawValue),
                     "message": .string(finding.message), "fix": finding.fix.map(JSONValue.string) ?? .null])
        }
        var brokerObject: JSONValue = .null
        if let broker {
            brokerObject = .object([
                "product": broker.server.product.map(JSONValue.string) ?? .null,
                "version": broker.server.version.map(JSONValue.string) ?? .null,
                "heartbeat_seconds": .integer(Int64(broker.server.heartbeatSeconds)),
                "consumer_timeout_ms": broker.consumerTimeout.value.map { .integer($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) } ?? .null,
                "consumer_timeout_source": .string("\(broker.consumerTimeout.source)"),
            ])
        }
        return .object(["broker": brokerObject, "findings": .array(findings),
                        "errors": .integer(Int64(report.errors)), "warnings": .integer(Int64(report.warnings))])
    }
}
