import Foundation

extension Date {
    /// Milliseconds since the Unix epoch, rounded down: the one conversion behind every
    /// millisecond header, wire field and stored column (`x-warren-published-ms`, workflow run
    /// times, pause ends, stored-at columns).
    public var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }
}
