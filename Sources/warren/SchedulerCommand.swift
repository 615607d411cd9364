import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
import WarrenCore
import WarrenMessaging
import WarrenScheduler

struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Publish every schedule's fires as tasks when they are due.",
        discussion: """
            Any number of instances may run: the one holding the broker's lock queue is active, \
            the others stand by and take over within seconds when it stops. Schedule files are \
            reloaded when they change and on SIGHUP; a file that fails validation keeps its last \
            good version. SIGTERM or SIGINT stops the instance. A standby takes over at most about two heartbeat \
            intervals after the active instance loses the network. See docs/scheduler.md.
            """
    )

    @OptionGroup var broker: BrokerOptions

    @Option(help: "Directory of schedule files (env WARREN_SCHEDULES; default ./schedules).")
    var schedules: String?

    @Option(help: "This instance's name in logs and `warren status` (default HOST:PID).")
    var instance: String?

    @Option(name: .customLong("standby-retry"), help: "How often a standby tries to become active.")
    var standbyRetry = "1s"

    @Flag(name: .customLong("no-watch"), help: "Reload only on SIGHUP, not when files change.")
    var noWatch = false

    @Option(help: "The workers' task catalog: a schedule that names no queue goes to its task's queue: (env WARREN_TASKS).")
    var tasks: String?

    @OptionGroup var queueTypeOption: QueueTypeOption

    @OptionGroup var service: ServiceOptions

    func run() async throws {
        let logger = try service.logger(label: "warren.scheduler")
        let directory = schedules ?? ProcessInfo.processInfo.environment["WARREN_SCHEDULES"] ?? "schedules"
        do {
            _ = try ScheduleDirectory.parseFiles(in: directory)
        } catch {
            throw ValidationError("--schedules: \(error)")
        }
        let connection = try service.connection(broker, name: "warren-scheduler", logger: logger)
        var configuration = SchedulerConfiguration(connection: connection, schedulesDirectory: directory, instance: instance, logger: logger)
        configuration.queueOptions = TaskQueueOptions(type: try queueTypeOption.resolve())
        configuration.standbyRetry = try ArgumentValues.duration(standbyRetry, option: "--standby-retry")
        configuration.watchFiles = !noWatch
        configuration.catalog = try ArgumentValues.catalog(tasks ?? ProcessInfo.processInfo.environment["WARREN_TASKS"])
        let export = try service.otlpExport(serviceName: "warren-scheduler", logger: logger)
        if let export { configuration.tracing = export.tracing }
        try await service.run(command: "scheduler", logger: logger, readiness: configuration.readiness, export: export) {
            let scheduler = Scheduler(configuration: configuration)
            return [scheduler, ReloadOnHangup { scheduler.reload() }]
        }
    }
}
