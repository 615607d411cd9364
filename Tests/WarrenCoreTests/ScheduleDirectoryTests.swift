import Foundation
import Testing
@testable import WarrenCore

/// Loading a directory of schedule files from disk.
@Suite struct ScheduleDirectoryTests {
    /// A fresh directory holding `files` (relative path → contents).
    static func directory(_ files: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("warren-schedules-\(UUID().uuidString)").path
        for (path, contents) in files {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try contents.write(toFile: full, atomically: true, encoding: .utf8)
        }
        return root
    }

    static let one = "schedules:\n  a:\n    every: 1m\n    task: t\n"

    @Test func readsYamlFilesRecursivelyInPathOrderAndSkipsHiddenOnes() throws {
        let root = try Self.directory([
            "b.yml": "schedules:\n  b:\n    every: 1m\n    task: t\n",
            "a.yaml": Self.one,
            "team/c.yaml": "schedules:\n  c:\n    every: 1m\n    task: t\n",
            ".hidden.yaml": "not: [valid",
            ".git/x.yaml": "not: [valid",
            "notes.txt": "not yaml",
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let set = try ScheduleDirectory.load(root)
        #expect(set.errors.isEmpty)
        #expect(set.files == [root + "/a.yaml", root + "/b.yml", root + "/team/c.yaml"])
        #expect(set.schedules.map(\.name) == ["a", "b", "c"])
    }

    @Test func aDuplicateNameAcrossFilesNamesBothAndRejectsTheLaterFile() throws {
        let root = try Self.directory([
            "a.yaml": Self.one,
            "b.yaml": "schedules:\n  other:\n    every: 1m\n    task: t\n  a:\n    every: 2m\n    task: t\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let set = try ScheduleDirectory.load(root)
        #expect(set.errors.map(\.description) == [
            "\(root)/b.yaml:5:3: schedule name \"a\" is already declared in \(root)/a.yaml:2:3; names must be unique across files",
        ])
        #expect(set.rejectedFiles == [root + "/b.yaml"])
        #expect(set.schedules.map(\.name) == ["a"])
        #expect(set.schedule(named: "a")?.recurrence == .every(.seconds(60)))
    }

    @Test func aBrokenFileDoesNotTakeOthersDown() throws {
        let root = try Self.directory(["a.yaml": Self.one, "broken.yaml": "schedules:\n  x: [", "z.yaml": "\u{FF}"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let set = try ScheduleDirectory.load(root)
        #expect(set.schedules.map(\.name) == ["a"])
        #expect(set.rejectedFiles == [root + "/broken.yaml", root + "/z.yaml"])
        #expect(set.errors.count == 2)
    }

    @Test func aMissingDirectoryIsAnError() {
        #expect {
            _ = try ScheduleDirectory.load("/nonexistent/schedules")
        } throws: { error in
            (error as? ScheduleDirectoryError)?.description == "schedules directory /nonexistent/schedules: not found"
        }
    }

    @Test func theExampleSchedulesAreValid() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("schedules").path
        let set = try ScheduleDirectory.load(examples)
        #expect(set.errors.map(\.description) == [])
        #expect(Set(set.schedules.map(\.name)) == [
            "nightly-report", "morning-digest", "end-of-month-billing", "invoice-reminders", "inventory-sync", "legacy-export", "nightly-etl",
        ])
        #expect(set.workflows.map(\.name) == ["nightly-etl"])
        #expect(set.schedule(named: "legacy-export")?.paused == true)
    }
}
