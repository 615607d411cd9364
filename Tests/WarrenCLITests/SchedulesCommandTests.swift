import Foundation
import Testing
import WarrenTestSupport

/// `warren schedules validate | list | next`, driven through the real binary.
@Suite("warren schedules (real binary)")
struct SchedulesCommandTests {
    /// A temporary schedules directory holding `files`.
    func directory(_ files: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("warren-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (name, contents) in files {
            try contents.write(toFile: root + "/" + name, atomically: true, encoding: .utf8)
        }
        return root
    }

    static let good = """
        timezone: America/New_York
        schedules:
          early:
            cron: "30 2 * * *"
            task: reports.early
          sync:
            every: 15m
            task: sync.run
            paused: true
        """

    @Test("next --cron prints fire times with the zone's offset, exactly as SPEC §1 shows")
    func nextCron() async throws {
        let result = try await runWarren(["schedules", "next", "--cron", "0 2 * * *", "--tz", "America/Los_Angeles",
                                    "--from", "2026-03-07T12:00:00-08:00", "--count", "3"])
        #expect(result.status == 0)
        #expect(result.stdout == "2026-03-08T03:00:00-07:00\n2026-03-09T02:00:00-07:00\n2026-03-10T02:00:00-07:00\n")
        #expect(result.stderr == "")
    }

    @Test("next --explain says why a time differs from the wall-clock reading; --dst-gap and --dst-overlap choose the policy; NAME uses the schedule's")
    func nextDaylightSaving() async throws {
        let base = ["schedules", "next", "--cron", "30 2 * * *", "--tz", "Europe/Berlin", "--count", "3"]
        let spring = ["--from", "2026-03-28T00:00"], autumn = ["--from", "2026-10-24T00:00"]
        let plain = try await runWarren(base + spring)
        #expect(plain.stdout == "2026-03-28T02:30:00+01:00\n2026-03-29T03:00:00+02:00\n2026-03-30T02:30:00+02:00\n", "without --explain, exactly as before")
        let explained = try await runWarren(base + spring + ["--explain"])
        #expect(explained.stdout == "2026-03-28T02:30:00+01:00\n2026-03-29T03:00:00+02:00  # 02:30 does not exist: shifted to the end of the gap\n2026-03-30T02:30:00+02:00\n")
        let skipped = try await runWarren(base + spring + ["--dst-gap", "skip", "--explain"])
        #expect(skipped.stdout == "2026-03-28T02:30:00+01:00\n2026-03-30T02:30:00+02:00\n2026-03-31T02:30:00+02:00\n")
        let first = try await runWarren(base + autumn + ["--explain"])
        #expect(first.stdout == "2026-10-24T02:30:00+02:00\n2026-10-25T02:30:00+02:00  # 02:30 happens twice: first pass (dst_overlap: first)\n2026-10-26T02:30:00+01:00\n")
        let both = try await runWarren(base + autumn + ["--dst-overlap", "both", "--explain"])
        #expect(both.stdout == "2026-10-24T02:30:00+02:00\n2026-10-25T02:30:00+02:00  # 02:30 happens twice: first pass (dst_overlap: both)\n2026-10-25T02:30:00+01:00  # 02:30 happens twice: second pass (dst_overlap: both)\n")
        let root = try directory(["a.yaml": "schedules:\n  late:\n    cron: \"30 2 * * *\"\n    timezone: Europe/Berlin\n    task: t\n    dst_overlap: last\n"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let named = try await runWarren(["schedules", "next", "late", "--schedules", root, "--count", "2", "--explain"] + autumn)
        #expect(named.stdout == "2026-10-24T02:30:00+02:00\n2026-10-25T02:30:00+01:00  # 02:30 happens twice: second pass (dst_overlap: last)\n")
    }

    @Test("next defaults: UTC, one fire")
    func nextDefaults() async throws {
        let result = try await runWarren(["schedules", "next", "--cron", "@daily", "--from", "2026-11-23T10:00:00Z"])
        #expect(result.stdout == "2026-11-24T00:00:00+00:00\n")
    }

    @Test("next NAME uses the schedule's own zone")
    func nextName() async throws {
        let root = try directory(["a.yaml": Self.good])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let result = try await runWarren(["schedules", "next", "early", "--schedules", root, "--from", "2026-03-07T12:00:00Z", "--count", "2"])
        #expect(result.status == 0)
        #expect(result.stdout == "2026-03-08T03:00:00-04:00\n2026-03-09T02:30:00-04:00\n")
    }

    @Test("next prints never when the schedule has ended")
    func never() async throws {
        let root = try directory(["a.yaml": "schedules:\n  done:\n    every: 1h\n    task: t\n    end: 2020-01-01T00:00:00Z\n"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let result = try await runWarren(["schedules", "next", "done", "--schedules", root, "--from", "2026-01-01T00:00:00Z"])
        #expect(result.status == 0)
        #expect(result.stdout == "never\n")
    }

    @Test("bad arguments to next exit 2 with one line naming the argument", arguments: [
        (["--cron", "0 2 * 13 *"], "warren: --cron \"0 2 * 13 *\": month field, column 7: value 13 is out of range 1-12\n"),
        (["--cron", "0 2 * * *", "--tz", "Europe/Berln"], "warren: --tz: unknown time zone \"Europe/Berln\" (did you mean \"Europe/Berlin\"?)\n"),
        (["--cron", "0 2 * * *", "--from", "soon"], "warren: --from: invalid timestamp \"soon\": expected 4 digits for the year (at character 1); expected e.g. 2026-03-08T03:00:00Z\n"),
        (["--cron", "0 2 * * *", "--count", "0"], "warren: --count: expected 1 to 10000, got 0\n"),
        ([], "warren: give --cron EXPR or the NAME of a schedule\n"),
        (["x", "--cron", "@daily"], "warren: give either --cron or NAME, not both\n"),
        (["--cron", "30 2 * * *", "--dst-gap", "later"], "warren: --dst-gap later: expected one of shift, skip\n"),
        (["x", "--dst-overlap", "both"], "warren: --dst-gap and --dst-overlap apply to --cron only; a schedule has its own (dst_gap, dst_overlap)\n"),
    ])
    func badNextArguments(arguments: [String], message: String) async throws {
        let result = try await runWarren(["schedules", "next"] + arguments)
        #expect(result.status == 2)
        #expect(result.stderr == message)
        #expect(result.stdout == "")
    }

    @Test("next NAME for an unknown name suggests the closest one")
    func unknownName() async throws {
        let root = try directory(["a.yaml": Self.good])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let result = try await runWarren(["schedules", "next", "erly", "--schedules", root])
        #expect(result.status == 2)
        #expect(result.stderr == "warren: no schedule named \"erly\" in \(root) (did you mean \"early\"?)\n")
    }

    @Test("validate accepts the example schedules")
    func validateExamples() async throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("schedules").path
        let result = try await runWarren(["schedules", "validate", examples])
        #expect(result.status == 0)
        #expect(result.stdout == "\(examples): 7 schedules and 1 workflow in 4 files, all valid\n")
    }

    @Test("validate lists every error of every file and exits 1")
    func validateErrors() async throws {
        let root = try directory([
            "a.yaml": Self.good,
            "b.yaml": "schedules:\n  early:\n    every: 1m\n    task: t\n",
            "c.yaml": "schedules:\n  x:\n    cron: \"61 * * * *\"\n    task: t\n    colour: red\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let result = try await runWarren(["schedules", "validate", root])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0] == "\(root)/b.yaml:2:3: schedule name \"early\" is already declared in \(root)/a.yaml:3:3; names must be unique across files")
        #expect(lines[1] == "\(root)/c.yaml:3:12: cron \"61 * * * *\": minute field: value 61 is out of range 0-59")
        #expect(lines[2].hasPrefix("\(root)/c.yaml:5:5: unknown key \"colour\""))
        #expect(lines[3] == "\(root): 3 errors; 2 of 3 files rejected")
    }

    @Test("validate of a missing directory exits 2")
    func validateMissing() async throws {
        let result = try await runWarren(["schedules", "validate", "/nonexistent/dir"])
        #expect(result.status == 2)
        #expect(result.stderr == "warren: schedules directory /nonexistent/dir: not found\n")
    }

    @Test("list prints a table and JSON with name, file, expression, zone, next fire and paused")
    func list() async throws {
        let root = try directory(["a.yaml": Self.good])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let table = try await runWarren(["schedules", "list", "--offline", "--schedules", root, "--from", "2026-03-07T12:00:00Z"])
        #expect(table.status == 0)
        #expect(table.stdout == """
            NAME   EXPRESSION  ZONE              NEXT FIRE                  PAUSED
            early  30 2 * * *  America/New_York  2026-03-08T03:00:00-04:00  no
            sync   @every 15m  America/New_York  2026-03-07T07:15:00-05:00  yes

            """)
        let json = try await runWarren(["schedules", "list", "--offline", "--schedules", root, "--json", "--from", "2026-03-07T12:00:00Z"])
        #expect(json.status == 0)
        let rows = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 2)
        #expect(rows[0]["name"] as? String == "early")
        #expect(rows[0]["file"] as? String == root + "/a.yaml")
        #expect(rows[0]["expression"] as? String == "30 2 * * *")
        #expect(rows[0]["zone"] as? String == "America/New_York")
        #expect(rows[0]["next_fire"] as? String == "2026-03-08T03:00:00-04:00")
        #expect(rows[0]["paused"] as? Bool == false)
        #expect(rows[1]["paused"] as? Bool == true)
    }

    @Test("list shows the valid files' schedules, reports the others and exits 1")
    func listWithErrors() async throws {
        let root = try directory(["a.yaml": Self.good, "b.yaml": "schedules: [oops"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let result = try await runWarren(["schedules", "list", "--offline", "--schedules", root])
        #expect(result.status == 1)
        #expect(result.stdout.contains("early"))
        #expect(result.stderr.hasPrefix("\(root)/b.yaml:2:1: not valid YAML"))
    }
}
