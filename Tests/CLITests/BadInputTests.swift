import Foundation
import XCTest
import DA3TestSupport
import SafeTensors

/// Every kind of bad input gives a one-line error naming the file and the cause, a non-zero exit
/// status, and leaves no output (or temporary) file behind.
final class BadInputTests: TemporaryDirectoryTestCase {
    let tinyDir = Fixtures.url("tiny")

    var goodImage: String {
        get throws {
            let demo = Fixtures.sharedImages.appendingPathComponent("demo02_portrait.jpg")
            guard FileManager.default.fileExists(atPath: demo.path) else { throw XCTSkip("../shared/images is absent") }
            return demo.path
        }
    }

    /// Runs `da3 depth` writing all three outputs into the temp dir and checks the failure contract.
    func expectFailure(image: String, model: String, extra: [String] = [], environment: [String: String] = [:],
                       mentions: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try leftovers()
        let r = try CLIRunner.run(["depth", image, "--model", model, "--output", path("out.npy"),
                                   "--confidence", path("conf.npy"), "--intrinsics", path("k.json")] + extra,
                                  environment: environment)
        XCTAssertNotEqual(r.status, 0, "expected failure", file: file, line: line)
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        XCTAssertEqual(lines.count, 1, "stderr should be one line: \(r.stderr)", file: file, line: line)
        for m in mentions { XCTAssertTrue(r.stderr.contains(m), "stderr '\(r.stderr)' lacks '\(m)'", file: file, line: line) }
        XCTAssertEqual(try leftovers(), before, "output or temporary files left behind", file: file, line: line)
    }

    // MARK: images

    func testMissingImage() throws {
        try expectFailure(image: path("nope.jpg"), model: tinyDir.path, mentions: ["nope.jpg", "no such file"])
    }

    func testTruncatedJPEG() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: try goodImage))
        try data.prefix(data.count / 3).write(to: URL(fileURLWithPath: path("cut.jpg")))
        try expectFailure(image: path("cut.jpg"), model: tinyDir.path, mentions: ["cut.jpg", "truncated"])
    }

    func testTruncatedPNG() throws {
        let png = Fixtures.sharedImages.appendingPathComponent("soh_000.png")
        guard FileManager.default.fileExists(atPath: png.path) else { throw XCTSkip("../shared/images is absent") }
        let data = try Data(contentsOf: png)
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path("cut.png")))
        try expectFailure(image: path("cut.png"), model: tinyDir.path, mentions: ["cut.png"])
    }

    func testNonImageFile() throws {
        try Data("just some text, not a picture\n".utf8).write(to: URL(fileURLWithPath: path("notes.jpg")))
        try expectFailure(image: path("notes.jpg"), model: tinyDir.path, mentions: ["notes.jpg", "not a JPEG or PNG"])
    }

    func testEmptyFile() throws {
        try Data().write(to: URL(fileURLWithPath: path("empty.png")))
        try expectFailure(image: path("empty.png"), model: tinyDir.path, mentions: ["empty.png", "empty"])
    }

    // MARK: process_res

    func testProcessResThatCannotWork() throws {
        for res in ["0", "-14", "5", "100000"] {
            try expectFailure(image: try goodImage, model: tinyDir.path, extra: ["--process-res=\(res)"], mentions: ["process"])
        }
    }

    func testUnknownResizeMethod() throws {
        try expectFailure(image: try goodImage, model: tinyDir.path, extra: ["--process-res-method", "squash"], mentions: ["squash"])
    }

    // MARK: checkpoints

    /// Writes a copy of the tiny checkpoint (and its config.json) with `edit` applied to the entries.
    func tamperedCheckpoint(_ edit: (inout [SafeTensorsWriter.Entry]) -> Void) throws -> String {
        let file = try SafeTensorsFile(url: tinyDir.appendingPathComponent("model.safetensors"))
        var entries = file.tensors.keys.sorted().map { name -> SafeTensorsWriter.Entry in
            let info = file.tensors[name]!
            let bytes = file.rawBytes(info) { Array($0) }
            return SafeTensorsWriter.Entry(name: name, dtype: info.dtype, shape: info.shape, bytes: bytes)
        }
        edit(&entries)
        let dir = tempDir.appendingPathComponent("ckpt")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try SafeTensorsWriter.write(entries, to: dir.appendingPathComponent("model.safetensors"))
        try FileManager.default.copyItem(at: tinyDir.appendingPathComponent("config.json"), to: dir.appendingPathComponent("config.json"))
        return dir.path
    }

    func testCheckpointMissingTensor() throws {
        let key = "model.backbone.pretrained.blocks.3.mlp.fc1.bias"
        let model = try tamperedCheckpoint { $0.removeAll { $0.name == key } }
        try expectFailure(image: try goodImage, model: model, mentions: ["model.safetensors", "missing tensor", key])
    }

    func testCheckpointExtraTensor() throws {
        let key = "model.backbone.pretrained.blocks.3.mlp.fc3.weight"
        let model = try tamperedCheckpoint { $0.append(.init(name: key, shape: [2], values: [1, 2])) }
        try expectFailure(image: try goodImage, model: model, mentions: ["model.safetensors", "unexpected tensor", key])
    }

    func testCheckpointWrongShape() throws {
        let key = "model.head.scratch.layer2_rn.weight"
        let model = try tamperedCheckpoint { entries in
            let i = entries.firstIndex { $0.name == key }!
            let e = entries[i]
            entries[i] = .init(name: key, dtype: e.dtype, shape: [e.shape[0] / 2, e.shape[1] * 2] + e.shape[2...], bytes: e.bytes)
        }
        try expectFailure(image: try goodImage, model: model, mentions: ["model.safetensors", key, "shape"])
    }

    func testCorruptHeader() throws {
        let dir = tempDir.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var bytes: [UInt8] = [64, 0, 0, 0, 0, 0, 0, 0]
        bytes += Array("{\"model.x\": {\"dtype\": \"F32\", \"sha".utf8)
        bytes += [UInt8](repeating: 0x20, count: 72 - bytes.count)
        try Data(bytes).write(to: dir.appendingPathComponent("model.safetensors"))
        try expectFailure(image: try goodImage, model: dir.path, mentions: ["model.safetensors", "corrupt header"])
    }

    // MARK: environment

    /// OpenBLAS is loaded at run time: without it the engine says so (and why) instead of crashing.
    func testMissingBLASLibrary() throws {
        let missing = path("no-such-libopenblas.so.0")
        try expectFailure(image: try goodImage, model: tinyDir.path, environment: ["DA3_BLAS_LIBRARY": missing],
                          mentions: ["BLAS could not be loaded", missing, "libopenblas0"])
    }

    func testMissingCheckpoint() throws {
        try expectFailure(image: try goodImage, model: path("no-model"), mentions: ["no-model", "no such file"])
    }

    func testOutputDirectoryMissing() throws {
        let r = try CLIRunner.run(["depth", try goodImage, "--model", tinyDir.path, "--output", path("sub/out.npy")])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("sub/out.npy"), r.stderr)
        XCTAssertEqual(try leftovers(), [])
    }
}
