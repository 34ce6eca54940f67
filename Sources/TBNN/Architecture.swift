// Architectures by name (DESIGN.md §4): "r2d18", "r3d18:w16", "r3ds", "i3d10:w8:3x3x3",
// "r3d18:w16:dilated". The spec string is what checkpoints record in `__metadata__`.

import TBCore

public struct ArchitectureSpec: Equatable, Sendable, CustomStringConvertible {
    public enum Family: String, Sendable {
        /// 2D ResNet, torchvision's layout (7×7 stem, max pool, BasicBlocks).
        case r2d
        /// 3D ResNet with the R3D stem (3×7×7, no max pool); stages stride 2 on every axis.
        case r3d
        /// A 2D ResNet inflated to 3D (I3D): 2D layout and strides, kernels gain time.
        case i3d
    }

    /// How an i3d network's 3×3 kernels gain time.
    public enum InflationStyle: String, Sendable {
        /// The first conv of each block is 3×3×3, the second 1×3×3.
        case t3x1x1 = "3x1x1"
        /// Every 3×3 becomes 3×3×3.
        case t3x3x3 = "3x3x3"
    }

    public var family: Family
    /// Blocks per stage: 10 → [1,1,1,1], 18 → [2,2,2,2].
    public var depth: Int
    /// Channels of the stem and first stage; stages double it.
    public var width: Int
    public var inflation: InflationStyle
    /// How many of the last stages trade their temporal stride for temporal dilation
    /// (0–3), so the final map keeps S time steps for the temporally-distinctive
    /// objective (ALGORITHMS.md §1.1): `:dilated` is the last stage, `:dilated2` two.
    public var dilatedStages: Int
    public var dilated: Bool { dilatedStages > 0 }

    public init(family: Family, depth: Int, width: Int = 64, inflation: InflationStyle = .t3x1x1,
                dilatedStages: Int = 0) {
        self.family = family
        self.depth = depth
        self.width = width
        self.inflation = inflation
        self.dilatedStages = dilatedStages
    }

    /// Parses `name[:wN][:3x1x1|:3x3x3][:dilated[N]]`; `r3ds` is the benchmark net, r3d10:w16.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":").map(String.init)
        guard let name = parts.first else { throw Failure.usage("empty architecture name") }
        let known = "r2d10, r2d18, r3d10, r3d18, r3ds, i3d10, i3d18"
        if name == "r3ds" {
            self.init(family: .r3d, depth: 10, width: 16)
        } else {
            guard name.count == 5, let family = Family(rawValue: String(name.prefix(3))),
                  let depth = Int(name.dropFirst(3)), depth == 10 || depth == 18 else {
                throw Failure.usage("unknown architecture '\(name)' (known: \(known))")
            }
            self.init(family: family, depth: depth)
        }
        for option in parts.dropFirst() {
            if option.hasPrefix("w"), let w = Int(option.dropFirst()), w >= 1, w <= 4096 {
                width = w
            } else if let style = InflationStyle(rawValue: option), family == .i3d {
                inflation = style
            } else if option.hasPrefix("dilated"), family == .r3d,
                      let n = option == "dilated" ? 1 : Int(option.dropFirst(7)), (1...3).contains(n) {
                dilatedStages = n
            } else {
                throw Failure.usage("architecture option '\(option)' is not wN, 3x1x1/3x3x3 (i3d) or dilated[1-3] (r3d) in '\(text)'")
            }
        }
    }

    public var blocksPerStage: [Int] { depth == 10 ? [1, 1, 1, 1] : [2, 2, 2, 2] }
    public var is3D: Bool { family != .r2d }
    public var featureWidth: Int { width * 8 }

    public var description: String {
        var s = "\(family.rawValue)\(depth):w\(width)"
        if family == .i3d { s += ":" + inflation.rawValue }
        if dilatedStages == 1 { s += ":dilated" } else if dilatedStages > 1 { s += ":dilated\(dilatedStages)" }
        return s
    }
}
