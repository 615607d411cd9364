import Foundation
import Testing
import WarrenTestSupport

/// `--help` of every command: each option's default said once.
@Suite struct HelpTextTests {
    /// Every command and subcommand, read from `warren help` itself.
    static func commands() async throws -> [[String]] {
        func subcommands(of command: [String]) async throws -> [String] {
            let help = try await runWarren(command + ["--help"]).stdout
            guard let section = help.components(separatedBy: "SUBCOMMANDS:").dropFirst().first else { return [] }
            return section.split(separator: "\n").compactMap { line in
                guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first else { return nil }
                return String(name)
            }
        }
        var all: [[String]] = []
        for top in try await subcommands(of: []) {
            all.append([top])
            for sub in try await subcommands(of: [top]) where !sub.hasPrefix("See") { all.append([top, sub]) }
        }
        return all
    }

    @Test("no option's help says its default twice (\"(default 10). (default: 10)\")")
    func defaultsSaidOnce() async throws {
        let commands = try await Self.commands()
        #expect(commands.count > 20, "\(commands)")
        #expect(commands.contains(["results", "tail"]) && commands.contains(["schedules", "health"]))
        let twice = try Regex(#"\(default [^)]*\)[.,;]? *\(default: "#)
        for command in commands {
            let help = try await runWarren(command + ["--help"]).stdout
            let flat = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(flat.firstMatch(of: twice) == nil, "warren \(command.joined(separator: " ")) --help: \(flat.firstMatch(of: twice).map { String(flat[$0.range]) } ?? "")")
        }
    }
}
