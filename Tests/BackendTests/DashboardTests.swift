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

    @Test("the dashboard shows runs per minute, each schedule's last run and next fire, recent failures, queues and the live workers with what they run; the task page every attempt")
    func pages() async throws {
        let harness = try await BackendHarness.make(.sqlite)
        let port = TestPorts.free()
        let schedules = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../schedules").standardized.path
        let backend = try harness.startBackend(["--http", "127.0.0.1:\(port)", "--schedules", schedules])
        let worker = try WarrenProcess(["worker", "--queue", "default", "--log-level", "warning", "--name", "dash-worker", "--concurrency", "4"],
                                       environment: harness.environment)
        try await waitUntil("the worker consuming") { try await harness.vhost.depth(of: "default")?.ready == 0 }
        for index in 0..<5 { _ = try await harness.warren(["publish", "warren.echo", "--arg", "n=\(index)"]) }
        // A task still running when the dashboard is drawn, for the workers view.
        _ = try await harness.warren(["publish", "warren.sleep", "--args-json", #"{"seconds": 60}"#, "--id", "sleeping-task"])
        try await waitUntil("the worker announcing the sleeping task") {
            try await harness.warren(["workers", "--json"]).stdout.contains("sleeping-task")
        }
        _ = try await harness.warren(["publish", "warren.fail", "--args-json", #"{"message": "upstream answered 502 Bad Gateway"}"#, "--id", "failing-task"])
        var fire = makeResult("inventory-sync@2026-11-23T10:00:00Z", task: "inventory.sync", schedule: "inventory-sync", finishedAt: isoAgo(30), durationMs: 1234)
        fire.output = "synced 42 items\n<script>alert('not run')</script>"
        fire.args = .object(["source": .string("warehouse-a"), "note": .string("<b>bold</b>")])
        // Two earlier fires of the same schedule that did not run, and one that failed.
        func earlier(_ hour: Int, _ status: ResultStatus, _ reason: String?, ago: Double) -> TaskResult {
            var result = makeResult("inventory-sync@2026-11-23T0\(hour):00:00Z", task: "inventory.sync", status: status,
                                    schedule: "inventory-sync", finishedAt: isoAgo(ago), durationMs: status.isFireRecord ? nil : 2100)
            result.scheduledFor = "2026-11-23T0\(hour):00:00Z"
            result.startedAt = status.isFireRecord ? nil : "2026-11-23T0\(hour):00:00.200Z"
            result.error = reason
            result.trigger = status == .missed ? "catchup" : nil
            return result
        }
        fire.scheduledFor = "2026-11-23T10:00:00Z"
        fire.startedAt = "2026-11-23T10:00:00.350Z"
        try await harness.publish([fire, earlier(7, .failed, "exited with status 1", ago: 300), earlier(8, .skipped, "paused: deploy freeze", ago: 200),
                                   earlier(9, .missed, "older than catchup_window 1h", ago: 100),
                                   makeResult("called-off", task: "reports.generate", status: .cancelled, finishedAt: isoAgo(20))])
        try await harness.waitForCounts(tasks: 11, attempts: 11)
        let base = "http://127.0.0.1:\(port)"
        let dashboard = try await Self.chromium("\(base)/")
        let taskPage = try await Self.chromium("\(base)/tasks/inventory-sync@2026-11-23T10:00:00Z")
        let failedPage = try await Self.chromium("\(base)/tasks/failing-task")
        let schedulePage = try await Self.chromium("\(base)/schedules/inventory-sync")
        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        let dashboardShot = "\(Self.screenshots)/dashboard.png", taskShot = "\(Self.screenshots)/task.png"
        _ = try await Self.chromium("\(base)/", screenshot: dashboardShot)
        _ = try await Self.chromium("\(base)/tasks/inventory-sync@2026-11-23T10:00:00Z", screenshot: taskShot)
        let scheduleShot = "\(Self.screenshots)/schedule.png"
        _ = try await Self.chromium("\(base)/schedules/inventory-sync", screenshot: scheduleShot)
        let source = try await HTTPAPITests.request("GET", "\(base)/")
        #expect(try await harness.warren(["cancel", "sleeping-task"]).status == 0)
        worker.signal(SIGTERM)
        backend.signal(SIGTERM)
        _ = try await worker.wait()
        _ = try await backend.wait()
        await harness.close()
        // The script ran and filled the sections.
        #expect(dashboard.contains("Runs per minute, last hour"))
        #expect(dashboard.contains(#"<b class="big" id="runs">9</b>"#), "skipped and missed fires are no runs")
        #expect(dashboard.contains(#"<b class="big error" id="failed">2</b>"#), "a cancellation is no failure")
        #expect(dashboard.contains(#"<b class="big" id="cancelled">1</b>"#))
        #expect(dashboard.contains("<th>last run (UTC)</th>") && dashboard.contains("<th>next fire (schedule's zone)</th>"), "every time says its zone")
        #expect(dashboard.contains("<svg"), "the chart is drawn")
        #expect(dashboard.contains(#"<td><a href="/schedules/inventory-sync">inventory-sync</a></td><td>inventory.sync</td>"#))
        #expect(dashboard.contains(#"<td><a href="/schedules/nightly-report">nightly-report</a></td><td>reports.generate</td>"#))
        #expect(dashboard.contains(#"<a href="/schedules/legacy-export">legacy-export</a> <span class="empty">(paused)</span>"#))
        // The schedule page: definition, the chart with each fire that did not run or failed marked, the fires.
        #expect(schedulePage.contains("schedule inventory-sync"))
        #expect(schedulePage.contains(#"<svg id="fire-chart""#), "the chart is drawn")
        #expect(schedulePage.contains(#"<g class="fire mark skipped" data-status="skipped">"#), "the skipped fire is marked")
        #expect(schedulePage.contains(#"<g class="fire mark missed" data-status="missed">"#))
        #expect(schedulePage.contains(#"<g class="fire mark failed" data-status="failed">"#))
        #expect(schedulePage.contains(#"<circle class="fire succeeded""#))
        #expect(schedulePage.contains("paused: deploy freeze"))
        #expect(schedulePage.contains(#"<tr class="fire-row missed"><td>2026-11-23 09:00:00Z</td><td>catchup</td>"#))
        #expect(schedulePage.contains("<th>task</th><td>inventory.sync</td>"), "the definition from the schedule files")
        #expect(schedulePage.contains("Not watched"))
        #expect(dashboard.contains("2026-11-"), "next fires are shown")
        #expect(dashboard.contains("upstream answered 502 Bad Gateway"))
        #expect(dashboard.contains(#"<a href="/tasks/failing-task">failing-task</a>"#))
        #expect(dashboard.contains("<td>default</td>"))
        // The workers view: the worker, its queue, a busy bar, 1 of 4 slots, the task it runs.
        #expect(dashboard.contains(#"<tr class="worker" data-worker="dash-worker"><td>dash-worker<br>"#), "\(dashboard)")
        #expect(dashboard.contains(#"<td class="num">1/4</td><td>warren.sleep <a href="/tasks/sleeping-task">sleeping-task</a>"#))
        #expect(dashboard.contains(#"<div class="bar" title=""#) && dashboard.contains(#"<span class="busy">"#))
        #expect(taskPage.contains("task inventory-sync@2026-11-23T10:00:00Z"))
        #expect(taskPage.contains("Attempt 1"))
        #expect(taskPage.contains(#"<code id="args">{"source":"warehouse-a","note":"&lt;b&gt;bold&lt;/b&gt;"}</code>"#)
                || taskPage.contains(#"<code id="args">{"note":"&lt;b&gt;bold&lt;/b&gt;","source":"warehouse-a"}</code>"#), "the args, as text")
        #expect(taskPage.contains("synced 42 items\n&lt;script&gt;alert('not run')&lt;/script&gt;"), "output is shown as text, never run")
        #expect(taskPage.contains("1.23 s"))
        #expect(failedPage.contains(#"<td class="error">upstream answered 502 Bad Gateway</td>"#))
        // Offline: nothing is loaded from elsewhere.
        #expect(source.status == 200)
        #expect(!source.text.contains("http://") && !source.text.contains("https://") && !source.text.contains("src="))
        #expect(try Self.pngSize(dashboardShot) == (1400, 1000))
        #expect(try Self.pngSize(taskShot) == (1400, 1000))
        #expect(try Self.pngSize(scheduleShot) == (1400, 1000))
    }
}

/// The dashboard's sign-in and its pause button, clicked in headless Chromium driven by
/// Selenium (Debian's chromium-driver and python3-selenium), as a user would.
@Suite("dashboard sign-in and schedule buttons (headless Chromium, Selenium)")
struct DashboardSignInTests {
    /// Signs in with `token` on `base`, clicks the pause button of `schedule`, and prints what it
    /// saw at each step.
    /// A headless Chromium (`driver`) and a 20-second `wait`; the script's arguments are
    /// `base, token, target`, and `click(selector)` clicks through the page's re-renders.
    static let seleniumSetup = #"""
import sys, time
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait
from selenium.webdriver.support import expected_conditions
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

base, token, target = sys.argv[1], sys.argv[2], sys.argv[3]
options = webdriver.ChromeOptions()
for argument in ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"]:
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
# The page renders itself again every 5 s: an element found just before may be replaced.
wait = WebDriverWait(driver, 20, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))

def click(selector):
    for _ in range(50):
        try:
            driver.find_element(By.CSS_SELECTOR, selector).click()
            return
        except StaleElementReferenceException:
            time.sleep(0.1)
    raise RuntimeError("could not click " + selector)
"""#

    static let script = #"""
\#(seleniumSetup)
schedule = target
try:
    driver.get(base + "/")
    wait.until(lambda d: d.find_elements(By.ID, "token"))
    print("redirected to", driver.current_url.replace(base, ""))
    driver.find_element(By.ID, "token").send_keys("wrong")
    driver.find_element(By.ID, "signin").click()
    wait.until(lambda d: d.find_elements(By.CLASS_NAME, "error"))
    print("wrong token:", driver.find_element(By.CLASS_NAME, "error").text)
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "signin").click()
    selector = 'button.op[data-op="pause"][data-name="%s"]' % schedule
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, selector))
    cookie = driver.get_cookie("warren_session")
    print("signed in; cookie httpOnly:", cookie["httpOnly"], "sameSite:", cookie.get("sameSite"))
    driver.find_element(By.CSS_SELECTOR, selector).click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, 'span.paused[data-schedule="%s"]' % schedule))
    print("paused:", driver.find_element(By.CSS_SELECTOR, 'span.paused[data-schedule="%s"]' % schedule).text)
    print("button now:", driver.find_element(By.CSS_SELECTOR, 'button.op[data-name="%s"]' % schedule).text)
finally:
    driver.quit()
"""#

    @Test("sign in with the admin token (a wrong one is refused), click pause: the schedule is paused, attributed to the dashboard")
    func signInAndPause() async throws {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("warren-dashboard-\(UUID().uuidString).py")
        try Data(Self.script.utf8).write(to: script)
        defer { try? FileManager.default.removeItem(at: script) }
        try await APIAccessTests.withBackend { harness, base, _ in
            // The dashboard lists the schedules of --schedules and those with results; give tick a result.
            var result = TaskResult(id: "tick@2026-03-01T03:00:00Z", task: "warren.echo", queue: "access", attempt: 1, status: .succeeded)
            result.schedule = "tick"
            result.finishedAt = TaskResult.timestamp(Date())
            try await harness.publish([result])
            try await harness.waitForCounts(tasks: 1, attempts: 1)
            let output = try await runChecked("/usr/bin/python3", [script.path, base, "admin-t", "tick"], timeout: .seconds(120))
            let lines = output.split(separator: "\n").map(String.init)
            #expect(lines == [
                "redirected to /signin?next=%2F",
                "wrong token: That token is not valid here.",
                "signed in; cookie httpOnly: True sameSite: Strict",
                "paused: paused until resumed: paused from the dashboard",
                "button now: resume",
            ])
            let schedules = try await HTTPAPITests.request("GET", base + "/api/schedules", headers: ["Authorization": "Bearer read-t"])
            guard case .object(let object) = schedules.json, case .array(let rows)? = object["schedules"],
                  case .object(let tick)? = rows.first, case .object(let pause)? = tick["runtime_pause"] else {
                Issue.record("GET /api/schedules: \(schedules.text)")
                return
            }
            #expect(pause["by"] == .string("api:admin-token (dashboard)"))
        }
    }

    /// Signs in with `token`, opens the dead-letter page, requeues `id` with its button, then
    /// purges the rest with the purge button (accepting its confirmation).
    static let deadLetterScript = #"""
\#(seleniumSetup)
requeued = target
try:
    driver.get(base + "/")
    wait.until(lambda d: d.find_elements(By.ID, "token"))
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "signin").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#dead a[href="/dead-letters"]'))
    print("dashboard dead letters:", driver.find_element(By.ID, "dead").text)
    click('#dead a')
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr.dead-letter")) == 2)
    print("rows:", sorted(row.get_attribute("data-id") for row in driver.find_elements(By.CSS_SELECTOR, "tr.dead-letter")))
    print("reasons:", driver.find_element(By.CSS_SELECTOR, "#dead-letters .tiles").text.replace("\n", " "))
    click('button.dl[data-dl-op="requeue"][data-id="%s"]' % requeued)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr.dead-letter")) == 1)
    print("after requeue:", [row.get_attribute("data-id") for row in driver.find_elements(By.CSS_SELECTOR, "tr.dead-letter")])
    click('button.dl[data-dl-op="purge-all"]')
    wait.until(expected_conditions.alert_is_present())
    print("asked:", driver.switch_to.alert.text)
    driver.switch_to.alert.accept()
    wait.until(lambda d: "No dead letters." in d.find_element(By.ID, "dead-letters").text)
    print("after purge: no dead letters")
finally:
    driver.quit()
"""#

    @Test("the dead-letter page: reached from the dashboard's count, a row requeued with its button, the rest purged after a confirmation")
    func deadLetterPage() async throws {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("warren-dead-letters-\(UUID().uuidString).py")
        try Data(Self.deadLetterScript.utf8).write(to: script)
        defer { try? FileManager.default.removeItem(at: script) }
        try await APIAccessTests.withBackend { harness, base, _ in
            let worker = try WarrenProcess(["worker", "--queue", "dlpage", "--log-level", "warning"], environment: harness.environment)
            for id in ["page-1", "page-2"] {
                #expect(try await harness.warren(["publish", "not.in.catalog", "--queue", "dlpage", "--id", id]).status == 0)
            }
            try await waitUntil("both dead-lettered") { try await harness.vhost.depth(of: WireNames.deadLetterQueue)?.ready == 2 }
            worker.signal(SIGTERM)
            _ = try await worker.wait()
            let output = try await runChecked("/usr/bin/python3", [script.path, base, "admin-t", "page-1"], timeout: .seconds(120))
            #expect(output.split(separator: "\n").map(String.init) == [
                "dashboard dead letters: 2",
                "rows: ['page-1', 'page-2']",
                "reasons: unknown-task 2",
                "after requeue: ['page-2']",
                "asked: Delete every dead letter for good?",
                "after purge: no dead letters",
            ])
            #expect(try await harness.vhost.depth(of: "dlpage")! == (1, 0), "page-1 back in its queue")
            #expect(try await harness.vhost.depth(of: WireNames.deadLetterQueue)! == (0, 0))
        }
    }
}

