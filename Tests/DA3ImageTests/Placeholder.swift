import XCTest
final class DA3ImageTestsPlaceholder: XCTestCase { func testNothing() {} }
