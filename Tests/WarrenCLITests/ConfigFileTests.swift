import Foundation
import Testing
import WarrenCore
import WarrenTestSupport

/// The CLI's configuration file: defaults for WARREN_* variables, so a new shell needs no exports.
@Suite("warren's configuration file (real binary)")
struct ConfigFileTests {
    static func file(_ text: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warren-config-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("warren"), withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("warren/warren.env")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Runs `warren` with `set` added to and `unset` removed from the test's environment.
    static func run(_ arguments: [String], set: [String: String], unset: [String] = ["WARREN_AMQP_URL"]) async throws -> (status: Int32, text: String) {
        var environment = warrenEnvironment(set)
        for name in unset { environment.removeValue(forKey: name) }
        let run = try await runProcess(warrenBinary.path, arguments, environment: environment)
        return (run.status, run.output + run.errors)
    }

    @Test("WARREN_CONFIG names the file; its WARREN_AMQP_URL reaches the broker; the environment wins over it")
    func explicitFile() async throws {
        let config = try Self.file("# written by a test\nWARREN_AMQP_URL=\(testBrokerURL)\n")
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent().deletingLastPathComponent()) }
        let status = try await Self.run(["status"], set: ["WARREN_CONFIG": config.path])
        #expect(status.status == 0, "\(status.text)")
        #expect(status.text.contains("reachable"))
        let overridden = try await runWarren(["status"], environment: ["WARREN_CONFIG": config.path, "WARREN_AMQP_URL": "amqp://guest:guest@127.0.0.1:1/"])
        #expect(overridden.status == 1)
        #expect(overridden.stderr.contains("127.0.0.1:1"))
    }

    @Test("~/.config/warren/warren.env is read when WARREN_CONFIG is unset (XDG_CONFIG_HOME honoured)")
    func userFile() async throws {
        let config = try Self.file("WARREN_AMQP_URL=\(testBrokerURL)\n")
        let configHome = config.deletingLastPathComponent().deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: configHome) }
        let result = try await Self.run(["status"], set: ["XDG_CONFIG_HOME": configHome.path], unset: ["WARREN_AMQP_URL", "WARREN_CONFIG"])
        #expect(result.status == 0, "\(result.text)")
        #expect(result.text.contains("reachable"))
    }

    @Test("a malformed line or a missing file is an input error (exit 2) naming the file and line")
    func badFile() async throws {
        let config = try Self.file("WARREN_AMQP_URL=amqp://x/\nthis is not a setting\n")
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent().deletingLastPathComponent()) }
        let bad = try await runWarren(["status"], environment: ["WARREN_CONFIG": config.path])
        #expect(bad.status == 2)
        #expect(bad.stderr == "warren: \(config.path):2:1: expected NAME=value\n")
        let missing = try await runWarren(["status"], environment: ["WARREN_CONFIG": "/nonexistent/warren.env"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/nonexistent/warren.env"))
    }
}

@Suite("warren --version (real binary)")
struct VersionTests {
    @Test("prints the version and the git commit the binary was built from")
    func version() async throws {
        let result = try await runWarren(["--version"])
        #expect(result.status == 0)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
        let head = try await runChecked("/usr/bin/git", ["-C", root, "rev-parse", "--short=12", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(result.stdout == "warren \(WarrenVersion.number) (commit \(head))\n")
    }
}
