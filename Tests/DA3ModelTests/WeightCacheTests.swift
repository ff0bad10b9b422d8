import Foundation
import XCTest
import DA3Kernels
import DepthAnything3
import DA3TestSupport

/// The packed-weight cache: later loads map the file, results stay bit-identical, and anything
/// stale or damaged is packed afresh instead of being trusted.
final class WeightCacheTests: XCTestCase {
    private var directory: URL!
    private var cache: WeightCache { WeightCache(directory: directory.appendingPathComponent("cache")) }

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("da3-weight-cache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A private copy of the tiny checkpoint (so tests may change it).
    private func tinyCopy() throws -> URL {
        let copy = directory.appendingPathComponent("tiny")
        try FileManager.default.copyItem(at: Fixtures.url("tiny"), to: copy)
        return copy
    }

    private func cacheFiles() throws -> [URL] {
        let dir = directory.appendingPathComponent("cache")
        return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "da3pack" }
    }

    private func depth(_ estimator: DepthEstimator) -> [Float] {
        try! estimator.network.forward(SyntheticImage.normalized(width: 56, height: 70), height: 70, width: 56).depth
    }

    func testSecondLoadMapsTheFileWithIdenticalResults() throws {
        let model = try tinyCopy().path
        var precisions: [Precision] = [.exact]
        if Precision.fastAvailable { precisions.append(.fast) }
        for precision in precisions {
            let plain = try DepthEstimator(modelPath: model, precision: precision)
            XCTAssertNil(plain.weightCacheStatus)
            let first = try DepthEstimator(modelPath: model, precision: precision, weightCache: cache)
            XCTAssertEqual(first.weightCacheStatus, .written, "\(precision)")
            let second = try DepthEstimator(modelPath: model, precision: precision, weightCache: cache)
            XCTAssertEqual(second.weightCacheStatus, .loaded, "\(precision)")
            let reference = depth(plain)
            XCTAssertEqual(depth(first), reference, "\(precision)")
            XCTAssertEqual(depth(second), reference, "\(precision)")
        }
        XCTAssertEqual(try cacheFiles().count, precisions.count, "one file per precision")
    }

    func testDamagedOrTruncatedFileIsPackedAfresh() throws {
        let model = try tinyCopy().path
        let reference = depth(try DepthEstimator(modelPath: model, weightCache: cache))
        let file = try XCTUnwrap(try cacheFiles().first)
        var bytes = try Data(contentsOf: file)
        let length = bytes.count

        let headerLength = Int(bytes[8..<16].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: bytes[16..<16 + headerLength]) as? [String: Any]
        let regions = try XCTUnwrap(header?["regions"] as? [[String: Any]])
        let firstOffset = try XCTUnwrap(regions.first?["offset"] as? Int)
        bytes[firstOffset + 10] ^= 0x40
        try bytes.write(to: file)
        let damaged = try DepthEstimator(modelPath: model, weightCache: cache)
        XCTAssertEqual(damaged.weightCacheStatus, .written)
        XCTAssertEqual(depth(damaged), reference)

        try Data(try Data(contentsOf: file).prefix(length / 2)).write(to: file)
        let truncated = try DepthEstimator(modelPath: model, weightCache: cache)
        XCTAssertEqual(truncated.weightCacheStatus, .written)
        XCTAssertEqual(depth(truncated), reference)
        XCTAssertEqual(try Data(contentsOf: file).count, length, "rewritten whole")
        XCTAssertEqual(try DepthEstimator(modelPath: model, weightCache: cache).weightCacheStatus, .loaded)
    }

    func testChangedCheckpointInvalidatesTheFile() throws {
        let copy = try tinyCopy()
        let weights = copy.appendingPathComponent("model.safetensors")
        _ = try DepthEstimator(modelPath: copy.path, weightCache: cache)
        XCTAssertEqual(try DepthEstimator(modelPath: copy.path, weightCache: cache).weightCacheStatus, .loaded)
        // Same size, new modification time: the key no longer matches.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000)],
                                              ofItemAtPath: weights.path)
        let reloaded = try DepthEstimator(modelPath: copy.path, weightCache: cache)
        XCTAssertEqual(reloaded.weightCacheStatus, .written)
        XCTAssertEqual(try cacheFiles().count, 1, "the stale file is replaced, not kept beside the new one")
    }

    func testUnwritableCacheDirectoryStillLoads() throws {
        let model = try tinyCopy().path
        let blocker = directory.appendingPathComponent("not-a-directory")
        try Data("x".utf8).write(to: blocker)
        let estimator = try DepthEstimator(modelPath: model, weightCache: WeightCache(directory: blocker))
        XCTAssertEqual(estimator.weightCacheStatus, .writeFailed)
        XCTAssertEqual(depth(estimator), depth(try DepthEstimator(modelPath: model)))
    }

    func testEnvironmentValuesSwitchTheCacheOff() {
        for value in ["off", "OFF", "none", ""] { XCTAssertNil(WeightCache.parse(value), value) }
        XCTAssertEqual(WeightCache.parse("/tmp/x")?.directory.path, "/tmp/x")
    }
}
