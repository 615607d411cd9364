import ArgumentParser
import Foundation
import Logging
import OTel
import ServiceLifecycle
import Tracing
import WarrenMessaging

/// `--otlp-endpoint`: spans recorded by this process and exported over OTLP/HTTP (swift-otel's
/// batch exporter) to a collector at that base URL, traces to `/v1/traces`. The standard
/// `OTEL_EXPORTER_OTLP_*` and `OTEL_TRACES_*` variables apply on top (docs/observability.md).
struct OTLPExport {
    /// The process's tracing, for the configuration of what it runs.
    let tracing: TaskTracing
    /// Sends the recorded spans; run it beside the process's services, shut it down last.
    let service: any Service

    /// The export to `endpoint` (else `WARREN_OTLP_ENDPOINT`), or nil when neither is given. The
    /// tracer also becomes the process's global one, so a Swift handler's own spans join the run's.
    static func make(endpoint: String?, serviceName: String, logger: Logger) throws -> OTLPExport? {
        guard let endpoint = endpoint ?? ProcessInfo.processInfo.environment["WARREN_OTLP_ENDPOINT"], !endpoint.isEmpty else { return nil }
        guard let url = URL(string: endpoint), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ValidationError("--otlp-endpoint: expected the collector's base URL, http://HOST:PORT or https://HOST:PORT, got \(endpoint)")
        }
        var configuration = OTel.Configuration.default
        configuration.serviceName = serviceName
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        configuration.traces.otlpExporter.endpoint = endpoint.hasSuffix("/") ? endpoint + "v1/traces" : endpoint + "/v1/traces"
        configuration.propagators = [.traceContext]
        configuration.diagnosticLogger = .custom(logger)
        configuration.diagnosticLogLevel = .warning
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(backend.factory)
        return OTLPExport(tracing: TaskTracing(tracer: backend.factory), service: backend.service)
    }

    /// Runs `body` while the exporter runs, then shuts the exporter down, which sends what is
    /// left (for one-shot commands such as `warren publish`).
    func whileRunning<T: Sendable>(logger: Logger, _ body: () async throws -> T) async throws -> T {
        let group = ServiceGroup(services: [service], logger: logger)
        let exporting = Task { try await group.run() }
        let outcome: Result<T, any Error>
        do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
        await group.triggerGracefulShutdown()
        _ = try? await exporting.value
        return try outcome.get()
    }
}
