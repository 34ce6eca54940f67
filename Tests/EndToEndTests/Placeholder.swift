import XCTest
final class E2EPlaceholderTests: XCTestCase {}
