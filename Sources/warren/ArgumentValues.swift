import ArgumentParser
import Cron
import Foundation
import WarrenCore

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

extension ArgumentValues {
    /// An ISO-8601 instant such as `2026-11-24T06:00:00+01:00` (UTC when no offset is given).
    static func instant(_ text: String, option: String) throws -> Date {
        do {
            return Date(timeIntervalSince1970: Double(try Timestamp.parse(text, in: .utc)))
        } catch {
            throw ValidationError("\(option): \(error)")
        }
    }

    /// The task catalog at `path` (an empty one without a path); a broken file is a usage error
    /// listing every problem with file:line:column.
    static func catalog(_ path: String?) throws -> TaskCatalog {
        guard let path else { return TaskCatalog() }
        do {
            return try TaskCatalog.load(path: path)
        } catch {
            throw ValidationError(error.errors.map(\.description).joined(separator: "\n"))
        }
    }
}
