import Foundation

/// The Hub settings huggingface_hub reads from the environment.
public struct HubEnvironment: Sendable {
    /// Base URL (`HF_ENDPOINT`, default `https://huggingface.co`), without a trailing slash.
    public var endpoint: String
    /// Access token (`HF_TOKEN`, else the file `$HF_HOME/token`), if any.
    public var token: String?
    /// `HF_HUB_OFFLINE` is 1/true/yes/on: never touch the network.
    public var offline: Bool
    /// The Hub cache root (see ``HubCache/root(environment:)``).
    public var cacheRoot: URL
    /// Request timeout in seconds (`DA3_HUB_TIMEOUT`, default 30).
    public var timeout: TimeInterval

    /// Settings from `variables` (the process environment by default).
    public init(_ variables: [String: String] = ProcessInfo.processInfo.environment) {
        func nonEmpty(_ key: String) -> String? { variables[key].flatMap { $0.isEmpty ? nil : $0 } }
        var endpoint = nonEmpty("HF_ENDPOINT") ?? "https://huggingface.co"
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        self.endpoint = endpoint
        offline = ["1", "true", "yes", "on"].contains((variables["HF_HUB_OFFLINE"] ?? "").lowercased())
        cacheRoot = HubCache.root(environment: variables)
        timeout = nonEmpty("DA3_HUB_TIMEOUT").flatMap(Double.init) ?? 30
        if let t = nonEmpty("HF_TOKEN") {
            token = t
        } else {
            let path = nonEmpty("HF_TOKEN_PATH") ?? HubCache.home(environment: variables).appendingPathComponent("token").path
            let text = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            token = (text?.isEmpty ?? true) ? nil : text
        }
    }
}
