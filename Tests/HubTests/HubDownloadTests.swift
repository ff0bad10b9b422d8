import Foundation
import XCTest
import DA3Hub
import DA3TestSupport

/// Cold download, warm cache, offline mode, revision pins and the cache layout shared with
/// huggingface_hub, against the local Hub server.
final class HubDownloadTests: HubTestCase {
    func testColdDownloadWritesTheHubCacheLayout() throws {
        let progress = ProgressLog()
        let file = try client().file(repo: "test-org/tiny", file: "model.safetensors", progress: { progress.add($1, $2) })
        XCTAssertEqual(file.source, .downloaded)
        XCTAssertEqual(file.commit, Self.mainCommit)
        let original = try Data(contentsOf: tiny.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(try Data(contentsOf: file.url), original)
        let sha = SHA256.hex(original)
        let repo = cacheDir.appendingPathComponent("models--test-org--tiny")
        XCTAssertEqual(file.url.path, repo.appendingPathComponent("snapshots/\(Self.mainCommit)/model.safetensors").path)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: file.url.path), "../../blobs/\(sha)")
        XCTAssertEqual(try String(contentsOf: repo.appendingPathComponent("refs/main"), encoding: .utf8), Self.mainCommit)
        XCTAssertEqual(progress.last?.0, Int64(original.count))
        XCTAssertEqual(progress.last?.1, Int64(original.count))
        XCTAssertFalse(cacheContents().contains { $0.hasSuffix(".incomplete") })
        // The redirect was followed to the CDN path.
        XCTAssertTrue(server.requests.contains("GET /cdn/tiny/model.safetensors"), "\(server.requests)")
    }

    func testWarmCacheHitAndNoNetworkFallback() throws {
        _ = try HubModelReference(parsing: "test-org/tiny")!.resolve(client: client())
        let before = server.requests.filter { $0.hasPrefix("GET") }.count
        let warm = try client().file(repo: "test-org/tiny", file: "model.safetensors")
        XCTAssertEqual(warm.source, .cache)
        XCTAssertEqual(server.requests.filter { $0.hasPrefix("GET") }.count, before, "a warm hit downloads nothing")
        // Server unreachable: the cached copy is used.
        server.stop()
        let offline = try client(endpoint: deadEndpoint).file(repo: "test-org/tiny", file: "model.safetensors")
        XCTAssertEqual(offline.source, .cacheOffline)
        XCTAssertEqual(offline.url, warm.url)
    }

    func testNoNetworkAndNoCacheSaysWhatToDo() throws {
        XCTAssertThrowsError(try client(endpoint: deadEndpoint).file(repo: "test-org/tiny", file: "config.json")) { error in
            guard case HubError.networkUnavailable = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("local checkpoint path"), "\(error)")
        }
    }

    func testOfflineModeWithAndWithoutCache() throws {
        XCTAssertThrowsError(try client(["HF_HUB_OFFLINE": "1"]).file(repo: "test-org/tiny", file: "model.safetensors")) { error in
            guard case HubError.offlineNotCached = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("HF_HUB_OFFLINE"), "\(error)")
        }
        XCTAssertEqual(server.requests, [], "offline mode must not touch the network")
        let online = try HubModelReference(parsing: "test-org/tiny")!.resolve(client: client())
        let count = server.requests.count
        let offline = try HubModelReference(parsing: "test-org/tiny")!.resolve(client: client(["HF_HUB_OFFLINE": "1"]))
        XCTAssertEqual(offline.directory, online.directory)
        XCTAssertEqual(offline.source, .cacheOffline)
        XCTAssertEqual(server.requests.count, count, "offline mode must not touch the network")
    }

    func testRevisionPinByTagAndCommit() throws {
        let tag = try HubModelReference(parsing: "test-org/tiny@v1")!.resolve(client: client())
        XCTAssertEqual(tag.commit, Self.v1Commit)
        XCTAssertEqual(tag.directory.lastPathComponent, Self.v1Commit)
        let repo = cacheDir.appendingPathComponent("models--test-org--tiny")
        XCTAssertEqual(try String(contentsOf: repo.appendingPathComponent("refs/v1"), encoding: .utf8), Self.v1Commit)
        XCTAssertFalse(FileManager.default.fileExists(atPath: repo.appendingPathComponent("refs/main").path))
        let byCommit = try HubModelReference(parsing: "test-org/tiny@\(Self.v1Commit)")!.resolve(client: client(["HF_HUB_OFFLINE": "1"]))
        XCTAssertEqual(byCommit.directory, tag.directory)
        // Same content, one blob: the second revision only adds a snapshot link.
        _ = try HubModelReference(parsing: "test-org/tiny")!.resolve(client: client())
        let blobs = try FileManager.default.contentsOfDirectory(atPath: repo.appendingPathComponent("blobs").path)
        XCTAssertEqual(blobs.count, 2, "\(blobs)")
    }

    func testRelativeRedirectOfARenamedRepository() throws {
        let file = try client().file(repo: "test-org/old-name", file: "config.json")
        XCTAssertEqual(try Data(contentsOf: file.url), try Data(contentsOf: tiny.appendingPathComponent("config.json")))
        XCTAssertEqual(file.commit, Self.mainCommit)
    }

    func testReferenceParsing() {
        XCTAssertEqual(HubModelReference(parsing: "depth-anything/DA3-SMALL"), HubModelReference(repo: "depth-anything/DA3-SMALL", revision: "main"))
        XCTAssertEqual(HubModelReference(parsing: "a/b@refs/pr/1")?.revision, "refs/pr/1")
        XCTAssertNil(HubModelReference(parsing: "just-a-name"))
        XCTAssertNil(HubModelReference(parsing: "a/b/c"))
        XCTAssertNil(HubModelReference(parsing: "a/b@"))
        XCTAssertNil(HubModelReference(parsing: "../x"))
        let c = HubClient(environment: HubEnvironment(["HF_ENDPOINT": "http://h/"]))
        XCTAssertEqual(c.resolveURL(repo: "a/b", revision: "refs/pr/1", file: "model.safetensors").absoluteString,
                       "http://h/a/b/resolve/refs%2Fpr%2F1/model.safetensors")
    }

    func testCacheRootFromEnvironment() {
        XCTAssertEqual(HubCache.root(environment: ["HF_HUB_CACHE": "/x/hub", "HF_HOME": "/y"]).path, "/x/hub")
        XCTAssertEqual(HubCache.root(environment: ["HF_HOME": "/y"]).path, "/y/hub")
        XCTAssertEqual(HubCache.root(environment: ["XDG_CACHE_HOME": "/z"]).path, "/z/huggingface/hub")
        XCTAssertEqual(HubCache.root(environment: [:]).path, NSHomeDirectory() + "/.cache/huggingface/hub")
        XCTAssertEqual(HubEnvironment(["HF_HOME": "/nonexistent-home"]).token, nil)
        XCTAssertEqual(HubEnvironment(["HF_TOKEN": "abc"]).token, "abc")
        XCTAssertEqual(HubEnvironment([:]).endpoint, "https://huggingface.co")
    }

    /// huggingface_hub (when installed) finds the files this client downloaded, offline.
    func testPythonHuggingFaceHubReadsOurCache() throws {
        _ = try HubModelReference(parsing: "test-org/tiny")!.resolve(client: client())
        let script = """
            from huggingface_hub import hf_hub_download
            print(hf_hub_download("test-org/tiny", "model.safetensors", cache_dir=r"\(cacheDir.path)", local_files_only=True))
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        var env = ProcessInfo.processInfo.environment
        env["HF_HUB_OFFLINE"] = "1"
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = Pipe()
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw XCTSkip("huggingface_hub is not installed") }
        XCTAssertEqual(text.trimmingCharacters(in: .whitespacesAndNewlines),
                       cacheDir.appendingPathComponent("models--test-org--tiny/snapshots/\(Self.mainCommit)/model.safetensors").path)
    }
}

/// Collects progress callbacks.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [(Int64, Int64?)] = []
    func add(_ received: Int64, _ total: Int64?) { lock.lock(); values.append((received, total)); lock.unlock() }
    var last: (Int64, Int64?)? { lock.lock(); defer { lock.unlock() }; return values.last }
}
