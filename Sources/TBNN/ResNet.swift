// ResNets by ArchitectureSpec, with torchvision's parameter names so that its 2D
// checkpoints load and inflate: conv1, bn1, layerS.B.{conv1,bn1,conv2,bn2,downsample.0/1}, fc.

import TBCore
import TBTensor

/// Two 3×3 (or 3×3×3) convolutions with batch norm and an identity or 1×1 shortcut.
public final class BasicBlock: HasState {
    public let conv1: Conv, bn1: BatchNorm, conv2: Conv, bn2: BatchNorm
    public let downsample: (conv: Conv, bn: BatchNorm)?

    init(name: String, in cin: Int, out cout: Int, first: ConvGeometry, second: ConvGeometry,
         shortcutStride: (Int, Int, Int), is3D: Bool, generator: inout SeededGenerator) {
        conv1 = Conv(name: name + ".conv1", in: cin, out: cout, geometry: first, is3D: is3D, generator: &generator)
        bn1 = BatchNorm(name: name + ".bn1", channels: cout)
        conv2 = Conv(name: name + ".conv2", in: cout, out: cout, geometry: second, is3D: is3D, generator: &generator)
        bn2 = BatchNorm(name: name + ".bn2", channels: cout)
        if cin != cout || shortcutStride != (1, 1, 1) {
            downsample = (Conv(name: name + ".downsample.0", in: cin, out: cout,
                               geometry: ConvGeometry(kernel: (1, 1, 1), stride: shortcutStride), is3D: is3D,
                               generator: &generator),
                          BatchNorm(name: name + ".downsample.1", channels: cout))
        } else {
            downsample = nil
        }
    }

    public var parameters: [Parameter] {
        conv1.parameters + bn1.parameters + conv2.parameters + bn2.parameters
            + (downsample.map { $0.conv.parameters + $0.bn.parameters } ?? [])
    }
    public var buffers: [Buffer] {
        bn1.buffers + bn2.buffers + (downsample.map { $0.bn.buffers } ?? [])
    }
    var batchNorms: [BatchNorm] { [bn1, bn2] + (downsample.map { [$0.bn] } ?? []) }

    public func callAsFunction(_ x: Variable, _ tape: Tape) -> Variable {
        let y = bn2(conv2(bn1(conv1(x, tape), tape, relu: true), tape), tape)
        let shortcut = downsample.map { $0.bn($0.conv(x, tape), tape) } ?? x
        return tape.addReLU(y, shortcut)
    }
}

public final class ResNet: HasState {
    public let spec: ArchitectureSpec
    public let classes: Int
    public let conv1: Conv, bn1: BatchNorm
    /// The 2D/i3d stem's max pool; R3D has none.
    public let maxPool: ConvGeometry?
    public let stages: [[BasicBlock]]
    public let fc: Linear

    /// A freshly initialised network (torchvision's initialisation) for `classes` classes.
    public init(spec: ArchitectureSpec, classes: Int, seed: UInt64 = 0) {
        var g = SeededGenerator(seed: seed)
        self.spec = spec
        self.classes = classes
        let w = spec.width, is3D = spec.is3D
        switch spec.family {
        case .r2d:
            conv1 = Conv(name: "conv1", in: 3, out: w, geometry: .square2D(kernel: 7, stride: 2, padding: 3), is3D: false, generator: &g)
            maxPool = .square2D(kernel: 3, stride: 2, padding: 1)
        case .r3d, .i3d:
            conv1 = Conv(name: "conv1", in: 3, out: w, geometry: ConvGeometry(kernel: (3, 7, 7), stride: (1, 2, 2), padding: (1, 3, 3)),
                         is3D: true, generator: &g)
            maxPool = spec.family == .i3d ? ConvGeometry(kernel: (1, 3, 3), stride: (1, 2, 2), padding: (0, 1, 1)) : nil
        }
        bn1 = BatchNorm(name: "bn1", channels: w)
        var stages: [[BasicBlock]] = []
        var cin = w
        var dilation = 1  // temporal, for the dilated variant
        for (i, count) in spec.blocksPerStage.enumerated() {
            let cout = w << i
            let s = i == 0 ? 1 : 2
            var blocks: [BasicBlock] = []
            for b in 0..<count {
                let stride = b == 0 ? s : 1
                let grows = b == 0 && i > 0 && i >= 4 - spec.dilatedStages  // this block's first conv drops a temporal stride
                let (first, second, shortcut) = ResNet.blockGeometry(spec, stride: stride, dilation: dilation,
                                                                      nextDilation: grows ? dilation * 2 : dilation)
                blocks.append(BasicBlock(name: "layer\(i + 1).\(b)", in: b == 0 ? cin : cout, out: cout, first: first,
                                         second: second, shortcutStride: shortcut, is3D: is3D, generator: &g))
                if grows { dilation *= 2 }
            }
            stages.append(blocks)
            cin = cout
        }
        self.stages = stages
        fc = Linear(name: "fc", in: cin, out: classes, generator: &g)
    }

    /// The two convs' geometries and the shortcut stride of a block whose first conv has `stride`.
    static func blockGeometry(_ spec: ArchitectureSpec, stride s: Int, dilation d: Int, nextDilation d2: Int)
        -> (ConvGeometry, ConvGeometry, (Int, Int, Int)) {
        let dilatedStage = d > 1 || d2 > 1
        switch spec.family {
        case .r2d:
            return (.square2D(kernel: 3, stride: s, padding: 1), .square2D(kernel: 3, padding: 1), (1, s, s))
        case .r3d where dilatedStage:
            // Time keeps its length: the temporal stride becomes dilation for what follows.
            return (ConvGeometry(kernel: (3, 3, 3), stride: (1, s, s), padding: (d, 1, 1), dilation: (d, 1, 1)),
                    ConvGeometry(kernel: (3, 3, 3), padding: (d2, 1, 1), dilation: (d2, 1, 1)), (1, s, s))
        case .r3d:
            return (.cube(kernel: 3, stride: s, padding: 1), .cube(kernel: 3, padding: 1), (s, s, s))
        case .i3d:
            let second = spec.inflation == .t3x3x3 ? ConvGeometry.cube(kernel: 3, padding: 1)
                : ConvGeometry(kernel: (1, 3, 3), padding: (0, 1, 1))
            return (ConvGeometry(kernel: (3, 3, 3), stride: (1, s, s), padding: (1, 1, 1)), second, (1, s, s))
        }
    }

    public var parameters: [Parameter] {
        conv1.parameters + bn1.parameters + stages.flatMap { $0.flatMap(\.parameters) } + fc.parameters
    }
    public var buffers: [Buffer] {
        bn1.buffers + stages.flatMap { $0.flatMap(\.buffers) }
    }
    public var batchNorms: [BatchNorm] { [bn1] + stages.flatMap { $0.flatMap(\.batchNorms) } }

    /// Clips [N, 3, T, H, W] (3D) or images [N, 3, H, W] (2D) → features before pooling [N, C, T', H', W'].
    public func featureMaps(_ input: Variable, _ tape: Tape) -> Variable {
        var x = input
        if !spec.is3D {
            let s = input.shape
            x = tape.reshape(x, [s[0], s[1], 1, s[2], s[3]])
        }
        x = bn1(conv1(x, tape), tape, relu: true)
        if let maxPool { x = tape.maxPool3d(x, geometry: maxPool) }
        for stage in stages { for block in stage { x = block(x, tape) } }
        return x
    }

    /// Pooled features [N, 8·width].
    public func features(_ input: Variable, _ tape: Tape) -> Variable {
        tape.globalAvgPool(featureMaps(input, tape))
    }

    /// Logits [N, classes].
    public func callAsFunction(_ input: Variable, _ tape: Tape) -> Variable {
        fc(features(input, tape), tape)
    }
}
