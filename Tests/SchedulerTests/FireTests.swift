import Cron
import Foundation
import Testing
import WarrenCore
@testable import WarrenScheduler

@Suite struct FireTests {
    @Test func taskIDNamesTheScheduleAndTheInstantInUTC() {
        let fire = Fire(schedule: "nightly-report", scheduledFor: instant("2026-03-08T03:00:00-07:00"), jitter: .zero)
        #expect(fire.taskID == "nightly-report@2026-03-08T10:00:00Z")
        #expect(fire.due == instant("2026-03-08T10:00:00Z") * 1000)
    }

    @Test func jitterIsTheSameForEveryInstanceAndStaysInRange() {
        let start = instant("2026-01-01T00:00:00Z")
        var delays = Set<Int64>()
        for minute in 0..<500 {
            let at = start + Int64(minute) * 60
            let delay = Fire.jitterMilliseconds(schedule: "sync", scheduledFor: at, jitter: .seconds(30))
            #expect((0...30_000).contains(delay))
            #expect(delay == Fire.jitterMilliseconds(schedule: "sync", scheduledFor: at, jitter: .seconds(30)))
            #expect(Fire(schedule: "sync", scheduledFor: at, jitter: .seconds(30)).due == at * 1000 + delay)
            delays.insert(delay / 1000)
        }
        // Spread over the whole range, not bunched: 500 fires hit at least 28 of the 31 seconds.
        #expect(delays.count >= 28)
        #expect(Fire.jitterMilliseconds(schedule: "sync", scheduledFor: start, jitter: .zero) == 0)
        #expect(Fire.jitterMilliseconds(schedule: "other", scheduledFor: start, jitter: .seconds(30))
            != Fire.jitterMilliseconds(schedule: "sync", scheduledFor: start, jitter: .seconds(30))
            || Fire.jitterMilliseconds(schedule: "third", scheduledFor: start, jitter: .seconds(30))
            != Fire.jitterMilliseconds(schedule: "sync", scheduledFor: start, jitter: .seconds(30)))
    }

    @Test func messageCarriesTheScheduleSettings() {
        let definition = schedule("""
            cron: "30 2 * * *"
            timezone: Europe/Berlin
            args: { format: pdf }
            queue: reports
            priority: 7
            expires: 2h
            """, name: "report")
        let at = instant("2026-07-01T02:30:00+02:00")
        let message = Fire(schedule: "report", scheduledFor: at, jitter: .zero).message(of: definition)
        #expect(message.id == "report@2026-07-01T00:30:00Z")
        #expect(message.task == "warren.echo")
        #expect(message.args == .object(["format": .string("pdf")]))
        #expect(message.queue == "reports")
        #expect(message.priority == 7)
        #expect(message.schedule == "report")
        #expect(message.scheduledFor == "2026-07-01T02:30:00+02:00")
        #expect(message.expiresAt == Date(timeIntervalSince1970: Double(at + 7200)))
        #expect(message.attempt == 1)
    }
}

@Suite struct ProgressRecordTests {
    @Test func roundTrips() {
        let record = ProgressRecord(watermark: 1_800_000_000_123, instance: "host:42", writtenAt: 1_800_000_000_200,
                                    openRuns: ["a": OpenRun(taskID: "a@2027-01-15T08:00:00Z", publishedAt: 1_800_000_000_100)])
        #expect(ProgressRecord(body: record.body) == record)
        #expect(ProgressRecord(body: Data("{\"instance\":\"x\"}".utf8)) == nil)
        #expect(ProgressRecord(body: Data("not json".utf8)) == nil)
    }
}
