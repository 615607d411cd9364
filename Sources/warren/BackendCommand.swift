import ArgumentParser
import Foundation
import WarrenBackend
import WarrenCore
import WarrenMessaging
import WarrenStore

/// `warren backend`: stores every result published to `warren.results`.
struct BackendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backend",
        abstract: "Consume results and store them (SQLite or PostgreSQL) for `warren results`.",
        discussion: """
            Results are committed in batches and acknowledged only after the commit, so a crash \
            loses nothing and a result stored twice leaves one record. While the store is \
            unreachable or full, results wait in the broker. See docs/backend.md.
            """
    )

    @OptionGroup var broker: BrokerOptions
    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Delete results older than this, e.g. 30d, or \"off\".")
    var retain = "30d"

    @Option(name: .customLong("retention-interval"), help: "How often retention runs.")
    var retentionInterval = "10m"

    @Option(name: .customLong("batch-size"), help: "Most results per transaction.")
    var batchSize = 500

    @Option(name: .customLong("batch-delay"), help: "Longest a result waits for its batch to fill.")
    var batchDelay = "20ms"

    @Option(help: "Unacknowledged results held at once, at least --batch-size.")
    var prefetch = 2000

    @Option(help: "Serve the HTTP API, dashboard and /metrics at HOST:PORT, or \"off\".")
    var http = "127.0.0.1:8080"

    @Option(name: .customLong("api-token"), help: "Admin token: grants every route (env WARREN_API_TOKEN). With any token set, every route but /healthz and /signin needs one.")
    var apiToken: String?

    @Option(name: .customLong("api-read-token"), help: "Read token: grants reads only; writes get 403 (env WARREN_API_READ_TOKEN).")
    var apiReadToken: String?

    @Flag(name: .customLong("metrics-open"), help: "Serve /metrics without a token even when tokens are set.")
    var metricsOpen = false

    @Flag(name: .customLong("insecure-no-auth"), help: "Allow --http beyond loopback without a token (everyone reachable may read and write).")
    var insecureNoAuth = false

    @Flag(name: .customLong("trust-forwarded-for"), help: "Rate-limit by X-Forwarded-For's first address (a proxy in front) when no token is used.")
    var trustForwardedFor = false

    @Option(help: "Schedule files: the dashboard lists them with their next fire, and alert_after and alert_failures are evaluated (env WARREN_SCHEDULES; default: none).")
    var schedules: String?

    @Option(help: "The workers' task catalog: a task submitted to POST /api/tasks without a queue goes to its queue: (env WARREN_TASKS).")
    var tasks: String?

    @Option(name: .customLong("api-rate"), help: "Writes (POST) per token, or per client address without tokens: sustained per second; bursts of twice that.")
    var apiRate = 10.0

    @OptionGroup var queueTypeOption: QueueTypeOption

    @OptionGroup var service: ServiceOptions

    func run() async throws {
        let logger = try service.logger(label: "warren.backend")
        guard (1...10_000).contains(batchSize) else { throw ValidationError("--batch-size: expected 1 to 10000, got \(batchSize)") }
        guard (1...65_535).contains(prefetch) else { throw ValidationError("--prefetch: expected 1 to 65535, got \(prefetch)") }
        var configuration = BackendConfiguration(connection: try service.connection(broker, name: "warren-backend", logger: logger),
                                                 store: try storeOptions.address())
        configuration.queueType = try queueTypeOption.resolve()
        configuration.batchSize = batchSize
        configuration.batchDelay = try ArgumentValues.duration(batchDelay, option: "--batch-delay")
        configuration.prefetch = prefetch
        configuration.retain = retain == "off" ? nil : try ArgumentValues.duration(retain, option: "--retain")
        configuration.retentionInterval = try ArgumentValues.duration(retentionInterval, option: "--retention-interval")
        if let retain = configuration.retain, retain < .seconds(60) {
            throw ValidationError("--retain: at least 1m, or \"off\"")
        }
        configuration.schedulesDirectory = schedules ?? ProcessInfo.processInfo.environment["WARREN_SCHEDULES"]
        guard apiRate > 0 else { throw ValidationError("--api-rate: expected a positive number, got \(apiRate)") }
        var httpConfiguration: HTTPConfiguration?
        let export = try service.otlpExport(serviceName: "warren-backend", logger: logger)
        if http != "off" {
            let (host, port) = try MetricsEndpoint.hostAndPort(http, option: "--http")
            var settings = HTTPConfiguration(host: host, port: port, connection: configuration.connection, metricsText: MetricsEndpoint.text)
            settings.queueOptions = TaskQueueOptions(type: configuration.queueType)
            let environment = ProcessInfo.processInfo.environment
            settings.apiToken = (apiToken ?? environment["WARREN_API_TOKEN"]).flatMap { $0.isEmpty ? nil : $0 }
            settings.readToken = (apiReadToken ?? environment["WARREN_API_READ_TOKEN"]).flatMap { $0.isEmpty ? nil : $0 }
            settings.metricsOpen = metricsOpen
            settings.insecureNoAuth = insecureNoAuth
            settings.trustForwardedFor = trustForwardedFor
            settings.rate = (apiRate, max(1, Int((apiRate * 2).rounded(.up))))
            settings.schedulesDirectory = schedules ?? environment["WARREN_SCHEDULES"]
            settings.catalog = try ArgumentValues.catalog(tasks ?? environment["WARREN_TASKS"])
            if let export { settings.tracing = export.tracing }
            do {
                httpConfiguration = try settings.validated()
            } catch {
                throw ValidationError(error.description)
            }
        }
        // GET /metrics needs the registry whether or not --metrics is given.
        _ = MetricsEndpoint.registry
        let state = BackendState()
        try await service.run(command: "backend", logger: logger, readiness: state.readiness, export: export) {
            let backend = Backend(configuration: configuration, state: state, logger: logger)
            guard let httpConfiguration else { return [backend] }
            return [backend, BackendHTTPServer(configuration: httpConfiguration, state: state, logger: logger).service()]
        }
    }
}
