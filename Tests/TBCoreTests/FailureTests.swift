import XCTest
@testable import TBCore

final class FailureTests: XCTestCase {
    func testDescriptionNamesThePlace() {
        let f = Failure(.dataError, "bad magic", file: "a.tbs", record: 3, offset: 128)
        XCTAssertEqual(f.description, "a.tbs: record 3 (byte 128): bad magic")
        XCTAssertEqual(Failure(.dataError, "x", file: "l.txt", line: 2).description, "l.txt: line 2: x")
        XCTAssertEqual(Failure.data("y").at(file: "f", record: 1).description, "f: record 1: y")
    }

    func testSeededGeneratorIsDeterministic() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let xa = (0..<5).map { _ in a.next() }
        XCTAssertEqual(xa, (0..<5).map { _ in b.next() })
        XCTAssertNotEqual(xa, (0..<5).map { _ in c.next() })
        var g = SeededGenerator(seed: 1)
        let u = (0..<1000).map { _ in g.nextUnitFloat() }
        XCTAssertTrue(u.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(u.reduce(0, +) / 1000, 0.5, accuracy: 0.05)
    }
}
