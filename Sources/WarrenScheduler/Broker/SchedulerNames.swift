import WarrenCore

/// The broker objects the scheduler instances share (docs/scheduler.md).
public enum SchedulerNames {
    /// Exclusive, non-durable queue: whichever instance's connection declared it is the active
    /// one. The broker deletes it when that connection closes or dies, and a standby declares it.
    public static let lockQueue = WireNames.schedulerLock
    /// Durable queue holding one message (`x-max-length` 1, `drop-head`): the latest progress
    /// record of the active instance. Classic, or quorum in cluster mode.
    public static let progressQueue = "warren.scheduler.progress"
    /// Stream of `{"instance", "since"}` records, one per takeover; `warren status` reads the last.
    public static let leadersStream = WireNames.schedulerLeaders
    /// Stream bound to the results exchange: the scheduler learns from it which runs have a
    /// final result (`overlap: skip | replace`). Kept one day.
    public static let resultsStream = "warren.results.stream"
}
