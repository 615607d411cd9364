import Logging

/// Opens the store an address names.
public enum ResultStores {
    /// For `warren backend`: creates and migrates the schema as needed.
    public static func openForWriting(_ address: StoreAddress, logger: Logger) async throws -> any ResultStore {
        switch address {
        case .sqlite(let path):
            do {
                return try SQLiteResultStore.openForWriting(path: path)
            } catch {
                throw ResultStoreError("sqlite:\(path): \(error)")
            }
        case .postgres(let postgres):
            return try await PostgresResultStore.open(postgres, migrate: true, logger: logger)
        }
    }

    /// For `warren results`: the store must exist with the schema this build knows.
    public static func openForReading(_ address: StoreAddress, logger: Logger) async throws -> any ResultStore {
        switch address {
        case .sqlite(let path):
            do {
                return try SQLiteResultStore.openForReading(path: path)
            } catch let error as ResultStoreError {
                throw error
            } catch {
                throw ResultStoreError("sqlite:\(path): \(error)")
            }
        case .postgres(let postgres):
            return try await PostgresResultStore.open(postgres, migrate: false, logger: logger)
        }
    }
}
