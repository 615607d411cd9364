/// What a fixed-time cron job does with wall-clock times that a daylight-saving change skips
/// (a *gap*, at a spring-forward) or repeats (an *overlap*, at a fall-back).
///
/// The policy applies to fixed-time jobs only. Wildcard jobs (`CronExpression.isWildcardJob`)
/// follow real time whatever the policy: a skipped wall time never fires and a repeated one
/// fires in both passes. The default is cronie's behaviour.
public struct DaylightSavingPolicy: Sendable, Equatable, Hashable, CaseIterable, CustomStringConvertible {
    /// A selected wall time that a spring-forward skips.
    public enum Gap: String, Sendable, CaseIterable {
        /// Fire once, at the first instant after the gap (cronie).
        case shift
        /// Do not fire.
        case skip
    }

    /// A selected wall time that a fall-back repeats.
    public enum Overlap: String, Sendable, CaseIterable {
        /// Fire in the first pass only (cronie).
        case first
        /// Fire in the second pass only.
        case last
        /// Fire in both passes.
        case both
    }

    /// `dst_gap`.
    public let gap: Gap
    /// `dst_overlap`.
    public let overlap: Overlap

    public init(gap: Gap = .shift, overlap: Overlap = .first) {
        self.gap = gap
        self.overlap = overlap
    }

    /// `shift` and `first`: cronie's rules.
    public static let `default` = DaylightSavingPolicy()

    /// Every combination of the two settings.
    public static var allCases: [DaylightSavingPolicy] {
        Gap.allCases.flatMap { gap in Overlap.allCases.map { DaylightSavingPolicy(gap: gap, overlap: $0) } }
    }

    /// `dst_gap: shift, dst_overlap: first`.
    public var description: String { "dst_gap: \(gap.rawValue), dst_overlap: \(overlap.rawValue)" }
}
