import RabbitMQ
import Tracing
import WarrenCore

/// Spans around Warren's work — publishing a task, a scheduled fire, running a task — in the W3C
/// trace context each task carries in its `traceparent` header (docs/observability.md).
///
/// With a tracer (`--otlp-endpoint` sets one up) the spans are recorded and exported. Without,
/// no span is recorded but the ids are still made, so a task's `TRACEPARENT` names its own span
/// in its publisher's trace either way.
public struct TaskTracing: Sendable {
    /// The tracer spans are recorded with; nil records none.
    public let tracer: (any Tracer)?

    public init(tracer: (any Tracer)? = nil) {
        self.tracer = tracer
    }

    /// Starts a span named `name`, a child of `parent` (a traceparent; the root of a new trace
    /// when nil or invalid). End it with `TraceSpan.end`. The name and attributes are only made
    /// when a tracer records them: without one a run costs a span id and nothing more.
    public func start(_ name: @autoclosure () -> String, kind: SpanKind, parent: String?,
                      attributes: @autoclosure () -> [String: String] = [:]) -> TraceSpan {
        guard let tracer else { return TraceSpan(traceparent: TraceParent.child(of: parent), span: nil) }
        let name = name()
        var context = ServiceContext.topLevel
        if let parent, TraceParent.isValid(parent) {
            tracer.extract([TraceSpan.header: parent], into: &context, using: HeaderCarrier())
        }
        let span = tracer.startSpan(name, context: context, ofKind: kind)
        for (key, value) in attributes() { span.attributes[key] = value }
        var carrier: [String: String] = [:]
        tracer.inject(span.context, into: &carrier, using: HeaderCarrier())
        return TraceSpan(traceparent: carrier[TraceSpan.header] ?? TraceParent.child(of: parent), span: span)
    }
}

/// One span: its traceparent, to hand on with the work, and the recorded span when there is a tracer.
public struct TraceSpan: Sendable {
    /// The W3C header (and `TRACEPARENT` environment variable, upper-cased) that carries it.
    public static let header = "traceparent"

    /// `00-TRACE_ID-SPAN_ID-FLAGS` of this span.
    public let traceparent: String
    let span: (any Span)?

    /// Whether a tracer records this span (then libraries that trace, such as AsyncHTTPClient,
    /// continue it themselves when run `within` it).
    public var isRecorded: Bool { span != nil }

    /// Ends the span, marked failed with `error` when given.
    public func end(error: String? = nil) {
        guard let span else { return }
        if let error { span.setStatus(SpanStatus(code: .error, message: error)) }
        span.end()
    }

    /// Ends the span of a publish with the broker's answer: failed with the error it gave.
    public func end(confirmed result: Result<Void, AMQPError>) {
        if case .failure(let error) = result { end(error: "\(error)") } else { end() }
    }

    /// Runs `body` with this span as the task's current context, so that spans `body` starts
    /// with the global tracer (`InstrumentationSystem.tracer`) are its children.
    public func within<T: Sendable>(_ body: () async -> T) async -> T {
        guard let context = span?.context else { return await body() }
        return await ServiceContext.withValue(context) { await body() }
    }

    /// Sets an attribute on the recorded span.
    public func set(_ key: String, _ value: String) {
        span?.attributes[key] = value
    }
}

/// Reads and writes trace headers in a `[String: String]`.
struct HeaderCarrier: Extractor, Injector {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}
