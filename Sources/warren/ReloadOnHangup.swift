import ServiceLifecycle
import UnixSignals

/// Calls `reload` on every SIGHUP (`systemctl reload`): the scheduler reads its schedule files
/// again, a worker its task catalog.
struct ReloadOnHangup: Service {
    let reload: @Sendable () -> Void

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in hangups { reload() }
        }
    }
}
