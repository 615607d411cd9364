import Cron
import Foundation

/// "Since when" as users write it: a duration back from now (`1h`, `7d`) or an ISO-8601 instant
/// (`2026-11-23T10:00:00Z`; UTC without an offset). Used by `results --since` and the HTTP API.
public enum PastInstant {
    /// The instant, or nil when `text` is neither form.
    public static func parse(_ text: String, now: Date = Date()) -> Date? {
        if let duration = try? DurationSyntax.parse(text) { return now.addingTimeInterval(-Double(duration.components.seconds)) }
        return (try? Timestamp.parse(text, in: .utc)).map { Date(timeIntervalSince1970: Double($0)) }
    }
}
