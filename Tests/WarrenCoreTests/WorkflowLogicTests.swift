import Foundation
import Testing
@testable import WarrenCore

/// Workflows (SPEC §8): what a file declares, the errors a bad graph gets, how args are filled,
/// and what a run does next.
@Suite struct WorkflowLogicTests {
    static let etl = """
        workflows:
          nightly-etl:
            steps:
              extract:   { task: etl.extract, args: { day: "{args.day}" } }
              transform: { task: etl.transform, after: [extract], args: { input: "{steps.extract.result.path}" } }
              load-eu:   { task: etl.load, after: [transform], args: { region: eu } }
              load-us:   { task: etl.load, after: [transform], args: { region: us } }
              report:    { task: reports.generate, after: [load-eu, load-us] }
            on_failure: stop
        """

    func parse(_ yaml: String) -> (workflows: [WorkflowDefinition], errors: [String]) {
        let result = ScheduleFileParser.parse(yaml: yaml, file: "w.yaml")
        return (result.workflows, result.errors.map(\.description))
    }

    func workflow(_ yaml: String = etl) throws -> WorkflowDefinition {
        let (workflows, errors) = parse(yaml)
        #expect(errors == [])
        return try #require(workflows.first)
    }

    @Test func theSpecExampleParses() throws {
        let etl = try workflow()
        #expect(etl.name == "nightly-etl")
        #expect(etl.location == SourceLocation(file: "w.yaml", line: 2, column: 3))
        #expect(etl.steps.map(\.name) == ["extract", "transform", "load-eu", "load-us", "report"])
        #expect(etl.step(named: "report")?.after == ["load-eu", "load-us"])
        #expect(etl.step(named: "extract")?.args == .object(["day": .string("{args.day}")]))
        #expect(etl.onFailure == .stop)
        #expect(etl.ancestors(of: "report") == ["extract", "transform", "load-eu", "load-us"])
        // A snapshot reads back as the same definition (the location stays with the file).
        var snapshot = try WorkflowDefinition(json: etl.json)
        snapshot.location = etl.location
        #expect(snapshot == etl)
    }

    @Test func aFileMayHoldOnlyWorkflowsAndNamesAreUniqueAcrossFiles() throws {
        let set = ScheduleDirectory.combine([ScheduleDirectory.parse(Self.etl, file: "a.yaml"), ScheduleDirectory.parse(Self.etl, file: "b.yaml")])
        #expect(set.workflows.map(\.name) == ["nightly-etl"])
        #expect(set.errors.map(\.description) == [
            "b.yaml:2:3: workflow name \"nightly-etl\" is already declared in a.yaml:2:3; names must be unique across files",
        ])
    }

    @Test func badGraphsAreErrorsWithFileLineAndColumn() {
        #expect(parse("""
            workflows:
              w:
                steps:
                  a: { task: t, after: [b] }
                  b: { task: t, after: [a] }
            """).errors == ["w.yaml:4:7: workflow \"w\": steps \"a\" → \"b\" → \"a\" form a cycle (each comes after the next)"])
        #expect(parse("""
            workflows:
              w:
                steps:
                  a: { task: t }
                  b: { task: t, after: [a, extrac] }
            """).errors == ["w.yaml:5:32: step \"b\": after names \"extrac\", which is not a step of workflow \"w\""])
        #expect(parse("""
            workflows:
              w:
                steps:
                  extract: { task: t }
                  b: { task: t, after: [extrct] }
            """).errors == ["w.yaml:5:29: step \"b\": after names \"extrct\", which is not a step of workflow \"w\" (did you mean \"extract\"?)"])
        #expect(parse("""
            workflows:
              w:
                steps:
                  a: { task: t, after: a }
            """).errors == ["w.yaml:4:7: step \"a\" cannot come after itself"])
        #expect(parse("""
            workflows:
              w:
                steps:
                  a: { task: t }
                  b: { task: t, args: { x: "{steps.c.result.path}" } }
                  c: { task: t, after: [a], args: { y: "{steps.a.output}", z: "{steps.nope.result}" } }
            """).errors == [
                "w.yaml:5:32: step \"b\" args.x: {steps.c.result.path} names step \"c\", which does not come before it (add it to after:)",
                "w.yaml:6:67: step \"c\" args.z: {steps.nope.result} names step \"nope\", which is not a step of workflow \"w\"",
            ])
        #expect(parse("""
            workflows:
              w:
                steps:
                  a: { task: t, args: { x: "{steps.a}", y: "{run.name}" } }
            """).errors == [
                "w.yaml:4:32: step \"a\" args.x: {steps.a}: expected {steps.NAME.result…} or {steps.NAME.output}",
                "w.yaml:4:48: step \"a\" args.y: {run.name}: the run offers only {run.id}",
            ])
        #expect(parse("""
            workflows:
              w:
                on_failure: ignore
                step:
                  a: { task: t }
            """).errors == [
                "w.yaml:2:3: workflow \"w\" needs steps: a mapping from step names to steps",
                "w.yaml:3:17: on_failure: expected one of stop, continue, got \"ignore\"",
                "w.yaml:4:5: unknown key \"step\" in workflow \"w\" (did you mean \"steps\"?)",
            ])
        #expect(parse("""
            workflows:
              w:
                steps:
                  a: { tsk: t }
            """).errors == [
                "w.yaml:4:7: step \"a\" needs a task (a name from the workers' task catalog)",
                "w.yaml:4:12: unknown key \"tsk\" in step \"a\" (did you mean \"task\"?)",
            ])
    }

    @Test func argsAreFilledFromTheRunAndEarlierSteps() throws {
        var extract = TaskResult(id: "r/extract", task: "t", queue: "q", attempt: 1, status: .succeeded)
        extract.result = .object(["path": .string("/data/x.csv"), "rows": .integer(12), "parts": .array([.string("p0"), .string("p1")])])
        extract.output = "done\n"
        let inputs = WorkflowArgs.Inputs(runID: "r", args: .object(["day": .string("2026-12-06"), "n": .integer(3)]), steps: ["extract": extract])
        let filled = try WorkflowArgs.fill(.object([
            "day": .string("{args.day}"), "n": .string("{args.n}"), "all": .string("{args}"),
            "path": .string("{steps.extract.result.path}"), "rows": .string("{steps.extract.result.rows}"),
            "part": .string("{steps.extract.result.parts.1}"), "text": .string("rows={steps.extract.result.rows} day={args.day}"),
            "output": .string("{steps.extract.output}"), "run": .string("{run.id}"), "plain": .string("{not a placeholder}"),
        ]), from: inputs)
        #expect(filled == .object([
            "day": .string("2026-12-06"), "n": .integer(3), "all": .object(["day": .string("2026-12-06"), "n": .integer(3)]),
            "path": .string("/data/x.csv"), "rows": .integer(12), "part": .string("p1"), "text": .string("rows=12 day=2026-12-06"),
            "output": .string("done"), "run": .string("r"), "plain": .string("{not a placeholder}"),
        ]))
        #expect(throws: WorkflowArgsError("{steps.extract.result.size}: step \"extract\"'s result has no \"size\"")) {
            try WorkflowArgs.fill(.string("{steps.extract.result.size}"), from: inputs)
        }
        #expect(throws: WorkflowArgsError("{args.day.month}: the run's args at day has no \"month\"")) {
            try WorkflowArgs.fill(.string("{args.day.month}"), from: inputs)
        }
    }

    @Test func aRunGoesForwardStepByStep() throws {
        let etl = try workflow()
        func decide(_ ended: [String: ResultStatus], _ published: Set<String>) -> WorkflowProgress {
            WorkflowProgress.decide(etl, ended: ended, published: published)
        }
        #expect(decide([:], []).publish == ["extract"])
        #expect(decide([:], ["extract"]).publish == [])
        #expect(decide(["extract": .succeeded], ["extract"]).publish == ["transform"])
        // Fan-out, then fan-in only once both branches succeeded.
        #expect(decide(["extract": .succeeded, "transform": .succeeded], ["extract", "transform"]).publish == ["load-eu", "load-us"])
        let both: Set<String> = ["extract", "transform", "load-eu", "load-us"]
        #expect(decide(["extract": .succeeded, "transform": .succeeded, "load-eu": .succeeded], both).publish == [])
        let ready = decide(["extract": .succeeded, "transform": .succeeded, "load-eu": .succeeded, "load-us": .succeeded], both)
        #expect(ready.publish == ["report"])
        #expect(ready.final == nil)
        let done = decide(["extract": .succeeded, "transform": .succeeded, "load-eu": .succeeded, "load-us": .succeeded, "report": .succeeded],
                          both.union(["report"]))
        #expect(done.final == .succeeded)
        #expect(done.publish == [] && done.skip.isEmpty)
    }

    @Test func aFailureStopsWhatFollowsItOnly() throws {
        let etl = try workflow()
        let progress = WorkflowProgress.decide(etl, ended: ["extract": .succeeded, "transform": .succeeded, "load-eu": .failed],
                                               published: ["extract", "transform", "load-eu", "load-us"])
        #expect(progress.skip.map(\.step) == ["report"])
        #expect(progress.skip.first?.reason == "after \"load-eu\", which ended failed")
        #expect(progress.final == nil, "load-us is still running")
        let ended = WorkflowProgress.decide(etl, ended: ["extract": .succeeded, "transform": .succeeded, "load-eu": .failed, "load-us": .succeeded],
                                            published: ["extract", "transform", "load-eu", "load-us"])
        #expect(ended.final == .failed)
        #expect(ended.firstFailure?.step == "load-eu")
        // Skips cascade through every later step at once.
        let early = WorkflowProgress.decide(etl, ended: ["extract": .timedOut], published: ["extract"])
        #expect(early.skip.map(\.step) == ["transform", "load-eu", "load-us", "report"])
        #expect(early.skip.map(\.reason)[1] == "after \"transform\", which was skipped")
        #expect(early.final == .failed)
        #expect(early.firstFailure?.step == "extract" && early.firstFailure?.status == .timedOut)
    }

    @Test func continueRunsLaterStepsWhateverEndedBefore() throws {
        var etl = try workflow()
        etl.onFailure = .continue
        let progress = WorkflowProgress.decide(etl, ended: ["extract": .failed], published: ["extract"])
        #expect(progress.publish == ["transform"])
        #expect(progress.skip.isEmpty)
        let cancelled = WorkflowProgress.decide(etl, ended: ["extract": .succeeded, "transform": .succeeded, "load-eu": .cancelled,
                                                             "load-us": .succeeded, "report": .succeeded],
                                                published: Set(etl.steps.map(\.name)))
        #expect(cancelled.final == .cancelled)
    }

    @Test func aDefinitionFromAMessageIsCheckedAsAFileIs() throws {
        #expect(try workflow().problem == nil)
        #expect(WorkflowDefinition(name: "w", steps: []).problem == "workflow \"w\" has no steps")
        #expect(WorkflowDefinition(name: "w", steps: [WorkflowStep(name: "a", task: "t", after: ["b"])]).problem
            == "step \"a\" comes after \"b\", which is not a step")
        #expect(WorkflowDefinition(name: "w", steps: [WorkflowStep(name: "a", task: "t"), WorkflowStep(name: "a", task: "t")]).problem
            == "step \"a\" is declared twice")
        #expect(WorkflowDefinition(name: "w", steps: [WorkflowStep(name: "a", task: "t", after: ["b"]), WorkflowStep(name: "b", task: "t", after: ["a"])]).problem
            == "the steps' after lists form a cycle")
        #expect(WorkflowDefinition(name: "w", steps: [WorkflowStep(name: "a/b", task: "t")]).problem == "step name \"a/b\" is not valid")
    }

    @Test func eventsAndRunsReadBackAsWritten() throws {
        var run = WorkflowRun(id: "nightly@2026-12-06T03:00:00Z", definition: try workflow(), args: .object(["day": .string("d")]),
                              queue: "etl", startedMs: 1_000)
        run.definition.location = nil
        run.schedule = "nightly"
        run.published = ["extract"]
        #expect(try WorkflowEvent.decode(WorkflowEvent.start(run).body) == .start(run))
        #expect(try WorkflowEvent.decode(WorkflowEvent.stepEnded(run: run.id, step: "extract").body) == .stepEnded(run: run.id, step: "extract"))
        #expect(throws: WorkflowFormatError.self) { try WorkflowEvent.decode(Data("{\"event\":\"start\"}".utf8)) }
        #expect(WorkflowDefinition.stepName(taskID: "nightly@2026-12-06T03:00:00Z/load-eu", run: run.id) == "load-eu")
        #expect(WorkflowDefinition.stepName(taskID: "nightly@2026-12-06T03:00:00Z", run: run.id) == nil)
        let result = run.result(status: .failed, firstFailure: ("load-eu", .timedOut), finishedMs: 3_500)
        #expect(result.id == run.id && result.task == "nightly-etl" && result.durationMs == 2_500 && result.schedule == "nightly")
        #expect(result.error == "step \"load-eu\" ended timed_out")
    }
}
