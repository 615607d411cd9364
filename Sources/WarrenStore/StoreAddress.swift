import Foundation

/// Where results are stored: `sqlite:PATH` or `postgres://USER:PASSWORD@HOST:PORT/DATABASE`.
/// Its description never shows the password.
public enum StoreAddress: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresAddress)

    /// The default of `warren backend` and `warren results`.
    public static let defaultText = "sqlite:./warren-results.sqlite"

    /// Reads `sqlite:PATH`, `sqlite://PATH`, `postgres://…` or `postgresql://…`.
    public init(parsing text: String) throws(StoreAddressError) {
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else { throw StoreAddressError("expected sqlite:PATH, e.g. sqlite:./warren-results.sqlite") }
            self = .sqlite(path: path)
        } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(try PostgresAddress(parsing: text))
        } else {
            throw StoreAddressError("expected sqlite:PATH or postgres://USER@HOST:PORT/DATABASE")
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let address): return address.description
        }
    }
}

/// A PostgreSQL server and database. TLS is used when the URL says `?sslmode=require`.
public struct PostgresAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var requireTLS: Bool

    init(parsing text: String) throws(StoreAddressError) {
        guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty else {
            throw StoreAddressError("expected postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        self.host = host
        port = components.port ?? 5432
        user = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        password = components.password.flatMap { $0.removingPercentEncoding }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? user : (path.removingPercentEncoding ?? path)
        requireTLS = false
        for item in components.queryItems ?? [] {
            switch (item.name, item.value ?? "") {
            case ("sslmode", "disable"), ("sslmode", "prefer"), ("sslmode", "allow"): requireTLS = false
            case ("sslmode", "require"), ("sslmode", "verify-full"), ("sslmode", "verify-ca"): requireTLS = true
            default: throw StoreAddressError("unsupported URL parameter \(item.name)=\(item.value ?? "") (only sslmode=disable|require)")
            }
        }
    }

    public var description: String {
        "postgres://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)\(requireTLS ? "?sslmode=require" : "")"
    }
}

/// A store address that cannot be read.
public struct StoreAddressError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
