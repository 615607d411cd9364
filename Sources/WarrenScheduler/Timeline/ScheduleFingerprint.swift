import Cron
import WarrenCore

extension ScheduleDefinition {
    /// Everything that decides what and when this schedule publishes, as text: two definitions
    /// with the same fingerprint behave the same (where in the file it stands does not count).
    var fingerprint: String {
        var args = ""
        JSONText.write(self.args, into: &args)
        let fields: [String] = [
            recurrence.description, zone.identifier, task, args, queue, catchup.rawValue, "\(catchupWindow)",
            overlap.rawValue, "\(jitter)", priority.map(String.init) ?? "-", expires.map { "\($0)" } ?? "-",
            "\(paused)", start.map(String.init) ?? "-", end.map(String.init) ?? "-",
        ]
        return fields.joined(separator: "\u{1F}")
    }
}
