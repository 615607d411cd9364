import Foundation
import Logging
import Synchronization
import WarrenCore

/// A swift-log handler writing one line per message, as text (swift-log's own layout) or as a
/// JSON object, to standard error or a file (`--log-format`, `--log-file`).
struct LineLogHandler: LogHandler {
    enum Format: String, CaseIterable {
        case text, json
    }

    /// Where lines go; writes are whole lines, one at a time.
    final class Sink: Sendable {
        private let handle: Mutex<FileHandle>

        init(_ handle: FileHandle) {
            self.handle = Mutex(handle)
        }

        func write(_ line: String) {
            handle.withLock { $0.write(Data(line.utf8)) }
        }
    }

    let label: String
    let format: Format
    let sink: Sink
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let time = TaskResult.timestamp(Date())
        switch format {
        case .text:
            let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            sink.write("\(time) \(event.level) \(label):\(fields.isEmpty ? "" : " " + fields) [\(event.source)] \(event.message)\n")
        case .json:
            var object: [String: JSONValue] = ["time": .string(time), "level": .string(event.level.rawValue), "label": .string(label),
                                               "source": .string(event.source), "message": .string("\(event.message)")]
            for (key, value) in merged where object[key] == nil { object[key] = Self.json(value) }
            sink.write(JSONValue.object(object).jsonText + "\n")
        }
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): return .string(text)
        case .stringConvertible(let value): return .string(value.description)
        case .array(let values): return .array(values.map(json))
        case .dictionary(let values): return .object(values.mapValues(json))
        }
    }
}
