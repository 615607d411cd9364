/// Waits while messages keep arriving on a consumer whose end cannot be told over AMQP (a
/// stream has no message count; a queue's may change meanwhile): until `done()`, or until
/// `count()` has not grown for `idle` (`first` before anything arrived), or `limit` passed.
func waitWhileArriving(first: Duration, idle: Duration, limit: Duration = .seconds(30),
                       count: () -> Int, done: () -> Bool = { false }) async throws {
    let deadline = ContinuousClock.now + limit
    var seen = 0
    var lastChange = ContinuousClock.now
    while ContinuousClock.now < deadline, !done() {
        let now = count()
        if now != seen {
            seen = now
            lastChange = .now
        } else if ContinuousClock.now - lastChange > (seen == 0 ? first : idle) {
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}
