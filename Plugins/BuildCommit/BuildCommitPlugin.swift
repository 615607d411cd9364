import Foundation
import PackagePlugin

/// Writes `BuildCommit.swift` (`let buildCommit = "…"`) with the git commit the package is built
/// from, for `warren --version`; "unknown" outside a git checkout. It runs again whenever HEAD
/// moves (a commit, a checkout, a reset), which git records in `.git/HEAD` and `.git/logs/HEAD`.
@main
struct BuildCommitPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let root = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appending(path: "BuildCommit.swift")
        let git = root.appending(path: ".git")
        let inputs = [git.appending(path: "HEAD"), git.appending(path: "logs/HEAD")]
            .filter { FileManager.default.fileExists(atPath: $0.path) }
        let script = """
            commit=$(git -C "$0" rev-parse --short=12 HEAD 2>/dev/null) || commit=unknown
            printf '/// The git commit this binary was built from (written by the BuildCommit plugin).\\nlet buildCommit = "%s"\\n' "${commit:-unknown}" > "$1"
            """
        return [.buildCommand(
            displayName: "Recording the git commit",
            executable: URL(fileURLWithPath: "/bin/sh"),
            arguments: ["-c", script, root.path, output.path],
            inputFiles: inputs,
            outputFiles: [output]
        )]
    }
}
