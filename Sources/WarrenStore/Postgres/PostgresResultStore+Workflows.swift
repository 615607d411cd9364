import Foundation
import PostgresNIO
import WarrenCore

extension PostgresResultStore {
    public func workflowRun(_ id: String) async throws -> WorkflowRun? {
        let (client, logger) = (self.client, self.logger)
        let text: String? = try await run {
            for try await record in try await client.query("SELECT record FROM warren_workflow_runs WHERE id = \(id)", logger: logger).decode(String.self) {
                return record
            }
            return nil
        }
        return try text.map { try WorkflowRun(json: try JSONText.parse(Data($0.utf8))) }
    }

    public func saveWorkflowRun(_ run: WorkflowRun) async throws {
        let record = run.json.jsonText
        let now = ResultTime.milliseconds(Date())
        let (id, name, status, startedMs) = (run.id, run.definition.name, run.status?.rawValue, run.startedMs)
        let (client, logger) = (self.client, self.logger)
        _ = try await self.run {
            try await client.query("""
                INSERT INTO warren_workflow_runs (id, workflow, record, status, started_ms, updated_ms)
                VALUES (\(id), \(name), \(record), \(status), \(startedMs), \(now))
                ON CONFLICT (id) DO UPDATE SET record = excluded.record, status = excluded.status, updated_ms = excluded.updated_ms
                """, logger: logger)
        }
    }

    public func latest(ofIDs ids: [String]) async throws -> [TaskResult] {
        guard !ids.isEmpty else { return [] }
        return try await fetchResults("SELECT \(unescaped: Self.selectJSON) FROM warren_results WHERE id = ANY(\(ids))")
    }
}
