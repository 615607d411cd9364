/// One broker address parsed from an `amqp://` or `amqps://` URL.
///
/// `amqp://user:password@host:port/vhost` with percent-encoded user, password and vhost. A
/// missing or empty path means the default vhost `/` (write `%2F` explicitly if you prefer).
/// Ports default to 5672 (`amqp`) and 5671 (`amqps`); user and password default to `guest`.
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var vhost: String
    public var user: String
    public var password: String
    /// True for `amqps://`.
    public var usesTLS: Bool

    public init(host: String, port: Int? = nil, vhost: String = "/", user: String = "guest",
                password: String = "guest", usesTLS: Bool = false) {
        self.host = host
        self.port = port ?? (usesTLS ? 5671 : 5672)
        self.vhost = vhost
        self.user = user
        self.password = password
        self.usesTLS = usesTLS
    }

    /// True when the host is this machine (`localhost`, 127.0.0.0/8, `::1`).
    public var isLoopback: Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host == "localhost" || host.hasPrefix("127.") || host == "::1"
    }

    /// Parses one URL.
    public init(url: String) throws(AMQPError) {
        let text = url.trimmingCharacters(in: .whitespaces)
        let scheme: String
        let rest: Substring
        if text.hasPrefix("amqps://") {
            scheme = "amqps"; rest = text.dropFirst("amqps://".count)
        } else if text.hasPrefix("amqp://") {
            scheme = "amqp"; rest = text.dropFirst("amqp://".count)
        } else {
            throw .invalidURL(Self.redact(text), reason: "it must start with amqp:// or amqps://")
        }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        var path = rest[authorityEnd...]
        if let query = path.firstIndex(of: "?") { path = path[..<query] }

        var user = "guest", password = "guest"
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            let parts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let u = Self.percentDecode(parts[0]) else {
                throw .invalidURL(Self.redact(text), reason: "bad percent-encoding in the user name")
            }
            user = u
            if parts.count > 1 {
                guard let p = Self.percentDecode(parts[1]) else {
                    throw .invalidURL(Self.redact(text), reason: "bad percent-encoding in the password")
                }
                password = p
            }
        }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw .invalidURL(Self.redact(text), reason: "unclosed '[' in an IPv6 host")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        if host.isEmpty { host = "localhost" }
        var port: Int?
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else {
                throw .invalidURL(Self.redact(text), reason: "port '\(portText)' is not a number from 1 to 65535")
            }
            port = p
        }
        var vhost = "/"
        if path.count > 1 {
            guard let v = Self.percentDecode(path.dropFirst()) else {
                throw .invalidURL(Self.redact(text), reason: "bad percent-encoding in the vhost")
            }
            vhost = v
        }
        self.init(host: String(host), port: port, vhost: vhost, user: user, password: password,
                  usesTLS: scheme == "amqps")
    }

    /// Parses a comma-separated list of URLs, tried in turn when connecting.
    public static func list(_ urls: String) throws(AMQPError) -> [Endpoint] {
        let parts = urls.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if parts.isEmpty { throw .invalidURL("", reason: "no broker URL given") }
        var endpoints: [Endpoint] = []
        for part in parts { endpoints.append(try Endpoint(url: part)) }
        return endpoints
    }

    /// The URL with the password replaced by `***`: safe for logs and error messages.
    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let vhostPart = vhost == "/" ? "" : Self.percentEncode(vhost)
        return "\(usesTLS ? "amqps" : "amqp")://\(Self.percentEncode(user)):***@\(hostPart):\(port)/\(vhostPart)"
    }

    /// Hides a password in a URL that failed to parse, so even error messages never show it.
    static func redact(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://"), let at = url.lastIndex(of: "@"), at > schemeEnd.upperBound else {
            return url
        }
        let userInfo = url[schemeEnd.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }

    static func percentDecode<S: StringProtocol>(_ text: S) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if byte < 128 && (c.isLetter || c.isNumber || "-._~".contains(c)) {
                out.append(c)
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}

import Foundation
