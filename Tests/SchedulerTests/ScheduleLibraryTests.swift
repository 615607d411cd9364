import Foundation
import Testing
import WarrenCore
@testable import WarrenScheduler

@Suite struct ScheduleLibraryTests {
    @Test func aBrokenFileKeepsItsLastGoodVersionAndOtherFilesAreUnaffected() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warren-library-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let a = directory + "/a.yaml", b = directory + "/b.yaml"
        try "schedules:\n  one: { every: 1m, task: warren.echo }\n".write(toFile: a, atomically: true, encoding: .utf8)
        try "schedules:\n  two: { every: 1m, task: warren.echo }\n".write(toFile: b, atomically: true, encoding: .utf8)
        let library = ScheduleLibrary(directory: directory)
        let first = try library.reload()
        #expect(first.errors.isEmpty)
        #expect(library.schedules.map(\.name).sorted() == ["one", "two"])
        let version = library.version

        try "schedules:\n  one: { every: 1m, task: warren.echo }\n  three: { cron: \"61 * * * *\", task: warren.echo }\n"
            .write(toFile: a, atomically: true, encoding: .utf8)
        try "schedules:\n  two: { every: 2m, task: warren.echo }\n".write(toFile: b, atomically: true, encoding: .utf8)
        let broken = try library.reload()
        #expect(broken.keptPrevious == [a])
        #expect(broken.errors.count == 1)
        #expect(broken.errors.first?.description.hasPrefix("\(a):3:") == true)
        #expect(library.schedules.map(\.name).sorted() == ["one", "two"])
        #expect(library.schedules.first { $0.name == "two" }?.recurrence.description == "@every 2m")
        #expect(library.version == version + 1)

        try FileManager.default.removeItem(atPath: b)
        try "not: [valid".write(toFile: directory + "/c.yaml", atomically: true, encoding: .utf8)
        let third = try library.reload()
        #expect(third.rejectedWithoutPrevious == [directory + "/c.yaml"])
        #expect(library.schedules.map(\.name) == ["one"])
    }
}

@Suite struct ExampleFilesTests {
    @Test("the quickstart's task catalog covers every task the example schedules name")
    func exampleCatalogCoversExampleSchedules() throws {
        let catalog = try TaskCatalog.load(path: "docs/examples/tasks.yaml")
        let set = try ScheduleDirectory.load("schedules")
        #expect(set.errors.isEmpty)
        #expect(!set.schedules.isEmpty)
        for schedule in set.schedules {
            #expect(catalog[schedule.task] != nil || set.workflow(named: schedule.task) != nil, "\(schedule.name) names \(schedule.task)")
        }
        // The example workflow's steps run on the quickstart's worker too.
        #expect(!set.workflows.isEmpty)
        for workflow in set.workflows {
            for step in workflow.steps { #expect(catalog[step.task] != nil, "\(workflow.name).\(step.name) names \(step.task)") }
        }
    }
}
