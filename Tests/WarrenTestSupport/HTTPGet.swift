import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `GET url`: the status and the body as text.
public func httpGet(_ url: String) async throws -> (status: Int, text: String) {
    let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
    return ((response as! HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))
}
