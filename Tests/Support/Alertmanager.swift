import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Reading a real Alertmanager's API in tests.
public enum AlertmanagerAPI {
    /// The body of a 200 answer to a GET, or nil.
    public static func get(_ url: String, timeout: TimeInterval = 5) async -> Data? {
        var request = URLRequest(url: URL(string: url)!, timeoutInterval: timeout)
        request.httpMethod = "GET"
        guard let (data, response) = try? await URLSession.shared.data(for: request),
            (response as? HTTPURLResponse)?.statusCode == 200
        else { return nil }
        return data
    }

    /// Every alert Alertmanager holds as active (silenced, inhibited and unprocessed included);
    /// resolved alerts are not listed. Nil when it does not answer.
    public static func alerts(_ base: String) async -> [[String: Any]]? {
        guard let data = await get(base + "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true")
        else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]]
    }
}
