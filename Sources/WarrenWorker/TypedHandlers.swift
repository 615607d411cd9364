import Foundation
import WarrenCore

extension TaskCatalog {
    /// Registers a task implemented in Swift with typed arguments and result.
    ///
    /// ```swift
    /// var catalog = TaskCatalog()
    /// catalog.register("images.resize", retry: RetryPolicy(attempts: 3)) { (args: ResizeArgs) async throws -> ResizeResult in
    ///     try await resize(args)
    /// }
    /// let worker = Worker(configuration: WorkerConfiguration(connection: connection, queues: ["images"], catalog: catalog))
    /// ```
    ///
    /// Args that do not decode reject the task (`bad-args`, dead-lettered, not retried); an error
    /// the handler throws fails the attempt, and `retry` decides what follows. `timeout` cancels
    /// the handler's task (it should honour cancellation).
    public mutating func register<Args: Decodable & Sendable, Output: Encodable & Sendable>(
        _ name: String, timeout: Duration? = nil, retry: RetryPolicy = .none,
        _ handler: @escaping @Sendable (Args) async throws -> Output
    ) {
        let run: @Sendable (JSONValue) async throws -> JSONValue = { args in
            let decoded: Args
            do {
                decoded = try JSONDecoder().decode(Args.self, from: Data(JSONText.write(args).utf8))
            } catch {
                throw TaskArgumentsError("args do not match \(Args.self): \(error)")
            }
            let output = try await handler(decoded)
            let data = try JSONEncoder().encode(output)
            return try JSONText.parse(Array(data))
        }
        add(TaskDefinition(name: name, kind: .handler(TaskHandler(name: name, run: run)), timeout: timeout, retry: retry))
    }
}
