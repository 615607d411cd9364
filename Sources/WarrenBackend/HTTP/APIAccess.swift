import Foundation

/// What a token allows (SPEC §9): `--api-token` everything, `--api-read-token` reads only.
public enum APIRole: String, Sendable, Codable {
    case read, admin
}

/// Who sent a request: the role of the token it carried, and how it carried it.
public struct APIIdentity: Sendable, Codable, Equatable {
    public enum Via: String, Sendable, Codable {
        /// `Authorization: Bearer TOKEN`.
        case bearer
        /// The dashboard's sign-in cookie.
        case session
    }

    public var role: APIRole
    public var via: Via

    public init(role: APIRole, via: Via) {
        self.role = role
        self.via = via
    }

    /// How writes are attributed in logs and in the schedule state stream: `api:admin-token`.
    public var name: String { "api:\(role.rawValue)-token" + (via == .session ? " (dashboard)" : "") }
}

/// Which routes need which role, and what a request gets: one rule for every route. Pure.
public enum APIAccess {
    public enum Need: Sendable, Equatable {
        case open, read, admin
    }

    public enum Decision: Sendable, Equatable {
        case allow
        /// No token, or a wrong one: 401 (an API route) or the sign-in page (a dashboard page).
        case unauthorized
        /// A read token on a write route: 403.
        case forbidden
        /// A write through the dashboard's cookie without the dashboard's request header: 403
        /// (a page elsewhere cannot forge it; the cookie is also `SameSite=Strict`).
        case crossSite
    }

    /// The header the dashboard sends with every write it makes through its cookie.
    public static let dashboardHeader = "X-Warren-Request"

    /// What `method` on `path` needs. Open: `/healthz`, the sign-in page and `/metrics` with
    /// `--metrics-open`; any other GET or HEAD reads; everything else writes. (A probe that sends
    /// no token reads `/readyz` on the `--metrics` endpoint, as for every process.)
    public static func need(method: String, path: String, metricsOpen: Bool) -> Need {
        switch path {
        case "/healthz", "/signin", "/signout": return .open
        case "/metrics" where metricsOpen: return .open
        // Dead letters carry their tasks' args, and reading them holds them for a moment.
        case _ where path.hasPrefix("/api/dead-letters"): return .admin
        default: return method == "GET" || method == "HEAD" ? .read : .admin
        }
    }

    /// The decision for a request needing `need` from `identity` (nil: no valid token), when
    /// `authRequired` (some token is configured); `dashboardHeader` whether the request carried it.
    public static func decide(_ need: Need, identity: APIIdentity?, authRequired: Bool, dashboardHeader: Bool) -> Decision {
        guard authRequired, need != .open else { return .allow }
        guard let identity else { return .unauthorized }
        if need == .admin {
            if identity.role != .admin { return .forbidden }
            if identity.via == .session, !dashboardHeader { return .crossSite }
        }
        return .allow
    }

    /// The methods `path` answers to, or nil for a path the server does not serve: a request
    /// with another method gets 405 with `Allow` (docs/openapi.yaml lists the same).
    public static func methods(for path: String) -> [String]? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        switch parts.count {
        case 1 where ["healthz", "readyz", "metrics", ""].contains(parts[0]): return ["GET"]
        case 1 where parts[0] == "signin": return ["GET", "POST"]
        case 1 where parts[0] == "signout": return ["POST"]
        case 2 where ["tasks", "schedules"].contains(parts[0]) && !parts[1].isEmpty: return ["GET"]
        case 1 where parts[0] == "dead-letters": return ["GET"]
        case 2 where parts[0] == "api":
            switch parts[1] {
            case "results", "stats", "dashboard", "schedules", "whoami", "dead-letters": return ["GET"]
            case "tasks": return ["POST"]
            default: return nil
            }
        case 3 where parts[0] == "api" && parts[1] == "results" && !parts[2].isEmpty: return ["GET"]
        case 3 where parts[0] == "api" && parts[1] == "dead-letters" && ["requeue", "purge"].contains(parts[2]): return ["POST"]
        case 3 where parts[0] == "api" && parts[1] == "dead-letters" && !parts[2].isEmpty: return ["GET"]
        case 4 where parts[0] == "api" && parts[1] == "schedules" && ["pause", "resume", "trigger", "backfill"].contains(parts[3]): return ["POST"]
        case 4 where parts[0] == "api" && parts[1] == "schedules" && parts[3] == "history" && !parts[2].isEmpty: return ["GET"]
        default: return nil
        }
    }

    /// Whether a page (not an API route) is asked for: unauthenticated, it gets the sign-in page.
    public static func isPage(_ path: String) -> Bool {
        path == "/" || path == "/dead-letters" || path.hasPrefix("/tasks/") || path.hasPrefix("/schedules/")
    }
}
