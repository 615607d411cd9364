import Cron
import HeapModule
import WarrenCore

/// The schedules in force and the next fire of each in a min-heap, so the scheduler knows the
/// next due instant in O(1) and pops a due fire in O(log n) however many schedules it holds.
public struct FireTimeline: Sendable {
    /// A class: popping a fire reads a slot for each, and copying a whole definition each time
    /// cost more than the rest of the pop.
    private final class Slot: Sendable {
        let schedule: ScheduleDefinition
        let timetable: Timetable
        let fingerprint: String
        /// Bumped when the schedule changes or goes, so its older heap entries are skipped.
        let generation: Int

        init(schedule: ScheduleDefinition, timetable: Timetable, fingerprint: String, generation: Int) {
            (self.schedule, self.timetable, self.fingerprint, self.generation) = (schedule, timetable, fingerprint, generation)
        }
    }

    private struct Entry: Comparable, Sendable {
        let due: Int64
        let slot: Int
        let generation: Int
        let scheduledFor: Int64

        static func < (lhs: Entry, rhs: Entry) -> Bool { (lhs.due, lhs.slot) < (rhs.due, rhs.slot) }
        static func == (lhs: Entry, rhs: Entry) -> Bool { lhs.due == rhs.due && lhs.slot == rhs.slot && lhs.generation == rhs.generation }
    }

    private var slots: [Slot?] = []
    private var slotByName: [String: Int] = [:]
    private var freeSlots: [Int] = []
    private var heap = Heap<Entry>()
    private var generations = 0

    public init() {}

    public func schedule(named name: String) -> ScheduleDefinition? {
        slotByName[name].flatMap { slots[$0]?.schedule }
    }

    /// Puts `schedules` in force. Unchanged schedules keep their next fire; new and changed ones
    /// start with their first fire due after `cursor` (milliseconds); missing ones are dropped.
    @discardableResult
    public mutating func apply(_ schedules: [ScheduleDefinition], after cursor: Int64) -> TimelineChanges {
        var changes = TimelineChanges()
        var seen = Set<String>()
        for schedule in schedules {
            guard seen.insert(schedule.name).inserted else { continue }
            let fingerprint = schedule.fingerprint
            if let index = slotByName[schedule.name], let slot = slots[index] {
                if slot.fingerprint == fingerprint {
                    slots[index] = Slot(schedule: schedule, timetable: slot.timetable, fingerprint: fingerprint, generation: slot.generation)
                    continue
                }
                changes.changed.append(schedule.name)
                if schedule.paused != slot.schedule.paused {
                    if schedule.paused { changes.paused.append(schedule.name) } else { changes.resumed.append(schedule.name) }
                }
                install(schedule, fingerprint: fingerprint, at: index, after: cursor)
            } else {
                changes.added.append(schedule.name)
                let index = freeSlots.popLast() ?? { slots.append(nil); return slots.count - 1 }()
                slotByName[schedule.name] = index
                install(schedule, fingerprint: fingerprint, at: index, after: cursor)
            }
        }
        for (name, index) in slotByName where !seen.contains(name) {
            changes.removed.append(name)
            slots[index] = nil
            slotByName[name] = nil
            freeSlots.append(index)
        }
        changes.sort()
        return changes
    }

    private mutating func install(_ schedule: ScheduleDefinition, fingerprint: String, at index: Int, after cursor: Int64) {
        generations += 1
        let timetable = schedule.timetable
        slots[index] = Slot(schedule: schedule, timetable: timetable, fingerprint: fingerprint, generation: generations)
        guard !schedule.paused, let fire = FireTimeline.firstFire(of: schedule, timetable: timetable, dueAfter: cursor) else { return }
        heap.insert(Entry(due: fire.due, slot: index, generation: generations, scheduledFor: fire.scheduledFor))
    }

    /// The earliest instant (milliseconds) a fire is due, or nil when no schedule will fire.
    public mutating func nextDue() -> Int64? {
        dropStale()
        return heap.min?.due
    }

    /// Removes and returns the fires due at or before `now` (milliseconds), earliest first, at
    /// most `limit` of them, and schedules the fire after each.
    public mutating func popDue(upTo now: Int64, limit: Int = .max) -> [Fire] {
        var fires: [Fire] = []
        while fires.count < limit {
            dropStale()
            guard let entry = heap.min, entry.due <= now else { break }
            heap.removeMin()
            let slot = slots[entry.slot]!
            let fire = Fire(schedule: slot.schedule.name, scheduledFor: entry.scheduledFor, jitter: slot.schedule.jitter)
            fires.append(fire)
            if let next = slot.timetable.nextFire(after: entry.scheduledFor) {
                let following = Fire(schedule: slot.schedule.name, scheduledFor: next, jitter: slot.schedule.jitter)
                heap.insert(Entry(due: following.due, slot: entry.slot, generation: entry.generation, scheduledFor: next))
            }
        }
        return fires
    }

    private mutating func dropStale() {
        while let entry = heap.min, slots[entry.slot]?.generation != entry.generation {
            heap.removeMin()
        }
    }

    /// The first fire of `schedule` due strictly after `cursor` (milliseconds).
    static func firstFire(of schedule: ScheduleDefinition, timetable: Timetable, dueAfter cursor: Int64) -> Fire? {
        let jitterSeconds = schedule.jitter.components.seconds + 1
        var instant = floorDivide(cursor, 1000) - jitterSeconds - 1
        while let next = timetable.nextFire(after: instant) {
            let fire = Fire(schedule: schedule.name, scheduledFor: next, jitter: schedule.jitter)
            if fire.due > cursor { return fire }
            instant = next
        }
        return nil
    }
}

/// Schedule names by what a reload did to them.
public struct TimelineChanges: Sendable, Equatable {
    public var added: [String] = []
    public var changed: [String] = []
    public var removed: [String] = []
    /// Subsets of `changed`.
    public var paused: [String] = []
    public var resumed: [String] = []

    public var isEmpty: Bool { added.isEmpty && changed.isEmpty && removed.isEmpty }

    mutating func sort() {
        added.sort()
        changed.sort()
        removed.sort()
        paused.sort()
        resumed.sort()
    }
}

func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
    value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor)
}
