import ArgumentParser
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// swift-metrics bootstrapped with a Prometheus registry (once per process, on first use), and
/// `--metrics HOST:PORT`: a small HTTP server serving it at `GET /metrics` beside the process's
/// other services.
enum MetricsEndpoint {
    /// The process's registry; the first use bootstraps swift-metrics with it.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// Prometheus text of every metric so far.
    @Sendable static func text() -> String { registry.emitToString() }

    /// Bootstraps metrics and returns the service serving them.
    static func service(address: String, logger: Logger) throws -> any Service {
        let (host, port) = try hostAndPort(address, option: "--metrics")
        let registry = self.registry
        let router = Router()
        router.get("metrics") { _, _ -> String in registry.emitToString() }
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .warning)
        return Application(router: router, configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "warren"),
                           logger: serverLogger)
    }

    /// `HOST:PORT`, or a usage error naming `option`.
    static func hostAndPort(_ address: String, option: String) throws -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (1...65_535).contains(port), colon != address.startIndex else {
            throw ValidationError("\(option): expected HOST:PORT such as 127.0.0.1:9100, got \"\(address)\"")
        }
        return (String(address[..<colon]), port)
    }
}
