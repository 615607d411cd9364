import Foundation
import GRDB
import WarrenCore

extension SQLiteResultStore {
    public func workflowRun(_ id: String) async throws -> WorkflowRun? {
        let text = try await pool.read { db in try String.fetchOne(db, sql: "SELECT record FROM warren_workflow_runs WHERE id = ?", arguments: [id]) }
        return try text.map { try WorkflowRun(json: try JSONText.parse(Data($0.utf8))) }
    }

    public func saveWorkflowRun(_ run: WorkflowRun) async throws {
        let record = run.json.jsonText
        let now = ResultTime.milliseconds(Date())
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO warren_workflow_runs (id, workflow, record, status, started_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET record = excluded.record, status = excluded.status, updated_ms = excluded.updated_ms
                """, arguments: [run.id, run.definition.name, record, run.status?.rawValue, run.startedMs, now])
        }
    }

    public func latest(ofIDs ids: [String]) async throws -> [TaskResult] {
        var results: [TaskResult] = []
        // SQLite takes at most 32,766 parameters per statement.
        for start in stride(from: 0, to: ids.count, by: 10_000) {
            let chunk = Array(ids[start..<min(ids.count, start + 10_000)])
            let sql = "SELECT \(Self.selectJSON) FROM warren_results WHERE id IN (\(Array(repeating: "?", count: chunk.count).joined(separator: ", ")))"
            let texts = try await pool.read { db in try String.fetchAll(db, sql: sql, arguments: StatementArguments(chunk)) }
            results += try texts.map { try TaskResult.decode(Data($0.utf8)) }
        }
        return results
    }
}
