import XCTest
import TBCore
@testable import TBStream

final class JSONTests: XCTestCase {
    func testRoundTripKeepsKeyOrderAndTypes() throws {
        let text = #"{"zeta":1,"alpha":[1.5,"x",null,true],"id":"a b/c.mp4","n":-3,"f":3.0,"small":1e-05}"#
        let v = try JSON.parse(text)
        XCTAssertEqual(v.objectValue?.keys, ["zeta", "alpha", "id", "n", "f", "small"])
        XCTAssertEqual(v.objectValue?["f"], .double(3.0))
        XCTAssertEqual(v.objectValue?["n"], .int(-3))
        XCTAssertEqual(v.text, #"{"zeta":1,"alpha":[1.5,"x",null,true],"id":"a b/c.mp4","n":-3,"f":3.0,"small":1e-05}"#)
        XCTAssertEqual(try JSON.parse(v.text), v)
    }

    func testShortestDoubles() {
        XCTAssertEqual(JSON.array([.double(0.1), .double(1.0 / 3.0), .double(2)]).text, "[0.1,0.3333333333333333,2.0]")
        XCTAssertEqual(JSON.double(.nan).text, "null")
    }

    func testStringsWithEscapesAndUnicode() throws {
        let v = JSON.object(JSONObject([("id", .string("dir/v \"1\"\n\u{e9}\u{1F600}.mp4"))]))
        XCTAssertEqual(try JSON.parse(v.text), v)
    }

    func testErrors() {
        for bad in ["", "   ", "{", "{\"a\":}", "[1,2", "{\"a\":1} x", "nul", "{'a':1}"] {
            XCTAssertThrowsError(try JSON.parse(bad), bad) { e in
                XCTAssertEqual((e as? Failure)?.status, .dataError, bad)
            }
        }
        XCTAssertEqual(try JSON.parse(" null "), .null)
    }

    func testDepthLimit() {
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        XCTAssertThrowsError(try JSON.parse(deep))
    }
}
