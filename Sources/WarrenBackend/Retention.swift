import Foundation
import Logging
import WarrenStore

/// Deletes results older than the retention period, in small transactions so that ingest
/// never waits long behind it; runs at start and then every `interval`.
struct Retention: Sendable {
    let store: any ResultStore
    let retain: Duration
    let interval: Duration
    let chunk: Int
    let logger: Logger
    let metrics: BackendMetrics

    func run() async {
        while !Task.isCancelled {
            await sweep()
            try? await Task.sleep(for: interval)
        }
    }

    /// One pass: deletes chunk after chunk until nothing older than the cutoff is left.
    func sweep() async {
        let cutoff = Date().addingTimeInterval(-Double(retain.components.seconds))
        var deleted = 0
        do {
            while !Task.isCancelled {
                let count = try await store.deleteResults(before: cutoff, limit: chunk)
                deleted += count
                metrics.retained(deleted: count)
                if count < chunk { break }
                await Task.yield()
            }
            if deleted > 0 { logger.info("retention deleted \(deleted) result row(s) older than \(cutoff)") }
        } catch {
            logger.warning("retention failed, will retry in \(interval): \(error)")
        }
    }
}
