// Grey images and their coarse-to-fine pyramids, the inputs of direct image alignment.

/// A grey image of Float intensities (0–255), row-major.
public struct GreyImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var pixels: [Float]

    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(pixels.count == width * height, "GreyImage: \(pixels.count) pixels for \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The luma (Rec. 601 weights) of frame `frame` of u8 RGB pixels [.., H, W, 3].
    public init(rgb: [UInt8], width: Int, height: Int, frame: Int = 0) {
        let n = width * height
        var p = [Float](repeating: 0, count: n)
        rgb.withUnsafeBufferPointer { src in
            let base = frame * n * 3
            for i in 0..<n {
                let o = base + 3 * i
                p[i] = 0.299 * Float(src[o]) + 0.587 * Float(src[o + 1]) + 0.114 * Float(src[o + 2])
            }
        }
        self.init(width: width, height: height, pixels: p)
    }

    /// Half the size, each pixel the mean of a 2×2 block (an odd last row or column is dropped).
    public func halved() -> GreyImage {
        let w = width / 2, h = height / 2
        var p = [Float](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                let i = 2 * y * width + 2 * x
                p[y * w + x] = 0.25 * (pixels[i] + pixels[i + 1] + pixels[i + width] + pixels[i + width + 1])
            }
        }
        return GreyImage(width: w, height: h, pixels: p)
    }

    /// Central differences (one-sided at the edges), in intensity per pixel.
    public func gradients() -> (x: [Float], y: [Float]) {
        var gx = [Float](repeating: 0, count: pixels.count), gy = gx
        for y in 0..<height {
            for x in 0..<width {
                let x0 = max(x - 1, 0), x1 = min(x + 1, width - 1)
                let y0 = max(y - 1, 0), y1 = min(y + 1, height - 1)
                let i = y * width + x
                if x1 > x0 { gx[i] = (pixels[y * width + x1] - pixels[y * width + x0]) / Float(x1 - x0) }
                if y1 > y0 { gy[i] = (pixels[y1 * width + x] - pixels[y0 * width + x]) / Float(y1 - y0) }
            }
        }
        return (gx, gy)
    }
}

/// One frame prepared for alignment: its pyramid (finest first) and each level's gradients.
public struct AlignmentFrame: Sendable {
    public let levels: [GreyImage]
    let gradientsX: [[Float]]
    let gradientsY: [[Float]]
    /// Root mean square gradient magnitude of the finest level, intensity levels per pixel: how
    /// much texture the frame has for alignment to lock on to.
    public let gradientRMS: Double

    /// Levels are halved while the shorter side stays at least `coarsest` pixels.
    public init(_ image: GreyImage, coarsest: Int = 16) {
        var levels = [image]
        while min(levels.last!.width, levels.last!.height) / 2 >= coarsest { levels.append(levels.last!.halved()) }
        self.levels = levels
        let g = levels.map { $0.gradients() }
        gradientsX = g.map(\.x)
        gradientsY = g.map(\.y)
        var sum = 0.0
        for i in 0..<image.pixels.count {
            sum += Double(gradientsX[0][i] * gradientsX[0][i] + gradientsY[0][i] * gradientsY[0][i])
        }
        gradientRMS = (sum / Double(max(image.pixels.count, 1))).squareRoot()
    }
}
