/// Durations as written in schedule files and on the command line: `500ms`, `30s`, `15m`,
/// `2h`, `7d` and combinations from the largest unit to the smallest, such as `1h30m`.
public enum DurationSyntax {
    /// Units, largest first, with their length in milliseconds.
    static let units: [(symbol: String, milliseconds: Int64)] = [
        ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1),
    ]
    /// The longest duration accepted: 100 years of days.
    static let maximumMilliseconds: Int64 = 36_500 * 86_400_000

    /// Parses `text` into a duration; the error says what is wrong in one line.
    public static func parse(_ text: String) throws(DurationSyntaxError) -> Duration {
        let scalars = Array(text.unicodeScalars)
        guard !scalars.isEmpty else { throw DurationSyntaxError(text: text, reason: "empty duration") }
        var index = 0
        var total: Int64 = 0
        var previousUnit = -1
        while index < scalars.count {
            let numberStart = index
            while index < scalars.count, ("0"..."9").contains(scalars[index]) { index += 1 }
            guard index > numberStart else {
                throw DurationSyntaxError(text: text, reason: "expected a number at position \(index + 1)")
            }
            if index < scalars.count, scalars[index] == "." {
                throw DurationSyntaxError(text: text, reason: "fractions are not accepted; write 1h30m rather than 1.5h")
            }
            let digits = String(String.UnicodeScalarView(scalars[numberStart..<index]))
            let unitStart = index
            while index < scalars.count, !("0"..."9").contains(scalars[index]) { index += 1 }
            let symbol = String(String.UnicodeScalarView(scalars[unitStart..<index]))
            guard !symbol.isEmpty else {
                throw DurationSyntaxError(text: text, reason: "missing unit after \(digits); use ms, s, m, h or d")
            }
            guard let unitIndex = units.firstIndex(where: { $0.symbol == symbol }) else {
                throw DurationSyntaxError(text: text, reason: "unknown unit \"\(symbol)\"; use ms, s, m, h or d")
            }
            guard unitIndex > previousUnit else {
                throw DurationSyntaxError(text: text, reason: "units must go from largest to smallest, each at most once, as in 1d2h30m")
            }
            previousUnit = unitIndex
            guard digits.count <= 12, let value = Int64(digits) else {
                throw DurationSyntaxError(text: text, reason: "too long; the limit is 36500d")
            }
            total += value * units[unitIndex].milliseconds
            guard total <= maximumMilliseconds else {
                throw DurationSyntaxError(text: text, reason: "too long; the limit is 36500d")
            }
        }
        return .milliseconds(total)
    }

    /// Writes a duration the way `parse` reads it, e.g. `1h30m`; `0s` for zero.
    public static func format(_ duration: Duration) -> String {
        var remaining = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        guard remaining > 0 else { return "0s" }
        var text = ""
        for unit in units where remaining >= unit.milliseconds {
            text += "\(remaining / unit.milliseconds)\(unit.symbol)"
            remaining %= unit.milliseconds
        }
        return text
    }
}

/// A duration that could not be read.
public struct DurationSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text as given.
    public let text: String
    /// What is wrong with it.
    public let reason: String

    public var description: String { "invalid duration \"\(text)\": \(reason)" }
}
