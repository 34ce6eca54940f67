import XCTest
final class VideoPlaceholderTests: XCTestCase {}
