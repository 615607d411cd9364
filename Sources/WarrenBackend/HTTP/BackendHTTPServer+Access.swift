import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdAuth
import WarrenCore

/// Bearer tokens (hummingbird-auth reads the header): the role of the token given, or nil.
struct BearerTokenAuthenticator: AuthenticatorMiddleware {
    typealias Context = APIRequestContext
    let adminToken: String?
    let readToken: String?

    func authenticate(request: Request, context: Context) async throws -> APIIdentity? {
        guard let bearer = request.headers.bearer else { return nil }
        return BackendHTTPServer.role(of: bearer.token, admin: adminToken, read: readToken).map { APIIdentity(role: $0, via: .bearer) }
    }
}

/// 405 with `Allow` for a path the server serves asked with another method.
struct MethodMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let methods = APIAccess.methods(for: request.uri.path), !methods.contains(request.method.rawValue) {
            return JSONResponse.error(.methodNotAllowed, "\(request.uri.path) answers \(methods.joined(separator: " and ")) only",
                                      headers: [.allow: methods.joined(separator: ", ")])
        }
        return try await next(request, context)
    }
}

/// Applies `APIAccess` to every request, then the rate limit to writes.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let server: BackendHTTPServer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let configuration = server.configuration
        let path = request.uri.path
        let need = APIAccess.need(method: request.method.rawValue, path: path, metricsOpen: configuration.metricsOpen)
        let dashboardHeader = request.headers[BackendHTTPServer.dashboardHeaderName] != nil
        switch APIAccess.decide(need, identity: context.identity, authRequired: configuration.authRequired, dashboardHeader: dashboardHeader) {
        case .allow:
            break
        case .unauthorized:
            if APIAccess.isPage(path) { return BackendHTTPServer.redirect(to: "/signin?next=" + (path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/")) }
            return JSONResponse.error(.unauthorized, "missing or wrong bearer token (Authorization: Bearer TOKEN)", headers: [.wwwAuthenticate: "Bearer"])
        case .forbidden:
            return JSONResponse.error(.forbidden, "the read token may only read; \(request.method.rawValue) \(path) needs the admin token (--api-token)")
        case .crossSite:
            return JSONResponse.error(.forbidden, "a write through the dashboard's sign-in needs the \(APIAccess.dashboardHeader) header")
        }
        if need == .admin, let refusal = server.rateLimit(request, context: context) { return refusal }
        return try await next(request, context)
    }
}

extension BackendHTTPServer {
    static let dashboardHeaderName = HTTPField.Name(APIAccess.dashboardHeader)!

    /// The role `token` grants, compared in constant time.
    static func role(of token: String, admin: String?, read: String?) -> APIRole? {
        if let admin, constantTimeEquals(token, admin) { return .admin }
        if let read, constantTimeEquals(token, read) { return .read }
        return nil
    }

    /// The rate-limit key of a write: its token's role when tokens are configured, else the
    /// client's address (`X-Forwarded-For`'s first address with `--trust-forwarded-for`).
    func rateLimitKey(_ request: Request, context: APIRequestContext) -> String {
        if let identity = context.identity { return "token:" + identity.role.rawValue }
        if configuration.trustForwardedFor, let forwarded = request.headers[HTTPField.Name("X-Forwarded-For")!],
           let first = forwarded.split(separator: ",").first?.trimmingCharacters(in: .whitespaces), !first.isEmpty {
            return "address:" + first
        }
        return "address:" + context.clientKey
    }

    /// A 429 when this write's key is over its rate, else nil.
    func rateLimit(_ request: Request, context: APIRequestContext) -> Response? {
        let now = ContinuousClock.now - Self.epoch
        let key = rateLimitKey(request, context: context)
        let wait = buckets.withLock { $0.take(client: key, now: Double(now.components.seconds) + Double(now.components.attoseconds) / 1e18) }
        guard let wait else { return nil }
        let seconds = max(1, Int(wait.rounded(.up)))
        let who = context.identity.map { "the \($0.role.rawValue) token" } ?? "this client"
        return JSONResponse.error(.tooManyRequests,
                                  "rate limit: \(who) sent more than \(Self.number(configuration.rate.perSecond)) writes per second (bursts of \(configuration.rate.burst)); retry after \(seconds) s",
                                  headers: [.retryAfter: "\(seconds)"])
    }

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// `GET /signin`: the sign-in form (the dashboard when no token is configured).
    func signInPage(_ request: Request, failed: Bool = false) -> Response {
        guard configuration.authRequired else { return Self.redirect(to: "/") }
        let next = Self.safeNext(request.uri.queryParameters.get("next"))
        let message = failed ? "<p class=\"error\">That token is not valid here.</p>" : ""
        let html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Warren: sign in</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>body{font:15px system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}input{width:100%;padding:.5rem;margin:.5rem 0;box-sizing:border-box}button{padding:.5rem 1rem}.error{color:#b00}</style>
            </head><body><h1>Warren</h1><p>Sign in with the backend's API token (admin) or read token.</p>\(message)
            <form method="post" action="/signin?next=\(next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/")">
            <label for="token">Token</label><input id="token" name="token" type="password" autocomplete="current-password" autofocus>
            <button id="signin" type="submit">Sign in</button></form></body></html>
            """
        return Response(status: failed ? .unauthorized : .ok, headers: [.contentType: "text/html; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// `POST /signin` (form field `token`): a valid token starts a session kept in an HttpOnly,
    /// SameSite=Strict cookie, and goes on to `next`.
    func signIn(_ request: Request, context: APIRequestContext) async -> Response {
        var request = request
        guard configuration.authRequired else { return Self.redirect(to: "/") }
        let body = (try? await request.collectBody(upTo: 4096)).map { String(buffer: $0) } ?? ""
        let token = Self.formField("token", in: body) ?? ""
        guard let role = Self.role(of: token, admin: configuration.apiToken, read: configuration.readToken) else {
            logger.notice("dashboard sign-in refused: wrong token", metadata: ["client": "\(context.clientKey)"])
            return signInPage(request, failed: true)
        }
        context.sessions.createSession(role, expiresIn: .seconds(12 * 3600))
        logger.info("dashboard sign-in", metadata: ["role": "\(role.rawValue)", "client": "\(context.clientKey)"])
        return Self.redirect(to: Self.safeNext(request.uri.queryParameters.get("next")))
    }

    /// `POST /signout`: ends the session.
    func signOut(context: APIRequestContext) -> Response {
        context.sessions.clearSession()
        return Self.redirect(to: "/signin")
    }

    /// A local path to go on to after signing in; anything else is `/`.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\") else { return "/" }
        return next
    }

    /// One field of an `application/x-www-form-urlencoded` body.
    static func formField(_ name: String, in body: String) -> String? {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.first == name else { continue }
            let value = parts.count > 1 ? parts[1] : ""
            return value.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }
}
