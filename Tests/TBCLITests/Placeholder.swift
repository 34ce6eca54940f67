import XCTest
final class CLIPlaceholderTests: XCTestCase {}
