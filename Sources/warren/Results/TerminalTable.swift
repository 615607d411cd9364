import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Plain-text tables that fit the terminal: fixed columns keep their width, flexible ones
/// share what is left and are cut with "…", except the last, which is printed whole.
struct TerminalTable {
    struct Column {
        var title: String
        /// Width for a fixed column; nil for a flexible one.
        var width: Int?
        var alignRight = false
    }

    let columns: [Column]
    let totalWidth: Int

    init(_ columns: [Column], totalWidth: Int = TerminalTable.terminalWidth()) {
        self.columns = columns
        self.totalWidth = totalWidth
    }

    /// The terminal's width (`COLUMNS`, else the tty's, else 120 when not a terminal).
    static func terminalWidth() -> Int {
        if let text = ProcessInfo.processInfo.environment["COLUMNS"], let columns = Int(text), columns > 20 { return columns }
        #if canImport(Glibc)
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 { return Int(size.ws_col) }
        #endif
        return 120
    }

    /// Widths for `rows`: flexible columns get their content's width while it fits, else an
    /// equal share of the room left (at least 8).
    func widths(for rows: [[String]]) -> [Int] {
        var widths = columns.enumerated().map { index, column in
            column.width ?? max(column.title.count, rows.map { $0[index].count }.max() ?? 0)
        }
        let gaps = 2 * (columns.count - 1)
        let flexible = columns.indices.filter { columns[$0].width == nil }
        var overflow = widths.reduce(0, +) + gaps - totalWidth
        // Shrink the widest flexible column first, one character at a time.
        while overflow > 0, let widest = flexible.max(by: { widths[$0] < widths[$1] }), widths[widest] > 8 {
            widths[widest] -= 1
            overflow -= 1
        }
        return widths
    }

    func render(_ rows: [[String]], header: Bool = true) -> String {
        let widths = widths(for: rows)
        var lines: [String] = []
        if header { lines.append(line(columns.map(\.title), widths: widths)) }
        lines += rows.map { line($0, widths: widths) }
        return lines.joined(separator: "\n")
    }

    func line(_ cells: [String], widths: [Int]) -> String {
        var parts: [String] = []
        for (index, cell) in cells.enumerated() {
            let width = widths[index]
            let isLast = index == cells.count - 1
            // The last column (an id, a reason) is never cut: it is the one copied and pasted.
            let text = cell.count > width && !isLast ? String(cell.prefix(max(width - 1, 0))) + "…" : cell
            let padding = String(repeating: " ", count: max(0, width - text.count))
            parts.append(columns[index].alignRight ? padding + text : (isLast ? text : text + padding))
        }
        return parts.joined(separator: "  ")
    }
}
