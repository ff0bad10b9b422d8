import DA3TestSupport
import Foundation
import XCTest

@testable import DA3Image

/// Decode + Preprocessor against the official InputProcessor goldens
/// (tools/reference/make_preprocess_goldens.py).
final class PreprocessTests: XCTestCase {
    /// Normalised tensors of the official pipeline for every shared image at 504 and 896.
    func testSharedImagesMatchOfficialPreprocessing() throws {
        let dir = try sharedImagesOrSkip()
        let goldens = try PreprocessGoldens.load()
        let std = Preprocessor.imageNetStd
        var checked = 0
        for c in goldens.cases {
            let method = try XCTUnwrap(ResizeMethod(rawValue: c.method))
            let pre = try Preprocessor(processRes: c.process_res, method: method)
            let img = try ImageDecoder.decode(fileAt: dir.appendingPathComponent(c.source))
            XCTAssertEqual(img.width, c.original_width)
            XCTAssertEqual(img.height, c.original_height)
            let size = pre.outputSize(width: img.width, height: img.height)
            XCTAssertEqual(size.width, c.width, "\(c.source)@\(c.process_res)")
            XCTAssertEqual(size.height, c.height, "\(c.source)@\(c.process_res)")
            let out = try pre.prepare(img)
            XCTAssertEqual(out.width, c.width)
            XCTAssertEqual(out.height, c.height)
            XCTAssertEqual(out.originalWidth, c.original_width)
            XCTAssertEqual(out.tensor.count, 3 * c.width * c.height)
            XCTAssertEqual(out.width % Preprocessor.patchSize, 0)
            XCTAssertEqual(out.height % Preprocessor.patchSize, 0)
            guard let golden = c.golden else {
                // Hash-only cases (only INTER_AREA involved): must be bit-exact.
                let crc = CRC32.hex(out.image.pixels)
                print("[preprocess] \(c.source) @\(c.process_res) \(c.method): \(out.width)x\(out.height) \(crc == c.crc32 ? "bit-exact" : "DIFFERS")")
                XCTAssertEqual(crc, c.crc32, "\(c.source)@\(c.process_res) \(c.method)")
                checked += 1
                continue
            }
            // The official tensor equals normalize(golden uint8) bit for bit (checked by the script).
            let ref = try ImageDecoder.decode(fileAt: Fixtures.url("preprocess/\(golden)"))
            XCTAssertEqual(CRC32.hex(ref.pixels), c.crc32)
            let expected = Preprocessor.normalize(ref)
            XCTAssertEqual(expected.count, out.tensor.count)
            let plane = c.width * c.height
            var exact = 0
            var maxDiff: Float = 0
            var maxLevels: Float = 0
            for i in 0..<expected.count {
                let d = abs(expected[i] - out.tensor[i])
                if d == 0 { exact += 1 }
                maxDiff = max(maxDiff, d)
                maxLevels = max(maxLevels, d * 255 * std[i / plane])
            }
            let frac = Double(exact) / Double(expected.count)
            print(String(format: "[preprocess] %@ @%d: %dx%d exact %.6f, max |diff| %.6g (%.3f grey levels)",
                         c.source, c.process_res, c.width, c.height, frac, maxDiff, maxLevels))
            XCTAssertLessThanOrEqual(maxLevels, 1.0001, "\(golden): more than one grey level off")
            XCTAssertGreaterThanOrEqual(frac, 0.99, "\(golden): fewer than 99% exact")
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 10)
    }

    /// Bit patterns produced by torch (ToTensor + Normalize) for a few grey levels.
    func testNormalizeIsBitwiseTorch() {
        let levels: [UInt8] = [0, 1, 2, 127, 128, 200, 254, 255]
        let torchBits: [[UInt32]] = [
            [0xc007_8bbd, 0xc006_732b, 0xc005_5a98, 0x3d69_39a6, 0x3d97_af32, 0x3fa7_4d4f, 0x400e_d58a, 0x400f_ee1d],
            [0xc002_4924, 0xc001_2a4f, 0xc000_0b79, 0x3e40_2de4, 0x3e52_1b48, 0x3fbb_9b9c, 0x401a_4ee0, 0x401b_6db7],
            [0xbfe6_f809, 0xbfe4_bcea, 0xbfe2_81cc, 0x3ed1_70bd, 0x3eda_5d3c, 0x3fd7_37ef, 0x4027_d834, 0x4028_f5c3],
        ]
        var px: [UInt8] = []
        for v in levels { px += [v, v, v] }
        let t = Preprocessor.normalize(RGBImage(width: levels.count, height: 1, pixels: px))
        for c in 0..<3 {
            for i in 0..<levels.count {
                XCTAssertEqual(t[c * levels.count + i].bitPattern, torchBits[c][i], "channel \(c) level \(levels[i])")
            }
        }
    }

    /// Sizes follow the official rounding rules.
    func testOutputSizes() throws {
        let p504 = try Preprocessor()
        XCTAssertTrue(p504.outputSize(width: 2048, height: 1362) == (504, 336))
        XCTAssertTrue(p504.outputSize(width: 766, height: 1362) == (280, 504))
        XCTAssertTrue(p504.outputSize(width: 504, height: 376) == (504, 378))  // no boundary resize, 376 -> 378
        let crop = try Preprocessor(processRes: 504, method: .upperBoundCrop)
        XCTAssertTrue(crop.outputSize(width: 504, height: 377) == (504, 364))
        let lower = try Preprocessor(processRes: 504, method: .lowerBoundResize)
        XCTAssertTrue(lower.outputSize(width: 1208, height: 680) == (896, 504))
        // round-half-even on the float64 product: 3 * (10/4) = 7.5 -> 8, 5 * (10/4) = 12.5 -> 12.
        let p10 = try Preprocessor(processRes: 10, method: .upperBoundCrop)
        XCTAssertEqual(p10.boundarySize(width: 4, height: 3)?.height, 8)
        XCTAssertEqual(p10.boundarySize(width: 4, height: 5)?.width, 8)
        XCTAssertEqual(Preprocessor.nearestMultiple(7, 14), 14)  // tie goes up
        XCTAssertEqual(Preprocessor.nearestMultiple(20, 14), 14)
        XCTAssertEqual(Preprocessor.nearestMultiple(3, 14), 1)
    }

    /// `*_crop` center-crops like PIL `crop((left, top, left + w, top + h))`.
    func testCropMethodCentersTheCrop() throws {
        var px: [UInt8] = []
        for y in 0..<30 { for x in 0..<17 { px += [UInt8(x), UInt8(y), 0] } }
        let img = RGBImage(width: 17, height: 30, pixels: px)
        let out = try Preprocessor(processRes: 30, method: .upperBoundCrop).prepare(img)
        XCTAssertEqual(out.width, 14)
        XCTAssertEqual(out.height, 28)
        XCTAssertEqual(out.image[0, 0].r, 1)  // left = (17 - 14) / 2
        XCTAssertEqual(out.image[0, 0].g, 1)  // top = (30 - 28) / 2
    }
}
