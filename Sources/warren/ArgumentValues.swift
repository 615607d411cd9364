import ArgumentParser
import Cron

/// Reading option values whose errors must name the option (exit 2, one line).
enum ArgumentValues {
    /// A duration such as `30s` or `1h30m`.
    static func duration(_ text: String, option: String) throws -> Duration {
        do {
            return try DurationSyntax.parse(text)
        } catch {
            throw ValidationError("\(option): \(error)")
        }
    }
}
