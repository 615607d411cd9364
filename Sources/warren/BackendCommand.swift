import ArgumentParser
import Foundation
import WarrenBackend
import WarrenStore

/// `warren backend`: stores every result published to `warren.results`.
struct BackendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backend",
        abstract: "Consume results and store them (SQLite or PostgreSQL) for `warren results`.",
        discussion: """
            Results are committed in batches and acknowledged only after the commit, so a crash \
            loses nothing and a result stored twice leaves one record. While the store is \
            unreachable or full, results wait in the broker. See docs/backend.md.
            """
    )

    @OptionGroup var broker: BrokerOptions
    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Delete results older than this, e.g. 30d, or \"off\" (default 30d).")
    var retain = "30d"

    @Option(name: .customLong("retention-interval"), help: "How often retention runs (default 10m).")
    var retentionInterval = "10m"

    @Option(name: .customLong("batch-size"), help: "Most results per transaction (default 500).")
    var batchSize = 500

    @Option(name: .customLong("batch-delay"), help: "Longest a result waits for its batch to fill (default 20ms).")
    var batchDelay = "20ms"

    @Option(help: "Unacknowledged results held at once, at least --batch-size (default 2000).")
    var prefetch = 2000

    @OptionGroup var service: ServiceOptions

    func run() async throws {
        let logger = try service.logger(label: "warren.backend")
        guard (1...10_000).contains(batchSize) else { throw ValidationError("--batch-size: expected 1 to 10000, got \(batchSize)") }
        guard (1...65_535).contains(prefetch) else { throw ValidationError("--prefetch: expected 1 to 65535, got \(prefetch)") }
        var configuration = BackendConfiguration(connection: try service.connection(broker, name: "warren-backend", logger: logger),
                                                 store: try storeOptions.address())
        configuration.batchSize = batchSize
        configuration.batchDelay = try ArgumentValues.duration(batchDelay, option: "--batch-delay")
        configuration.prefetch = prefetch
        configuration.retain = retain == "off" ? nil : try ArgumentValues.duration(retain, option: "--retain")
        configuration.retentionInterval = try ArgumentValues.duration(retentionInterval, option: "--retention-interval")
        if let retain = configuration.retain, retain < .seconds(60) {
            throw ValidationError("--retain: at least 1m, or \"off\"")
        }
        try await service.run(command: "backend", logger: logger) {
            [Backend(configuration: configuration, logger: logger)]
        }
    }
}
