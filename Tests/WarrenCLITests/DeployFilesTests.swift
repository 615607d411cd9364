import Foundation
import Testing
import WarrenTestSupport
import Yams

/// deploy/: every YAML file parses, and every `warren` command line in the systemd units, the
/// Dockerfile, the compose file and the Kubernetes manifests uses flags the binary has.
@Suite("deploy files (parsed, flags checked against the real binary)")
struct DeployFilesTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../deploy").standardized

    static func files(_ extensions: Set<String>) -> [URL] {
        let enumerator = FileManager.default.enumerator(at: deploy, includingPropertiesForKeys: nil)
        return (enumerator?.allObjects as? [URL] ?? []).filter { extensions.contains($0.pathExtension) || extensions.contains($0.lastPathComponent) }
            .sorted { $0.path < $1.path }
    }

    static let subcommands: Set<String> = ["scheduler", "worker", "backend", "publish", "results", "schedules", "status", "cancel"]

    /// Every `warren` command line: [subcommand, arguments…], with where it was found.
    static func commandLines() throws -> [(String, [String])] {
        var lines: [(String, [String])] = []
        func walk(_ node: Any, file: String) {
            if let mapping = node as? [String: Any] {
                for (key, value) in mapping {
                    if ["command", "args"].contains(key), let list = value as? [Any], let first = list.first as? String, subcommands.contains(first) {
                        lines.append((file, list.map { "\($0)" }))
                    } else {
                        walk(value, file: file)
                    }
                }
            } else if let list = node as? [Any] {
                for item in list { walk(item, file: file) }
            }
        }
        for file in files(["yaml", "yml"]) {
            for document in try Yams.load_all(yaml: String(contentsOf: file, encoding: .utf8)) {
                walk(document, file: file.lastPathComponent)
            }
        }
        for file in files(["service", "Dockerfile"]) {
            for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
                let words = line.split(separator: " ").map(String.init)
                guard let index = words.firstIndex(where: { $0.hasSuffix("/usr/local/bin/warren") }), index + 1 < words.count,
                      subcommands.contains(words[index + 1]) else { continue }
                lines.append((file.lastPathComponent, Array(words[(index + 1)...])))
            }
        }
        return lines
    }

    @Test("every YAML file under deploy/ parses")
    func yamlParses() throws {
        let yaml = Self.files(["yaml", "yml"])
        #expect(yaml.count >= 8)
        for file in yaml {
            #expect(throws: Never.self, "\(file.lastPathComponent)") { _ = try Yams.load_all(yaml: String(contentsOf: file, encoding: .utf8)).map { $0 } }
        }
    }

    @Test("every flag a deploy file passes to warren is one `warren SUBCOMMAND --help` lists")
    func flagsExist() async throws {
        let lines = try Self.commandLines()
        #expect(Set(lines.map { $0.1[0] }) == ["scheduler", "worker", "backend"], "the three services are all deployed")
        #expect(lines.count >= 10)
        var help: [String: String] = [:]
        for (file, words) in lines {
            let subcommand = words[0]
            if help[subcommand] == nil { help[subcommand] = try await runWarren([subcommand, "--help"]).stdout }
            for flag in words.dropFirst() where flag.hasPrefix("--") {
                #expect(help[subcommand]!.contains("  \(flag) ") || help[subcommand]!.contains("  \(flag)\n"),
                        "\(file): warren \(subcommand) has no \(flag)")
            }
        }
    }

    @Test("the Dockerfile builds in one stage and runs as a non-root user in another")
    func dockerfile() throws {
        let text = try String(contentsOf: Self.deploy.appendingPathComponent("docker/Dockerfile"), encoding: .utf8)
        #expect(text.components(separatedBy: "\nFROM ").count == 3 || text.hasPrefix("FROM") && text.components(separatedBy: "FROM ").count == 3)
        #expect(text.contains("USER warren"))
        #expect(text.contains("librabbitmq4"))
        #expect(text.contains("ENTRYPOINT [\"/usr/local/bin/warren\"]"))
    }
}
