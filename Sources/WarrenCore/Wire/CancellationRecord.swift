import Foundation

/// An entry of the cancellation stream: a task id to cancel, or a worker's start-up marker
/// (which tells that worker it has read everything published before it started).
public enum CancellationRecord: Sendable, Equatable {
    case cancel(taskID: String)
    case marker(String)

    public var body: Data {
        var text = "{"
        switch self {
        case .cancel(let id):
            text += "\"id\":"
            JSONText.writeString(id, into: &text)
        case .marker(let marker):
            text += "\"marker\":"
            JSONText.writeString(marker, into: &text)
        }
        return Data((text + "}").utf8)
    }

    /// Reads a record; nil for anything else (ignored by workers).
    public init?(body: Data) {
        guard case .object(let fields)? = try? JSONText.parse(body) else { return nil }
        if case .string(let id)? = fields["id"], !id.isEmpty {
            self = .cancel(taskID: id)
        } else if case .string(let marker)? = fields["marker"] {
            self = .marker(marker)
        } else {
            return nil
        }
    }
}
