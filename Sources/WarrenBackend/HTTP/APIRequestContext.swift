import Hummingbird
import Logging
import NIOCore

/// The request context of the backend's HTTP server: Hummingbird's core context plus the
/// client's address, which rate limiting keys on.
public struct APIRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address, or "unknown".
    var clientKey: String { remoteAddress?.ipAddress ?? "unknown" }
}
