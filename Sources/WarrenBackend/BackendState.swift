import Synchronization
import WarrenCore
import WarrenMessaging
import WarrenStore

/// What the ingest side of the backend knows and the HTTP side shows: the open store and
/// whether the store and the broker are reachable.
public final class BackendState: Sendable {
    private let state = Mutex<(store: (any ResultStore)?, storeAvailable: Bool, brokerConnected: Bool)>((nil, false, false))
    private let health = Mutex<[String: ScheduleHealth]>([:])

    /// What `/readyz` reports: the store open and available, the broker connected, results
    /// consumed.
    public let readiness = Readiness()

    public init() {}

    /// The store, once ingest has opened it.
    public var store: (any ResultStore)? { state.withLock { $0.store } }
    public var storeAvailable: Bool { state.withLock { $0.storeAvailable } }
    public var brokerConnected: Bool { state.withLock { $0.brokerConnected } }

    /// The last evaluation of each watched schedule (`alert_after`, `alert_failures`), by name.
    public var scheduleHealth: [String: ScheduleHealth] { health.withLock { $0 } }
    func setScheduleHealth(_ healths: [String: ScheduleHealth]) { health.withLock { $0 = healths } }

    func opened(_ store: (any ResultStore)?) {
        state.withLock { $0.store = store }
        readiness.set("store", store == nil ? "not open" : nil)
        if store == nil { readiness.set("consuming", "not consuming \(WireNames.resultsQueue)") }
    }
    func setStoreAvailable(_ available: Bool) {
        state.withLock { $0.storeAvailable = available }
        readiness.set("store available", available ? nil : "the result store refuses writes or cannot be reached; retrying")
    }
    func setBrokerConnected(_ connected: Bool) {
        state.withLock { $0.brokerConnected = connected }
        readiness.set("broker", connected ? nil : "not connected; reconnecting")
    }
    func setConsuming(_ consuming: Bool) {
        readiness.set("starting", nil)
        readiness.set("consuming", consuming ? nil : "not consuming \(WireNames.resultsQueue)")
    }
}
