import ArgumentParser
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `--metrics HOST:PORT`: swift-metrics bootstrapped with a Prometheus registry, served at
/// `GET /metrics` by a small HTTP server that runs beside the process's other services.
enum MetricsEndpoint {
    /// Bootstraps metrics (once per process) and returns the service serving them.
    static func service(address: String, logger: Logger) throws -> any Service {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (1...65_535).contains(port), colon != address.startIndex else {
            throw ValidationError("--metrics: expected HOST:PORT such as 127.0.0.1:9100, got \"\(address)\"")
        }
        let host = String(address[..<colon])
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let router = Router()
        router.get("metrics") { _, _ -> String in registry.emitToString() }
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .warning)
        return Application(router: router, configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "warren"),
                           logger: serverLogger)
    }
}
