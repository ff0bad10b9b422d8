import Foundation
import XCTest
import DA3Hub
import DA3TestSupport

/// A running local Hub and an empty cache directory per test.
class HubTestCase: XCTestCase {
    var server: HubTestServer!
    var cacheDir: URL!
    let tiny = Fixtures.url("tiny")
    static let mainCommit = String(repeating: "1", count: 40)
    static let v1Commit = String(repeating: "2", count: 40)

    override func setUpWithError() throws {
        guard let s = HubTestServer() else { throw XCTSkip("python3 is unavailable: cannot run the local Hub server") }
        server = s
        cacheDir = FileManager.default.temporaryDirectory.appendingPathComponent("hub-cache-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        server?.stop()
        if let cacheDir { try? FileManager.default.removeItem(at: cacheDir) }
    }

    /// A client for the local server and the per-test cache, with extra environment `extra`.
    func client(_ extra: [String: String] = [:], endpoint: String? = nil) -> HubClient {
        var env = ["HF_ENDPOINT": endpoint ?? server.endpoint, "HF_HUB_CACHE": cacheDir.path, "HF_HOME": cacheDir.path + "-home",
                   "DA3_HUB_TIMEOUT": "10"]
        env.merge(extra) { $1 }
        return HubClient(environment: HubEnvironment(env))
    }

    /// An endpoint on which nothing listens (a port the kernel just gave and released).
    var deadEndpoint: String { "http://127.0.0.1:9" }

    /// Every path under the cache (relative), to prove nothing stray was left.
    func cacheContents() -> [String] {
        guard let e = FileManager.default.enumerator(atPath: cacheDir.path) else { return [] }
        return (e.allObjects as? [String] ?? []).sorted()
    }
}
