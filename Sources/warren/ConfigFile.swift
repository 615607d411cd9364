import Foundation
import WarrenCore

/// Defaults for the `WARREN_*` variables from a file, so a new shell needs no exports: the first
/// that exists of `$WARREN_CONFIG`, `$XDG_CONFIG_HOME/warren/warren.env` (default
/// `~/.config/warren/warren.env`) and `/etc/warren/warren.env` (the file the systemd units read).
/// A variable already in the environment wins over the file; flags win over both. An empty
/// `WARREN_CONFIG` reads no file.
enum ConfigFile {
    /// The file to read, or nil.
    static func path(environment: [String: String]) -> String? {
        if let explicit = environment["WARREN_CONFIG"] { return explicit.isEmpty ? nil : explicit }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let configHome = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(home)/.config"
        return ["\(configHome)/warren/warren.env", "/etc/warren/warren.env"].first { FileManager.default.isReadableFile(atPath: $0) }
    }

    /// Sets each `WARREN_*` variable of the file that the environment does not set. A file given
    /// with `WARREN_CONFIG` that cannot be read, or a malformed line, is an input error.
    static func apply() throws(InputFileError) {
        let environment = ProcessInfo.processInfo.environment
        guard let path = path(environment: environment) else { return }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputFileError(file: path, line: 1, column: 1, message: "cannot read it (WARREN_CONFIG)")
        }
        for (name, value) in try EnvironmentFile.parse(String(decoding: data, as: UTF8.self), file: path)
        where name.hasPrefix("WARREN_") && environment[name] == nil {
            setenv(name, value, 0)
        }
    }
}
