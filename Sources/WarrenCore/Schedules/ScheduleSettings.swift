import Cron

/// The settings a schedule or a file's `defaults` may give, each optional until merged.
struct ScheduleSettings {
    var args: JSONValue?
    var queue: String?
    var zone: ZoneRules?
    var catchup: CatchupPolicy?
    var catchupWindow: Duration?
    var overlap: OverlapPolicy?
    var jitter: Duration?
    var priority: Int?
    var expires: Duration?
    var paused: Bool?
    var start: Int64?
    var end: Int64?
    var alertAfter: Duration?
    var alertFailures: Int?
    var dstGap: DaylightSavingPolicy.Gap?
    var dstOverlap: DaylightSavingPolicy.Overlap?

    /// These settings with every gap filled from `defaults`.
    func merged(over defaults: ScheduleSettings) -> ScheduleSettings {
        ScheduleSettings(
            args: args ?? defaults.args, queue: queue ?? defaults.queue, zone: zone ?? defaults.zone,
            catchup: catchup ?? defaults.catchup, catchupWindow: catchupWindow ?? defaults.catchupWindow,
            overlap: overlap ?? defaults.overlap, jitter: jitter ?? defaults.jitter,
            priority: priority ?? defaults.priority, expires: expires ?? defaults.expires,
            paused: paused ?? defaults.paused, start: start ?? defaults.start, end: end ?? defaults.end,
            alertAfter: alertAfter ?? defaults.alertAfter, alertFailures: alertFailures ?? defaults.alertFailures,
            dstGap: dstGap ?? defaults.dstGap, dstOverlap: dstOverlap ?? defaults.dstOverlap
        )
    }

    /// Keys both a schedule and `defaults` accept.
    static let keys = [
        "args", "queue", "timezone", "catchup", "catchup_window", "overlap", "jitter", "priority",
        "expires", "paused", "start", "end", "alert_after", "alert_failures", "dst_gap", "dst_overlap",
    ]
}
