import Foundation
import XCTest
import DA3Hub
import DA3TestSupport

/// 401, 404 (repository, revision, file), truncated transfers and checksum mismatches: each gives
/// its own clear error and leaves nothing in the cache but refs.
final class HubFailureTests: HubTestCase {
    func testUnauthorizedWithoutAndWithToken() throws {
        XCTAssertThrowsError(try client().file(repo: "test-org/private", file: "config.json")) { error in
            XCTAssertEqual(error as? HubError, .unauthorized(repo: "test-org/private", status: 401, tokenGiven: false))
            XCTAssertTrue("\(error)".contains("HF_TOKEN"), "\(error)")
        }
        XCTAssertThrowsError(try client(["HF_TOKEN": "wrong"]).file(repo: "test-org/private", file: "config.json")) { error in
            XCTAssertEqual(error as? HubError, .unauthorized(repo: "test-org/private", status: 401, tokenGiven: true))
        }
        let file = try client(["HF_TOKEN": "secret-token"]).file(repo: "test-org/private", file: "model.safetensors")
        XCTAssertEqual(file.source, .downloaded)
        // The token file under HF_HOME works too.
        let home = cacheDir.path + "-home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try "secret-token\n".write(toFile: home + "/token", atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: home) }
        XCTAssertEqual(try client().file(repo: "test-org/private", file: "config.json").commit, Self.mainCommit)
    }

    func testNotFoundRepositoryRevisionAndFile() throws {
        XCTAssertThrowsError(try client().file(repo: "test-org/missing", file: "config.json")) {
            XCTAssertEqual($0 as? HubError, .repositoryNotFound(repo: "test-org/missing"))
        }
        XCTAssertThrowsError(try client().file(repo: "test-org/tiny", revision: "v9", file: "config.json")) {
            XCTAssertEqual($0 as? HubError, .revisionNotFound(repo: "test-org/tiny", revision: "v9"))
        }
        XCTAssertThrowsError(try client().file(repo: "test-org/tiny", file: "nope.bin")) {
            XCTAssertEqual($0 as? HubError, .fileNotFound(repo: "test-org/tiny", revision: "main", file: "nope.bin"))
        }
        XCTAssertFalse(cacheContents().contains { $0.contains("blobs/") })
    }

    func testTruncatedTransferIsRejectedAndNotCached() throws {
        XCTAssertThrowsError(try client().file(repo: "test-org/truncated", file: "model.safetensors")) { error in
            guard case let HubError.incompleteTransfer(_, received, expected) = error else { return XCTFail("\(error)") }
            XCTAssertLessThan(received, expected)
            XCTAssertTrue("\(error)".contains("run the command again"), "\(error)")
        }
        XCTAssertEqual(cacheContents().filter { $0.contains("blobs/") || $0.contains("snapshots/") && $0.hasSuffix(".safetensors") }, [])
        XCTAssertFalse(cacheContents().contains { $0.hasSuffix(".incomplete") })
    }

    func testChecksumMismatchIsRejectedAndNotCached() throws {
        XCTAssertThrowsError(try client().file(repo: "test-org/corrupt", file: "model.safetensors")) { error in
            guard case HubError.checksumMismatch = error else { return XCTFail("\(error)") }
        }
        XCTAssertFalse(cacheContents().contains { $0.contains("blobs/") })
    }
}
