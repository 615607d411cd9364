import ArgumentParser
import Foundation
import Logging
import WarrenStore

/// `--store`, shared by `warren backend` and `warren results`.
struct StoreOptions: ParsableArguments {
    @Option(help: "Result store: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE (env WARREN_STORE; default sqlite:./warren-results.sqlite).")
    var store: String?

    /// The address given, or the environment's, or the default; a bad one is a usage error.
    func address() throws -> StoreAddress {
        let text = store ?? ProcessInfo.processInfo.environment["WARREN_STORE"] ?? StoreAddress.defaultText
        do {
            return try StoreAddress(parsing: text)
        } catch {
            throw ValidationError("--store: \(error)")
        }
    }

    /// Opens the store for reading; a failure is one line on stderr and exit 1.
    func openForReading(command: String) async throws -> any ResultStore {
        let address = try address()
        var logger = Logger(label: "warren.results")
        logger.logLevel = .critical
        do {
            return try await ResultStores.openForReading(address, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("warren \(command): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
