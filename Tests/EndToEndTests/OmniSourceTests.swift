// OmniSource and I3D through the programs: a 2D image network inflated into 3D scores a
// boring video exactly as it scores the image, and joint training on target videos and
// web images learns, logging each source's loss.

import Foundation
import XCTest
import TBCore
import TBStream

final class OmniSourceTests: XCTestCase {
    var dir: Scratch!

    override func setUpWithError() throws {
        dir = try Scratch()
        let r = try dir.sh("""
            tb-toyset toy --classes red_disc,green_square,blue_triangle,yellow_cross --labeled 4 --unlabeled 0 \\
                --val 4 --images 8 --untrimmed 0 --size 32x32 --frames 16 --seed 5 -q
            tb-decode -q -l toy/train_labeled.txt -o lab.tbs
            tb-decode -q -l toy/val.txt | tb-clip --clips 2 --len 8 -o val.tbs
            tb-decode -q -l toy/images.txt -o images.tbs
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func probabilities(_ jsonl: String) throws -> [String: [Double]] {
        var out: [String: [Double]] = [:]
        for line in try String(contentsOfFile: dir.file(jsonl), encoding: .utf8).split(separator: "\n") {
            guard case .object(let o) = try JSON.parse(String(line)), let id = o["id"]?.stringValue,
                  let p = o["probs"]?.arrayValue?.compactMap(\.doubleValue) else { continue }
            out[id] = p
        }
        return out
    }

    /// ALGORITHMS.md §3's fixed point, through tb-train --inflate and tb-score: a clip of
    /// one repeated image gives the inflated network (centre) the 2D network's output.
    func testInflatedNetworkScoresABoringVideoAsItsImage() throws {
        let r = try dir.sh("""
            set -e
            tb-mix --labeled images.tbs --batch 8 --len 1 --size 32 --steps 6 --seed 1 \\
              | tb-train --arch r2d10:w8 --class-names toy/classes.txt -q -o 2d.safetensors
            tb-warp --mode copy --len 8 images.tbs -o boring.tbs
            tb-score 2d.safetensors boring.tbs -q -o 2d.jsonl
            for style in 3x1x1 3x3x3; do
                tb-train --init 2d.safetensors --inflate $style --inflate-init centre --init-only -o i3d-$style.safetensors
                tb-score i3d-$style.safetensors boring.tbs -q -o i3d-$style.jsonl
            done
            tb-train --init 2d.safetensors --inflate 3x3x3 --init-only -o repeat.safetensors
            tb-score repeat.safetensors boring.tbs -q -o repeat.jsonl
            tb-info i3d-3x1x1.safetensors | grep -c 'inflated from 2D'
            tb-info i3d-3x1x1.safetensors | grep '^layer1.0.conv1.weight'
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("tb-train: inflated 2d.safetensors into i3d10:w8:3x1x1 (centre)"), r.stderr)
        XCTAssertTrue(r.stdout.contains("12\n"), r.stdout)  // the stem, 8 block convolutions, 3 shortcuts
        XCTAssertTrue(r.stdout.contains("layer1.0.conv1.weight F32 [8,8,3,3,3] 1728 inflated from 2D [8,8,3,3]"), r.stdout)
        let flat = try probabilities("2d.jsonl")
        XCTAssertEqual(flat.count, 32)
        for style in ["3x1x1", "3x3x3"] {
            let inflated = try probabilities("i3d-\(style).jsonl")
            XCTAssertEqual(Set(inflated.keys), Set(flat.keys))
            for (id, p) in flat {
                for (a, b) in zip(p, inflated[id]!) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(a, 1e-2), "\(style) \(id)") }
            }
        }
        // repeat pads time with zeros: the clip's end frames see fewer copies, so it differs.
        let repeated = try probabilities("repeat.jsonl")
        let gap = flat.map { id, p in zip(p, repeated[id]!).map { abs($0 - $1) }.max()! }.max()!
        XCTAssertGreaterThan(gap, 1e-4)
    }

    /// Target videos plus web images, two to one, web classes resampled, with mixup: each
    /// step logs both losses, and the network beats chance on the validation videos.
    func testJointTrainingLogsEachSourceAndLearns() throws {
        let r = try dir.sh("""
            set -e
            tb-warp --mode translate --len 8 --seed 1 images.tbs -o web.tbs
            tb-mix lab.tbs --aux web.tbs --batch 8 --ratio 2:1 --resample-power 0.2 --mixup 0.2 --len 8 --steps 40 --seed 1 \\
              | tb-train --arch r3d10:w8 --class-names toy/classes.txt --lr 0.003 --log joint.jsonl -q -o joint.safetensors
            tb-score joint.safetensors val.tbs -q -o pred.jsonl
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
        let steps = try String(contentsOfFile: dir.file("joint.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try? JSON.parse(String($0)).objectValue }.filter { $0["event"]?.stringValue == "step" }
        XCTAssertEqual(steps.count, 40)
        for s in steps {
            let ce = s["ce"]!.doubleValue!, aux = s["ce_aux"]!.doubleValue!, total = s["loss"]!.doubleValue!
            XCTAssertEqual(total, ce + aux, accuracy: 1e-4 * total)
        }
        func mean(_ key: String, _ range: Range<Int>) -> Double {
            range.map { steps[$0][key]!.doubleValue! }.reduce(0, +) / Double(range.count)
        }
        XCTAssertLessThan(mean("ce_aux", 30..<40), mean("ce_aux", 0..<10), "the web images' loss falls")
        var right = 0, total = 0
        for line in try String(contentsOfFile: dir.file("pred.jsonl"), encoding: .utf8).split(separator: "\n") {
            let o = try JSON.parse(String(line)).objectValue!
            if o["label"]?.intValue == o["pred"]?.intValue { right += 1 }
            total += 1
        }
        XCTAssertEqual(total, 16)
        XCTAssertGreaterThanOrEqual(Double(right) / Double(total), 0.5, "4 classes: chance is 0.25")
    }
}
