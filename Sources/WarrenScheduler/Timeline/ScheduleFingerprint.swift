import Cron
import WarrenCore

extension ScheduleDefinition {
    /// `settingFields` as one text: two definitions with the same fingerprint behave the same.
    var fingerprint: String {
        settingFields.map(\.value).joined(separator: "\u{1F}")
    }
}
