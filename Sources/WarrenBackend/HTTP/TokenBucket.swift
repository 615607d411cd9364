/// Per-client rate limiting: each client has a bucket of `burst` tokens refilled at
/// `perSecond`; a request takes one token or is refused with the wait until the next one.
struct TokenBuckets {
    let perSecond: Double
    let burst: Double
    private var buckets: [String: (tokens: Double, at: Double)] = [:]

    init(perSecond: Double, burst: Int) {
        self.perSecond = perSecond
        self.burst = Double(burst)
    }

    /// nil when `client` may go ahead at `now` (seconds); else seconds until it may.
    mutating func take(client: String, now: Double) -> Double? {
        var bucket = buckets[client] ?? (burst, now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * perSecond)
        bucket.at = now
        defer {
            buckets[client] = bucket
            if buckets.count > 10_000 { forgetFull(now: now) }
        }
        if bucket.tokens >= 1 {
            bucket.tokens -= 1
            return nil
        }
        return (1 - bucket.tokens) / perSecond
    }

    /// Drops clients whose bucket has refilled: they are as new ones.
    private mutating func forgetFull(now: Double) {
        buckets = buckets.filter { $0.value.tokens + (now - $0.value.at) * perSecond < burst }
    }
}
