// A whole small network — conv → batch norm → relu → max pool → global pool → linear →
// cross-entropy — checked end to end, and trained until it fits its batch.

import XCTest
import TBCore
import TBTensor
import TBNN

/// The parameters and buffers of a one-block 3D conv net with a classifier.
private struct TinyNet {
    let conv, gamma, beta, fcWeight, fcBias: Parameter
    let runningMean, runningVar: Buffer
    static let convGeometry = ConvGeometry.cube(kernel: 3, padding: 1)
    static let poolGeometry = ConvGeometry(kernel: (1, 2, 2), stride: (1, 2, 2))

    init(inChannels: Int, width: Int, classes: Int, seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        conv = Parameter(name: "conv1.weight", value: Tensor(randomUniform: [width, inChannels, 3, 3, 3],
                                                             bound: 0.2, generator: &g))
        gamma = Parameter(name: "bn1.weight", value: Tensor(shape: [width], repeating: 1))
        beta = Parameter(name: "bn1.bias", value: Tensor(zeros: [width]))
        fcWeight = Parameter(name: "fc.weight", value: Tensor(randomUniform: [classes, width], bound: 0.3, generator: &g))
        fcBias = Parameter(name: "fc.bias", value: Tensor(zeros: [classes]))
        runningMean = Buffer(name: "bn1.running_mean", value: Tensor(zeros: [width]))
        runningVar = Buffer(name: "bn1.running_var", value: Tensor(shape: [width], repeating: 1))
    }

    var parameters: [Parameter] { [conv, gamma, beta, fcWeight, fcBias] }

    /// Batch-normalised conv features [N, W, T, H, W]: what relu and max pool act on.
    func features(_ t: Tape, _ x: Variable, _ v: [Variable]) -> Variable {
        let h = t.conv3d(x, weight: v[0], geometry: TinyNet.convGeometry)               // [N, W, T, H, W]
        return t.batchNorm(h, gamma: v[1], beta: v[2], runningMean: runningMean, runningVar: runningVar)
    }

    /// Logits [N, classes] of clips x [N, C, T, H, W]; `v` = conv, γ, β, fc weight, fc bias.
    func logits(_ t: Tape, _ x: Variable, _ v: [Variable]) -> Variable {
        let p = t.maxPool3d(t.relu(features(t, x, v)), geometry: TinyNet.poolGeometry)  // [N, W, T, H/2, W/2]
        return t.linear(t.globalAvgPool(p), weight: v[3], bias: v[4])                   // [N, classes]
    }

    /// How far the features of `x` lie from a kink: the smallest |feature| (relu) and the
    /// smallest gap between a 2×2 pooling window's two largest positive values (max pool).
    func kinkMargin(_ x: Tensor) -> Float {
        let t = Tape(recording: false, training: true)
        let f = features(t, t.constant(x), parameters.map { t.constant($0.value) }).value
        var margin = f.data.map(abs).min() ?? 0
        let h = f.shape[3], w = f.shape[4], planes = f.count / (h * w)
        for p in 0..<planes {
            for i in stride(from: 0, to: h, by: 2) {
                for j in stride(from: 0, to: w, by: 2) {
                    let window = [0, 1, w, w + 1].map { max(f.data[p * h * w + i * w + j + $0], 0) }.sorted()
                    if window[3] > 0 { margin = min(margin, window[3] - window[2]) }
                }
            }
        }
        return margin
    }
}

final class NetworkGradientTests: XCTestCase {
    func testWholeNetworkGradients() {
        let net = TinyNet(inChannels: 2, width: 3, classes: 3, seed: 107)
        let x = randomTensor([2, 2, 2, 4, 4], seed: 207)
        let labels = [2, 0]
        // Relu and max pool have kinks, and a step that carries a feature across one spoils
        // that difference. These inputs keep every feature 0.019 from a kink; a step of 1e-2
        // on x moves features by ~4e-3, one of 1e-3 on the conv weight (which moves every
        // feature of its channel) by ~3e-3. The other inputs take 1e-2, since the loss is a
        // float32 scalar whose rounding swamps differences over smaller steps.
        XCTAssertGreaterThan(net.kinkMargin(x), 0.015)
        let inputs = [x] + net.parameters.map(\.value)
        let loss = { (t: Tape, v: [Variable]) in t.crossEntropy(net.logits(t, v[0], Array(v[1...])), labels: labels) }
        let coarse = GradientCheck.run(inputs: inputs, step: 1e-2, loss)
        let fine = GradientCheck.run(inputs: inputs, step: 1e-3, loss)
        assertGradientsMatch([coarse[0]], tolerance: 1e-2, "network: input")
        assertGradientsMatch([fine[1]], tolerance: 1e-2, "network: conv weight")
        assertGradientsMatch(Array(coarse[2...]), tolerance: 1e-2, "network: bn and fc")
    }

    func testTinyConvNetOverfitsItsBatch() {
        let net = TinyNet(inChannels: 3, width: 8, classes: 3, seed: 62)
        let x = randomTensor([6, 3, 2, 6, 6], seed: 63)
        let labels = [0, 1, 2, 2, 1, 0]
        var first: Float = 0, last: Float = 0
        for step in 0..<150 {
            let t = Tape()
            let loss = t.crossEntropy(net.logits(t, t.constant(x), net.parameters.map { t.parameter($0) }),
                                      labels: labels)
            t.backward(loss)
            sgdStep(net.parameters, learningRate: 0.2)
            if step == 0 { first = loss.value.scalar }
            last = loss.value.scalar
        }
        XCTAssertGreaterThan(first, 0.8)
        XCTAssertLessThan(last, 0.02)
        // Evaluation (running statistics, nothing recorded) still classifies the batch.
        let t = Tape(recording: false)
        let logits = net.logits(t, t.constant(x), net.parameters.map { t.parameter($0) })
        XCTAssertEqual(t.recordedCount, 0)
        for (i, label) in labels.enumerated() {
            let row = Array(logits.value.data[(i * 3)..<(i * 3 + 3)])
            XCTAssertEqual(row.firstIndex(of: row.max() ?? 0), label, "sample \(i)")
        }
    }
}
