import ArgumentParser
import Foundation
import Logging
import RabbitMQ
import ServiceLifecycle
import WarrenMessaging

/// Options every long-running process shares: broker connection tuning, metrics and logging.
struct ServiceOptions: ParsableArguments {
    @Option(help: "AMQP heartbeat interval (env WARREN_HEARTBEAT; default 10s).")
    var heartbeat: String?

    @Option(name: .customLong("connect-timeout"), help: "Time allowed to connect to each broker (env WARREN_CONNECT_TIMEOUT; default 5s).")
    var connectTimeout: String?

    @Option(help: "Serve Prometheus metrics at http://HOST:PORT/metrics, e.g. 127.0.0.1:9100, with /healthz (liveness) and /readyz (readiness).")
    var metrics: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info (default), notice, warning, error.")
    var logLevel = "info"

    @Option(name: .customLong("log-format"), help: "text (default) or json: one JSON object per line.")
    var logFormat = "text"

    @Option(name: .customLong("log-file"), help: "Append log lines to this file instead of standard error.")
    var logFile: String?

    @Option(name: .customLong("otlp-endpoint"), help: "Record spans and export them over OTLP/HTTP to the collector at this base URL, e.g. http://127.0.0.1:4318 (env WARREN_OTLP_ENDPOINT).")
    var otlpEndpoint: String?

    /// The span export `--otlp-endpoint` asks for (nil without one); hand it to `run`.
    func otlpExport(serviceName: String, logger: Logger) throws -> OTLPExport? {
        try OTLPExport.make(endpoint: otlpEndpoint, serviceName: serviceName, logger: logger)
    }

    /// The process's logger, labelled `label`; sets up where and how every logger of the
    /// process writes (once).
    func logger(label: String) throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level: expected trace, debug, info, notice, warning or error")
        }
        guard let format = LineLogHandler.Format(rawValue: logFormat) else {
            throw ValidationError("--log-format: expected text or json, got \(logFormat)")
        }
        var handle = FileHandle.standardError
        if let logFile {
            if !FileManager.default.fileExists(atPath: logFile) { _ = FileManager.default.createFile(atPath: logFile, contents: nil) }
            guard let file = FileHandle(forWritingAtPath: logFile) else { throw ValidationError("--log-file \(logFile): cannot open it for writing") }
            file.seekToEndOfFile()
            handle = file
        }
        let sink = LineLogHandler.Sink(handle)
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, format: format, sink: sink) }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }

    /// The broker connection of a long-running process, with these options applied.
    func connection(_ broker: BrokerOptions, name: String, logger: Logger) throws -> ConnectionConfiguration {
        let environment = ProcessInfo.processInfo.environment
        var connection = try broker.serviceConfiguration(connectionName: name)
        if let heartbeat = try Self.heartbeat(heartbeat, environment: environment) { connection.heartbeat = heartbeat }
        if let connectTimeout = connectTimeout ?? environment["WARREN_CONNECT_TIMEOUT"] {
            connection.connectTimeout = try ArgumentValues.duration(connectTimeout, option: "--connect-timeout")
        }
        connection.logger = logger
        return connection
    }

    /// The heartbeat a process uses: `--heartbeat`, else `WARREN_HEARTBEAT`; nil for the client's default.
    static func heartbeat(_ flag: String?, environment: [String: String]) throws -> Duration? {
        try (flag ?? environment["WARREN_HEARTBEAT"]).map { try ArgumentValues.duration($0, option: "--heartbeat") }
    }

    /// Runs the services `makeServices` returns (plus the metrics endpoint when asked for) until
    /// SIGTERM or SIGINT; a failure is reported in one line as `warren COMMAND: …` and exits 1.
    /// Metrics are bootstrapped before the services are made, so their metric handles are real.
    /// With `export`, its exporter runs first and stops last, so the spans of the last work go out.
    func run(command: String, logger: Logger, readiness: Readiness? = nil, export: OTLPExport? = nil,
             _ makeServices: () throws -> [any Service]) async throws {
        let endpoint = try metrics.map { try MetricsEndpoint.service(address: $0, readiness: readiness, logger: logger) }
        var services = try makeServices()
        if let endpoint { services.append(endpoint) }
        // A group stops its services in reverse order.
        if let export { services.insert(export.service, at: 0) }
        // A service that returns by itself (`warren worker --max-tasks`) is done: the rest shut
        // down gracefully and the command exits 0. A service that throws cancels the others.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup) },
            gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger))
        do {
            try await group.run()
        } catch {
            FileHandle.standardError.write(Data("warren \(command): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
