import Logging

/// `--autoscale MIN,MAX`: concurrency follows the backlog. Every half second, deliveries waiting
/// for a slot raise the limit by as many (up to MAX); after five seconds with free slots and
/// nothing waiting, it falls by one towards the slots in use (down to MIN).
struct Autoscaler: Sendable {
    let minimum: Int
    let maximum: Int
    static let interval = Duration.milliseconds(500)
    static let quietTurnsBeforeShrinking = 10

    /// The next limit from the current state; `quietTurns` counts turns with spare capacity.
    func nextLimit(limit: Int, inUse: Int, waiting: Int, quietTurns: inout Int) -> Int {
        if waiting > 0 {
            quietTurns = 0
            return min(maximum, limit + waiting)
        }
        guard inUse < limit else {
            quietTurns = 0
            return limit
        }
        quietTurns += 1
        guard quietTurns >= Self.quietTurnsBeforeShrinking else { return limit }
        quietTurns = 0
        return max(minimum, max(inUse, limit - 1))
    }

    /// Adjusts `limiter` until cancelled.
    func run(_ limiter: ConcurrencyLimiter, metrics: WorkerMetrics, logger: Logger) async {
        var quietTurns = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.interval)
            let (limit, inUse, waiting) = limiter.snapshot
            let next = nextLimit(limit: limit, inUse: inUse, waiting: waiting, quietTurns: &quietTurns)
            if next != limit {
                limiter.setLimit(next)
                metrics.concurrencyLimit(next)
                logger.info("autoscale: concurrency \(limit) -> \(next)", metadata: ["running": "\(inUse)", "waiting": "\(waiting)"])
            }
        }
    }
}
