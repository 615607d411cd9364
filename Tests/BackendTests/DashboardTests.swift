import Foundation
import Testing
import WarrenCore
import WarrenStore
import WarrenTestSupport

/// The dashboard in a real browser: headless Chromium loads the pages, runs their script
/// against the real backend, and the tests read the resulting DOM and save screenshots
/// (in WARREN_TEST_SCREENSHOTS, default /tmp/warren-screenshots).
@Suite("dashboard (real server, headless Chromium)")
struct DashboardTests {
    static let screenshots = ProcessInfo.processInfo.environment["WARREN_TEST_SCREENSHOTS"] ?? "/tmp/warren-screenshots"

    /// Runs Chromium headless on `url`; returns the DOM after the page's script ran, or writes a screenshot.
    static func chromium(_ url: String, screenshot: String? = nil) async throws -> String {
        var arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,1000",
                         "--virtual-time-budget=5000"]
        arguments += screenshot.map { ["--screenshot=\($0)"] } ?? ["--dump-dom"]
        return try await runChecked("/usr/bin/chromium", arguments + [url])
    }

    /// Width and height from a PNG's IHDR chunk.
    static func pngSize(_ path: String) throws -> (Int, Int) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard data.count > 24, data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw ToolError(description: "\(path) is not a PNG") }
        func word(_ offset: Int) -> Int { data[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (word(16), word(20))
    }

    @Test("the dashboard shows runs per minute, each schedule's last run and next fire, recent failures and queues; the task page every attempt")
    func pages() async throws {
        let harness = try await BackendHarness.make(.sqlite)
        let port = TestPorts.free()
        let schedules = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../schedules").standardized.path
        let backend = try harness.startBackend(["--http", "127.0.0.1:\(port)", "--schedules", schedules])
        let worker = try WarrenProcess(["worker", "--queue", "default", "--log-level", "warning"], environment: harness.environment)
        try await waitUntil("the worker consuming") { try await harness.vhost.depth(of: "default")?.ready == 0 }
        for index in 0..<5 { _ = try await harness.warren(["publish", "warren.echo", "--arg", "n=\(index)"]) }
        _ = try await harness.warren(["publish", "warren.fail", "--args-json", #"{"message": "upstream answered 502 Bad Gateway"}"#, "--id", "failing-task"])
        var fire = makeResult("inventory-sync@2026-11-23T10:00:00Z", task: "inventory.sync", schedule: "inventory-sync", finishedAt: isoAgo(30), durationMs: 1234)
        fire.output = "synced 42 items\n<script>alert('not run')</script>"
        try await harness.publish([fire])
        try await harness.waitForCounts(tasks: 7, attempts: 7)
        let base = "http://127.0.0.1:\(port)"
        let dashboard = try await Self.chromium("\(base)/")
        let taskPage = try await Self.chromium("\(base)/tasks/inventory-sync@2026-11-23T10:00:00Z")
        let failedPage = try await Self.chromium("\(base)/tasks/failing-task")
        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        let dashboardShot = "\(Self.screenshots)/dashboard.png", taskShot = "\(Self.screenshots)/task.png"
        _ = try await Self.chromium("\(base)/", screenshot: dashboardShot)
        _ = try await Self.chromium("\(base)/tasks/inventory-sync@2026-11-23T10:00:00Z", screenshot: taskShot)
        let source = try await HTTPAPITests.request("GET", "\(base)/")
        worker.signal(SIGTERM)
        backend.signal(SIGTERM)
        _ = try await worker.wait()
        _ = try await backend.wait()
        await harness.close()
        // The script ran and filled the sections.
        #expect(dashboard.contains("Runs per minute, last hour"))
        #expect(dashboard.contains(#"<b class="big" id="runs">7</b>"#))
        #expect(dashboard.contains(#"<b class="big error" id="failed">1</b>"#))
        #expect(dashboard.contains("<svg"), "the chart is drawn")
        #expect(dashboard.contains("<td>inventory-sync</td><td>inventory.sync</td>"))
        #expect(dashboard.contains("<td>nightly-report</td><td>reports.generate</td>"))
        #expect(dashboard.contains("legacy-export <span class=\"empty\">(paused)</span>"))
        #expect(dashboard.contains("2026-11-"), "next fires are shown")
        #expect(dashboard.contains("upstream answered 502 Bad Gateway"))
        #expect(dashboard.contains(#"<a href="/tasks/failing-task">failing-task</a>"#))
        #expect(dashboard.contains("<td>default</td>"))
        #expect(taskPage.contains("task inventory-sync@2026-11-23T10:00:00Z"))
        #expect(taskPage.contains("Attempt 1"))
        #expect(taskPage.contains("synced 42 items\n&lt;script&gt;alert('not run')&lt;/script&gt;"), "output is shown as text, never run")
        #expect(taskPage.contains("1.23 s"))
        #expect(failedPage.contains(#"<td class="error">upstream answered 502 Bad Gateway</td>"#))
        // Offline: nothing is loaded from elsewhere.
        #expect(source.status == 200)
        #expect(!source.text.contains("http://") && !source.text.contains("https://") && !source.text.contains("src="))
        #expect(try Self.pngSize(dashboardShot) == (1400, 1000))
        #expect(try Self.pngSize(taskShot) == (1400, 1000))
    }
}
