import Hummingbird
import HummingbirdAuth
import Logging
import NIOCore

/// The request context of the backend's HTTP server: Hummingbird's core context, the client's
/// address (rate limiting without tokens keys on it), the identity a token or the sign-in
/// cookie established (hummingbird-auth) and the sign-in session.
public struct APIRequestContext: RequestContext, RemoteAddressRequestContext, AuthRequestContext, SessionRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public var identity: APIIdentity?
    /// The role signed in through the dashboard's sign-in page.
    public let sessions: SessionContext<APIRole>

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        identity = nil
        sessions = .init()
    }

    /// The client's IP address, or "unknown".
    var clientKey: String { remoteAddress?.ipAddress ?? "unknown" }
}
