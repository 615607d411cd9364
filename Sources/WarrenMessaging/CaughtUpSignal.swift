/// Tells a stream reader that it has read everything appended before it started (its own
/// marker came back), or that it never will (the consumer ended). Used by readers that follow a
/// stream from its start: the cancellation stream, the schedule state stream.
public final class CaughtUpSignal: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The marker came back.
    public func signal() { continuation.yield() }

    /// The reader stopped without catching up.
    public func finish() { continuation.finish() }

    /// Whether the marker came back within `timeout`.
    public func wait(timeout: Duration) async -> Bool {
        let timer = Task { [continuation] in
            try? await Task.sleep(for: timeout)
            continuation.finish()
        }
        defer { timer.cancel() }
        var iterator = stream.makeAsyncIterator()
        return await iterator.next() != nil
    }
}
