import DA3Image
import Foundation
import XCTest
@testable import DepthIO

/// CRC-32, percentiles, colour maps, resampling and atomic writes.
final class HelperTests: XCTestCase {
    func testCRC32KnownValues() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([UInt8]()), 0)
        let a = Array("hello ".utf8), b = Array("world".utf8)
        XCTAssertEqual(CRC32.checksum(b, continuing: CRC32.checksum(a)), CRC32.checksum(a + b))
        XCTAssertEqual(Readers.crc32(ArraySlice(a + b)), CRC32.checksum(a + b))
    }

    func testPercentileMatchesNumpyLinear() {
        XCTAssertEqual(percentile([1, 2, 3, 4], 50), 2.5)
        XCTAssertEqual(percentile([4, 1, 3, 2], 0), 1)
        XCTAssertEqual(percentile([4, 1, 3, 2], 100), 4)
        XCTAssertEqual(percentile([0, 10], 40), 4, accuracy: 1e-6)
    }

    /// Endpoints against matplotlib's tables: spectral is exact (same construction); viridis and
    /// inferno are degree-6 fits (within 5 levels); turbo's published polynomial is coarser at its
    /// ends (within 35 levels there, exact in hue).
    func testColorMapEndpoints() {
        func near(_ c: (UInt8, UInt8, UInt8), _ e: (Int, Int, Int), _ name: String) {
            let tol = name.hasPrefix("turbo") ? 35 : name.hasPrefix("spectral") ? 1 : 5
            XCTAssertLessThanOrEqual(abs(Int(c.0) - e.0), tol, name); XCTAssertLessThanOrEqual(abs(Int(c.1) - e.1), tol, name)
            XCTAssertLessThanOrEqual(abs(Int(c.2) - e.2), tol, name)
        }
        near(ColorMap.viridis.table[0], (68, 1, 84), "viridis 0"); near(ColorMap.viridis.table[255], (253, 231, 37), "viridis 1")
        near(ColorMap.inferno.table[0], (0, 0, 4), "inferno 0"); near(ColorMap.inferno.table[255], (252, 255, 164), "inferno 1")
        near(ColorMap.turbo.table[0], (48, 18, 59), "turbo 0"); near(ColorMap.turbo.table[255], (122, 4, 3), "turbo 1")
        near(ColorMap.spectral.table[0], (158, 1, 66), "spectral 0"); near(ColorMap.spectral.table[255], (94, 79, 162), "spectral 1")
        near(ColorMap.spectral.table[128], (254, 254, 190), "spectral mid")
        XCTAssertTrue(ColorMap.gray.table.enumerated().allSatisfy { $0.element.0 == UInt8($0.offset) })
    }

    func testBilinearResizeKeepsConstantsAndInterpolates() {
        XCTAssertEqual(FloatMapResize.bilinear([Float](repeating: 3, count: 6), width: 3, height: 2, newWidth: 7, newHeight: 5),
                       [Float](repeating: 3, count: 35))
        // A horizontal ramp 0,1 upsampled x2: centres at -0.25, 0.25, 0.75, 1.25 -> 0, 0.25, 0.75, 1.
        XCTAssertEqual(FloatMapResize.bilinear([0, 1], width: 2, height: 1, newWidth: 4, newHeight: 1), [0, 0.25, 0.75, 1])
    }

    func testAtomicWriteLeavesNoTemporaryFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try AtomicFile.write(Data("a".utf8), to: dir.appendingPathComponent("x.bin"))
        try AtomicFile.write(Data("bb".utf8), to: dir.appendingPathComponent("x.bin"))
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("x.bin")), Data("bb".utf8))
        XCTAssertThrowsError(try AtomicFile.write(Data("c".utf8), to: dir.appendingPathComponent("missing/x.bin"))) {
            XCTAssertTrue("\($0)".contains("missing/x.bin"))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["x.bin"])
    }
}
