import Foundation

/// The PostgreSQL server `scripts/test` starts (`scripts/postgres`), as a superuser URL.
public let testPostgresURL = ProcessInfo.processInfo.environment["WARREN_TEST_POSTGRES_URL"] ?? "postgres://postgres@127.0.0.1:5695/postgres"

/// A database of its own for one test on the test server; `url` reaches it.
public struct TestPostgresDatabase: Sendable {
    public let name: String
    public let url: String

    /// Creates `warren_test_<random>`.
    public static func create() async throws -> TestPostgresDatabase {
        let name = "warren_test_\(UUID().uuidString.prefix(8).lowercased())"
        try await psql("CREATE DATABASE \(name)")
        let base = testPostgresURL.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return TestPostgresDatabase(name: name, url: "\(base)/\(name)")
    }

    /// Drops the database, closing whatever is still connected to it, in the background (it is
    /// called from `defer`).
    public func drop() {
        Task { [name] in _ = try? await Self.psql("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
    }

    /// Runs SQL against this database; returns what psql printed (unaligned, tuples only).
    @discardableResult
    public func sql(_ statement: String) async throws -> String {
        try await Self.psql(statement, url: url)
    }

    /// Runs SQL against the server's maintenance database.
    @discardableResult
    public static func psql(_ statement: String, url: String = testPostgresURL) async throws -> String {
        let run = try await runProcess("/usr/bin/psql", [url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", statement])
        guard run.status == 0 else { throw PostgresTestError(description: "psql \(statement): \(run.errors)") }
        return run.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

public struct PostgresTestError: Error, CustomStringConvertible {
    public let description: String
}
