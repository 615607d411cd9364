import Synchronization

/// Set once when graceful shutdown begins; read by the intake loop.
final class ShutdownFlag: Sendable {
    private let raised = Mutex(false)

    func raise() { raised.withLock { $0 = true } }
    var isRaised: Bool { raised.withLock { $0 } }
}
