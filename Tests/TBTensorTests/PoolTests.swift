import XCTest
import TBCore
import TBTensor

/// Pool3D against naive loops written from PyTorch's definitions.
final class PoolTests: XCTestCase {
    static let geometries: [(String, [Int], ConvGeometry)] = [
        ("3x3x3 /2 pad 1", [2, 3, 5, 7, 6], .cube(kernel: 3, stride: 2, padding: 1)),
        ("2D 3x3 /2 pad 1 (resnet stem)", [3, 2, 1, 9, 8], ConvGeometry(kernel: (1, 3, 3), stride: (1, 2, 2), padding: (0, 1, 1))),
        ("2x2x2 /2", [1, 4, 4, 5, 3], .cube(kernel: 2, stride: 2)),
        ("1x2x2 /(1,2,2) uneven", [2, 1, 3, 7, 5], ConvGeometry(kernel: (1, 2, 2), stride: (1, 2, 2))),
        ("3x1x1 stride 1 pad (1,0,0)", [2, 2, 4, 3, 3], ConvGeometry(kernel: (3, 1, 1), padding: (1, 0, 0))),
    ]

    func testMaxPoolMatchesReference() {
        var g = SeededGenerator(seed: 3)
        var cases = Self.geometries
        cases.append(("dilated max", [2, 2, 6, 7, 7], ConvGeometry(kernel: (2, 3, 3), stride: (1, 2, 1), padding: (1, 1, 1),
                                                                  dilation: (2, 2, 1))))
        for (name, shape, geometry) in cases {
            let x = Tensor(randomNormal: shape, generator: &g)
            let (y, indices) = Pool3D.maxForward(input: x, geometry: geometry)
            let (yRef, indicesRef) = naiveMax(x, geometry)
            XCTAssertEqual(y, yRef, name)
            XCTAssertEqual(indices, indicesRef, name)
            let dy = Tensor(randomNormal: y.shape, generator: &g)
            let dx = Pool3D.maxBackward(gradOutput: dy, indices: indices, inputShape: shape)
            var dxRef = Tensor(zeros: shape)
            let planeIn = shape[2] * shape[3] * shape[4], planeOut = y.count / (shape[0] * shape[1])
            for o in 0..<dy.count { dxRef.data[o / planeOut * planeIn + Int(indicesRef[o])] += dy.data[o] }
            XCTAssertEqual(dx, dxRef, name)
        }
    }

    /// Ties go to the first maximum in window order, as PyTorch's strict comparison.
    func testMaxPoolTiesPickFirst() {
        let x = Tensor(shape: [1, 1, 1, 2, 2], repeating: 1)
        let (y, indices) = Pool3D.maxForward(input: x, geometry: .square2D(kernel: 2))
        XCTAssertEqual(y.data, [1])
        XCTAssertEqual(indices, [0])
    }

    func testAveragePoolMatchesReference() {
        var g = SeededGenerator(seed: 4)
        for (name, shape, geometry) in Self.geometries {
            let x = Tensor(randomNormal: shape, generator: &g)
            let y = Pool3D.averageForward(input: x, geometry: geometry)
            let o = geometry.outputSize(t: shape[2], h: shape[3], w: shape[4])
            let dy = Tensor(randomNormal: [shape[0], shape[1], o.t, o.h, o.w], generator: &g)
            var yRef = Tensor(zeros: dy.shape), dxRef = Tensor(zeros: shape)
            let k = Float(geometry.kernelVolume)
            forEachWindowTap(shape, geometry) { out, input in
                yRef.data[out] += x.data[input] / k
                dxRef.data[input] += dy.data[out] / k
            }
            XCTAssertEqual(y.maxRelativeDifference(yRef, floor: 1e-3), 0, accuracy: 1e-5, name)
            let dx = Pool3D.averageBackward(gradOutput: dy, inputShape: shape, geometry: geometry)
            XCTAssertEqual(dx.maxRelativeDifference(dxRef, floor: 1e-3), 0, accuracy: 1e-5, name)
        }
    }

    func testGlobalAveragePool() {
        var g = SeededGenerator(seed: 5)
        let x = Tensor(randomNormal: [3, 4, 2, 5, 3], generator: &g)
        let y = Pool3D.globalAverageForward(input: x)
        XCTAssertEqual(y.shape, [3, 4])
        for p in 0..<12 {
            let plane = x.data[p * 30..<(p + 1) * 30]
            XCTAssertEqual(y.data[p], plane.reduce(0, +) / 30, accuracy: 1e-5)
        }
        let dy = Tensor(randomNormal: [3, 4], generator: &g)
        let dx = Pool3D.globalAverageBackward(gradOutput: dy, inputShape: x.shape)
        for i in 0..<x.count { XCTAssertEqual(dx.data[i], dy.data[i / 30] / 30, accuracy: 1e-7) }
    }

    /// PyTorch's max pool: −∞ start, strict >, index of the max within its (n, c) plane.
    func naiveMax(_ x: Tensor, _ g: ConvGeometry) -> (Tensor, [Int32]) {
        let s = x.shape, o = g.outputSize(t: s[2], h: s[3], w: s[4])
        var y = Tensor(shape: [s[0], s[1], o.t, o.h, o.w], repeating: -.infinity)
        var indices = [Int32](repeating: -1, count: y.count)
        let planeIn = s[2] * s[3] * s[4]
        forEachWindowTap(s, g) { out, input in
            if x.data[input] > y.data[out] || indices[out] < 0 {
                y.data[out] = x.data[input]
                indices[out] = Int32(input % planeIn)
            }
        }
        return (y, indices)
    }

    /// Calls body(outputIndex, inputIndex) for every window tap inside the input, taps in t, h, w order.
    func forEachWindowTap(_ s: [Int], _ g: ConvGeometry, _ body: (Int, Int) -> Void) {
        let o = g.outputSize(t: s[2], h: s[3], w: s[4])
        var out = 0
        for plane in 0..<(s[0] * s[1]) {
            for ot in 0..<o.t { for oh in 0..<o.h { for ow in 0..<o.w {
                for kt in 0..<g.kernel.t { for kh in 0..<g.kernel.h { for kw in 0..<g.kernel.w {
                    let it = ot * g.stride.t - g.padding.t + kt * g.dilation.t
                    let ih = oh * g.stride.h - g.padding.h + kh * g.dilation.h
                    let iw = ow * g.stride.w - g.padding.w + kw * g.dilation.w
                    if it >= 0 && it < s[2] && ih >= 0 && ih < s[3] && iw >= 0 && iw < s[4] {
                        body(out, ((plane * s[2] + it) * s[3] + ih) * s[4] + iw)
                    }
                } } }
                out += 1
            } } }
        }
    }
}
