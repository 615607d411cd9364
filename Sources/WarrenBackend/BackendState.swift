import Synchronization
import WarrenStore

/// What the ingest side of the backend knows and the HTTP side shows: the open store and
/// whether the store and the broker are reachable.
public final class BackendState: Sendable {
    private let state = Mutex<(store: (any ResultStore)?, storeAvailable: Bool, brokerConnected: Bool)>((nil, false, false))

    public init() {}

    /// The store, once ingest has opened it.
    public var store: (any ResultStore)? { state.withLock { $0.store } }
    public var storeAvailable: Bool { state.withLock { $0.storeAvailable } }
    public var brokerConnected: Bool { state.withLock { $0.brokerConnected } }

    func opened(_ store: (any ResultStore)?) { state.withLock { $0.store = store } }
    func setStoreAvailable(_ available: Bool) { state.withLock { $0.storeAvailable = available } }
    func setBrokerConnected(_ connected: Bool) { state.withLock { $0.brokerConnected = connected } }
}
