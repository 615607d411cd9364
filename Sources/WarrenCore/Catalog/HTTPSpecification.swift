import Foundation

/// An HTTP request made for a task: the URL may hold `{arg}` placeholders in its path and query
/// (filled percent-encoded, so an arg can never change the host), the body is the task's args as
/// JSON for POST, PUT and PATCH. A 2xx response is success.
public struct HTTPSpecification: Sendable, Equatable {
    public static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    public var method: String
    public var url: String
    /// Sent as given; values are never logged.
    public var headers: [String: String]
    public var timeout: Duration

    public init(method: String = "POST", url: String, headers: [String: String] = [:], timeout: Duration = .seconds(30)) {
        self.method = method
        self.url = url
        self.headers = headers
        self.timeout = timeout
    }

    /// Whether the method sends the args as a JSON body.
    public var sendsBody: Bool { ["POST", "PUT", "PATCH"].contains(method) }

    /// Why `url` is not an acceptable template, or nil.
    public static func urlProblem(_ url: String) -> String? {
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else { return "must start with http:// or https://" }
        let afterScheme = url[url.index(url.range(of: "://")!.upperBound, offsetBy: 0)...]
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" }
        if authority.isEmpty { return "has no host" }
        if authority.contains("{") { return "placeholders may not appear in the host or port" }
        let sample = Placeholders.names(in: url).reduce(url) { partial, placeholder in
            partial.replacingOccurrences(of: "{\(placeholder.name)}", with: "x")
        }
        return URL(string: sample) == nil ? "is not a valid URL" : nil
    }

    /// The URL with placeholders filled (values percent-encoded).
    public func resolvedURL(with args: JSONValue) throws(TaskArgumentError) -> String {
        let placeholders = Placeholders.names(in: url)
        guard !placeholders.isEmpty else { return url }
        var encodedArgs: [String: JSONValue] = [:]
        if case .object(let values) = args {
            for (key, value) in values {
                if case .string(let text) = value {
                    encodedArgs[key] = .string(Self.percentEncode(text))
                } else {
                    encodedArgs[key] = value
                }
            }
        }
        return try Placeholders.fill(url, from: .object(encodedArgs))
    }

    static func percentEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
