extension CronSchedule {
    /// Why `fire`, an instant `nextFire` returned, differs from the plain wall-clock reading of
    /// the expression, or nil when it does not:
    ///
    /// - a fire standing for skipped times: `02:30 does not exist: shifted to the end of the gap`,
    ///   naming the first selected wall time inside the gap;
    /// - a fire at a repeated wall time: `01:30 happens twice: first pass (dst_overlap: first)`,
    ///   or `second pass (dst_overlap: last)`; wildcard jobs say `(wildcard jobs fire in both)`.
    ///
    /// Times are `HH:mm`, with `:ss` when the expression has a seconds field. Nil as well for an
    /// instant that is not such a fire.
    public func explain(fire: Int64) -> String? {
        let segment = zone.segment(containing: fire)
        let offset = segment.offset
        if !expression.isWildcardJob, policy.gap == .shift, fire == segment.start, segment.previousOffset < offset,
            let skipped = expression.firstMatch(atOrAfter: fire + segment.previousOffset, before: fire + offset)
        {
            return "\(clock(skipped)) does not exist: shifted to the end of the gap"
        }
        let local = fire + offset
        guard expression.matches(LocalDateTime(localSeconds: local)) else { return nil }
        let secondPass: Bool
        if segment.start != .min, segment.previousOffset > offset, fire - segment.start < segment.previousOffset - offset {
            secondPass = true
        } else if segment.end != .max, segment.end - fire <= offset - zone.segment(containing: segment.end).offset {
            secondPass = false
        } else {
            return nil
        }
        let reason: String
        if expression.isWildcardJob {
            reason = "wildcard jobs fire in both"
        } else {
            switch (policy.overlap, secondPass) {
            case (.first, true), (.last, false): return nil  // not a fire under this policy
            default: reason = "dst_overlap: \(policy.overlap.rawValue)"
            }
        }
        return "\(clock(local)) happens twice: \(secondPass ? "second" : "first") pass (\(reason))"
    }

    /// A wall-clock time of day as `HH:mm`, or `HH:mm:ss` for expressions with seconds.
    private func clock(_ local: Int64) -> String {
        let time = LocalDateTime(localSeconds: local)
        var text = "\(Timestamp.pad(time.hour, 2)):\(Timestamp.pad(time.minute, 2))"
        if expression.hasSeconds { text += ":\(Timestamp.pad(time.second, 2))" }
        return text
    }
}
