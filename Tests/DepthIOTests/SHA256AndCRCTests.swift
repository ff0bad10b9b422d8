import Foundation
import XCTest
@testable import DepthIO

/// CRC-32 against published check values.
final class CRC32Tests: XCTestCase {
    func testKnownValues() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([UInt8]()), 0)
        let a = Array("hello ".utf8), b = Array("world".utf8)
        XCTAssertEqual(CRC32.checksum(b, continuing: CRC32.checksum(a)), CRC32.checksum(a + b))
    }
}
