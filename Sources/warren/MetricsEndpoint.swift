import ArgumentParser
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import WarrenMessaging

/// swift-metrics bootstrapped with a Prometheus registry (once per process, on first use), and
/// `--metrics HOST:PORT`: a small HTTP server serving it at `GET /metrics`, with `/healthz` and
/// `/readyz`, beside the process's other services.
enum MetricsEndpoint {
    /// The process's registry; the first use bootstraps swift-metrics with it.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// Prometheus text of every metric so far.
    @Sendable static func text() -> String { registry.emitToString() }

    /// Bootstraps metrics and returns the service serving them, with `GET /healthz` (200 while
    /// the process serves: liveness) and `GET /readyz` (200 `ready`, or 503 with one line per
    /// part that is not ready: readiness).
    static func service(address: String, readiness: Readiness?, logger: Logger) throws -> any Service {
        let (host, port) = try hostAndPort(address, option: "--metrics")
        let registry = self.registry
        let router = Router()
        router.get("metrics") { _, _ -> String in registry.emitToString() }
        router.get("healthz") { _, _ -> String in "ok\n" }
        router.get("readyz") { _, _ -> Response in
            let unready = readiness?.unready ?? []
            let text = unready.isEmpty ? "ready\n" : "not ready\n" + unready.map { "\($0)\n" }.joined()
            return Response(status: unready.isEmpty ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
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
