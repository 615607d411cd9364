import Foundation
import Synchronization

/// A time zone's UTC offsets as a table of transitions, so that converting between instants
/// and wall-clock times costs a binary search instead of a call into the time-zone library.
///
/// The table is read once per zone from Foundation's `TimeZone` and covers 1800–2500. Before
/// 1800 the 1800 offset holds; after 2500 the rules of 2100–2500 repeat, which is exact for
/// rule-based daylight-saving time because the Gregorian calendar repeats every 400 years.
public final class ZoneRules: Sendable, CustomStringConvertible {
    /// The IANA identifier, e.g. `Europe/Berlin`.
    public let identifier: String
    /// Instants (seconds since the epoch) at which the offset changes, ascending.
    let transitions: [Int64]
    /// `offsets[i]` is in force before `transitions[i]`; the last one after the last transition.
    let offsets: [Int64]
    /// Index of the first transition at or after `periodStart`.
    let firstPeriodicTransition: Int

    static let tableStart: Int64 = -5_364_662_400  // 1800-01-01T00:00:00Z
    static let tableEnd: Int64 = 16_725_225_600  // 2500-01-01T00:00:00Z
    static let cycle: Int64 = 146_097 * 86_400  // 400 Gregorian years
    static var periodStart: Int64 { tableEnd - cycle }  // 2100-01-01T00:00:00Z

    private static let cache = Mutex<[String: ZoneRules]>([:])

    /// The rules of the IANA zone `identifier`, or nil when no such zone exists.
    public static func named(_ identifier: String) -> ZoneRules? {
        if let cached = cache.withLock({ $0[identifier] }) { return cached }
        guard isPlausibleIdentifier(identifier), let zone = TimeZone(identifier: identifier == "UTC" ? "GMT" : identifier) else {
            return nil
        }
        let rules = ZoneRules(identifier: identifier, zone: zone)
        return cache.withLock { cache in
            if let raced = cache[identifier] { return raced }
            cache[identifier] = rules
            return rules
        }
    }

    /// UTC, with no transitions.
    public static let utc = ZoneRules.named("UTC")!

    /// Foundation also turns offsets such as `GMT+1` into zones; only names from the IANA
    /// database (and `UTC`) are accepted here.
    static func isPlausibleIdentifier(_ identifier: String) -> Bool {
        if identifier == "UTC" { return true }
        if identifier.hasPrefix("GMT+") || identifier.hasPrefix("GMT-") { return false }
        return TimeZone(identifier: identifier)?.identifier == identifier
    }

    /// A known zone name close to `identifier`, for "did you mean" hints.
    public static func suggestion(for identifier: String) -> String? {
        let known = TimeZone.knownTimeZoneIdentifiers + ["UTC"]
        if let sameLetters = known.first(where: { $0.lowercased() == identifier.lowercased() }) { return sameLetters }
        return Suggestion.closest(to: identifier, among: known)
    }

    private init(identifier: String, zone: TimeZone) {
        self.identifier = identifier
        var transitions: [Int64] = []
        var offsets: [Int64] = [Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(Self.tableStart))))]
        var cursor = Date(timeIntervalSince1970: Double(Self.tableStart))
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next.timeIntervalSince1970 < Double(Self.tableEnd) {
            let offset = Int64(zone.secondsFromGMT(for: next))
            if offset != offsets.last {
                transitions.append(Int64(next.timeIntervalSince1970.rounded()))
                offsets.append(offset)
            }
            cursor = next
        }
        self.transitions = transitions
        self.offsets = offsets
        self.firstPeriodicTransition = transitions.firstIndex { $0 >= Self.periodStart } ?? transitions.count
    }

    public var description: String { identifier }

    /// A stretch of time with one UTC offset.
    struct Segment {
        /// First instant with `offset`; `Int64.min` when it has always held.
        var start: Int64
        /// First instant after the segment; `Int64.max` when the offset never changes again.
        var end: Int64
        var offset: Int64
        /// The offset before `start` (equal to `offset` when `start` is `Int64.min`).
        var previousOffset: Int64
    }

    /// The segment containing `instant`.
    func segment(containing instant: Int64) -> Segment {
        var shift: Int64 = 0
        var probe = instant
        if instant >= Self.tableEnd, firstPeriodicTransition < transitions.count {
            let cycles = (instant - Self.periodStart) / Self.cycle
            shift = cycles * Self.cycle
            probe = instant - shift
        }
        // Index of the first transition after `probe`.
        var low = 0
        var high = transitions.count
        while low < high {
            let middle = (low + high) / 2
            if transitions[middle] <= probe { low = middle + 1 } else { high = middle }
        }
        let index = low
        var segment = Segment(
            start: index > 0 ? transitions[index - 1] : .min,
            end: index < transitions.count ? transitions[index] : .max,
            offset: offsets[index],
            previousOffset: offsets[index > 0 ? index - 1 : 0]
        )
        if segment.end == .max, firstPeriodicTransition < transitions.count {
            segment.end = transitions[firstPeriodicTransition] + Self.cycle
        }
        if shift != 0 {
            if segment.start != .min { segment.start += shift }
            if segment.end != .max { segment.end += shift }
        }
        return segment
    }

    /// The UTC offset in seconds at `instant`.
    public func offset(at instant: Int64) -> Int64 {
        segment(containing: instant).offset
    }
}
