/// Exponential backoff: doubles from `first` up to `longest`.
struct Backoff {
    let first: Duration
    let longest: Duration
    private(set) var next: Duration

    init(first: Duration, longest: Duration) {
        self.first = first
        self.longest = longest
        next = first
    }

    /// The wait before the next attempt; each call doubles the one after.
    mutating func step() -> Duration {
        defer { next = min(next * 2, longest) }
        return next
    }
}
