/// What the broker said about itself when the connection opened, and the limits negotiated.
public struct ServerInfo: Sendable, Hashable {
    /// `product` server property, e.g. "RabbitMQ".
    public var product: String?
    /// `version` server property, e.g. "3.10.8".
    public var version: String?
    /// `cluster_name` server property.
    public var clusterName: String?
    /// Negotiated heartbeat interval in seconds; 0 means heartbeats are off.
    public var heartbeatSeconds: Int
    /// Negotiated largest frame, in bytes.
    public var frameMax: Int
    /// Negotiated highest channel number.
    public var channelMax: Int

    public init(product: String? = nil, version: String? = nil, clusterName: String? = nil,
                heartbeatSeconds: Int, frameMax: Int = 131_072, channelMax: Int = 2047) {
        self.product = product
        self.version = version
        self.clusterName = clusterName
        self.heartbeatSeconds = heartbeatSeconds
        self.frameMax = frameMax
        self.channelMax = channelMax
    }

    /// The version as numbers (`3.10.8` → `[3, 10, 8]`); empty when unknown.
    public var versionNumbers: [Int] {
        (version ?? "").split(separator: ".").map { Int($0.prefix { $0.isNumber }) ?? 0 }
    }

    /// True when the broker's version is at least `numbers` (false when unknown).
    public func versionIsAtLeast(_ numbers: Int...) -> Bool {
        let own = versionNumbers
        guard !own.isEmpty else { return false }
        for (index, wanted) in numbers.enumerated() {
            let have = index < own.count ? own[index] : 0
            if have != wanted { return have > wanted }
        }
        return true
    }
}
