import Testing
@testable import WarrenBackend

@Suite("rate limiting (pure)")
struct TokenBucketTests {
    @Test("a burst, then one request per refill interval; clients are independent")
    func buckets() {
        var buckets = TokenBuckets(perSecond: 2, burst: 3)
        #expect((0..<3).map { _ in buckets.take(client: "a", now: 10) } == [nil, nil, nil])
        #expect(buckets.take(client: "a", now: 10) == 0.5)
        #expect(buckets.take(client: "b", now: 10) == nil)
        #expect(buckets.take(client: "a", now: 10.5) == nil)
        #expect(buckets.take(client: "a", now: 10.5) == 0.5)
        #expect(buckets.take(client: "a", now: 100) == nil, "a bucket refills to its burst, no further")
        #expect(buckets.take(client: "a", now: 100) == nil)
        #expect(buckets.take(client: "a", now: 100) == nil)
        #expect(buckets.take(client: "a", now: 100) != nil)
    }

    @Test("the bearer token comparison does not depend on where the strings differ")
    func tokenComparison() {
        #expect(BackendHTTPServer.constantTimeEquals("Bearer abc", "Bearer abc"))
        #expect(!BackendHTTPServer.constantTimeEquals("Bearer abd", "Bearer abc"))
        #expect(!BackendHTTPServer.constantTimeEquals("Bearer ab", "Bearer abc"))
        #expect(!BackendHTTPServer.constantTimeEquals("", "Bearer abc"))
    }
}
