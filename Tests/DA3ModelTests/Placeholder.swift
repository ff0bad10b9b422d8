import XCTest
final class DA3ModelTestsPlaceholder: XCTestCase { func testNothing() {} }
