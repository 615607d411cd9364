import Synchronization

/// Why a long-running process is not ready to do its job yet (or any more), for `GET /readyz`:
/// each part that is not ready keeps a line; ready when there is none. Services set and clear
/// their parts (`broker`, `queue NAME`, `store`, …); the endpoint only reads.
public final class Readiness: Sendable {
    private let problems = Mutex<[String: String]>([:])

    /// Starts not ready: `starting`, until the service clears it.
    public init(starting: String = "starting") {
        problems.withLock { $0["starting"] = starting }
    }

    /// Records why `part` is not ready, or with nil that it is.
    public func set(_ part: String, _ problem: String?) {
        problems.withLock { $0[part] = problem }
    }

    /// Every part that is not ready, as `part: problem`, sorted; empty when ready.
    public var unready: [String] {
        problems.withLock { $0.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" } }
    }

    public var isReady: Bool { problems.withLock { $0.isEmpty } }
}
