// Spatial and colour augmentation of u8 RGB clips, with one draw of parameters per clip
// so that every frame of a clip is cropped, flipped and coloured alike (a clip must stay a
// plausible video). The parameters follow torchvision's RandomResizedCrop, RandomHorizontalFlip,
// ColorJitter and RandomGrayscale, which TimeBalance's and TCLR's code use. Colour jitter
// runs brightness, contrast, saturation and hue (a rotation of the chroma plane in YIQ, cheaper
// than HSV and as good for augmentation) in that fixed order, clamping after each as
// torchvision does.

import Foundation
import TBCore

/// What an augmentation may do; draw concrete parameters with `draw(width:height:using:)`.
public struct AugmentOptions: Equatable, Sendable {
    /// Output frames are `size`×`size`.
    public var size: Int
    /// Crop area as a fraction of the frame, drawn uniformly from this range.
    public var scale: ClosedRange<Double>
    /// Crop aspect ratio, drawn log-uniformly from this range.
    public var ratio: ClosedRange<Double>
    /// Probability of a horizontal flip.
    public var flip: Double
    /// Probability of colour jitter, and its strengths: brightness, contrast and saturation
    /// factors are drawn from [1 - x, 1 + x], the hue shift from [-hue, hue] turns.
    public var jitter: Double
    public var brightness: Double
    public var contrast: Double
    public var saturation: Double
    public var hue: Double
    /// Probability of turning the clip grey.
    public var grayscale: Double

    /// TCLR's training augmentation at `size` pixels.
    public init(size: Int, scale: ClosedRange<Double> = 0.5...1, ratio: ClosedRange<Double> = (3.0 / 4)...(4.0 / 3),
                flip: Double = 0.5, jitter: Double = 0.8, brightness: Double = 0.4, contrast: Double = 0.4,
                saturation: Double = 0.4, hue: Double = 0.1, grayscale: Double = 0.2) {
        self.size = size
        self.scale = scale
        self.ratio = ratio
        self.flip = flip
        self.jitter = jitter
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue
        self.grayscale = grayscale
    }

    /// No randomness: the centre `fraction` of the frame's shorter side, resized (test time).
    public static func centre(size: Int, fraction: Double = 1) -> AugmentOptions {
        AugmentOptions(size: size, scale: (fraction * fraction)...(fraction * fraction), ratio: 1...1, flip: 0,
                       jitter: 0, grayscale: 0)
    }
}

/// One clip's augmentation: a crop box, a flip and a colour map.
public struct Augmentation: Equatable, Sendable {
    /// Crop box in source pixels (may be fractional).
    public var x: Double, y: Double, width: Double, height: Double
    public var flip: Bool
    /// Colour factors (1 = unchanged), hue shift in turns, grey.
    public var brightness = 1.0, contrast = 1.0, saturation = 1.0, hue = 0.0
    public var gray = false
    public var size: Int

    /// The identity on a `size`×`size` frame.
    public init(size: Int, x: Double = 0, y: Double = 0, width: Double? = nil, height: Double? = nil, flip: Bool = false) {
        self.size = size
        self.x = x
        self.y = y
        self.width = width ?? Double(size)
        self.height = height ?? Double(size)
        self.flip = flip
    }
}

extension AugmentOptions {
    /// Draws one clip's parameters for frames of `width`×`height`.
    public func draw<G: RandomNumberGenerator>(width w: Int, height h: Int, using g: inout G) -> Augmentation {
        let (W, H) = (Double(w), Double(h))
        var a = Augmentation(size: size)
        var placed = false
        if scale.lowerBound == scale.upperBound && ratio.lowerBound == 1 && ratio.upperBound == 1 {
            // Centre crop of the shorter side.
            let side = min(W, H) * scale.lowerBound.squareRoot()
            (a.x, a.y, a.width, a.height) = ((W - side) / 2, (H - side) / 2, side, side)
            placed = true
        }
        // torchvision's RandomResizedCrop: ten tries at a box that fits, else the centre.
        for _ in 0..<10 where !placed {
            let area = W * H * Double.random(in: scale, using: &g)
            let logRatio = Double.random(in: log(ratio.lowerBound)...log(ratio.upperBound), using: &g)
            let r = exp(logRatio)
            let cw = (area * r).squareRoot(), ch = (area / r).squareRoot()
            guard cw <= W, ch <= H, cw >= 1, ch >= 1 else { continue }
            let cwi = cw.rounded(), chi = ch.rounded()
            a.x = Double(Int.random(in: 0...Int(W - cwi), using: &g))
            a.y = Double(Int.random(in: 0...Int(H - chi), using: &g))
            (a.width, a.height) = (cwi, chi)
            placed = true
        }
        if !placed {
            let inRatio = W / H
            let (cw, ch) = inRatio < ratio.lowerBound ? (W, W / ratio.lowerBound)
                : inRatio > ratio.upperBound ? (H * ratio.upperBound, H) : (W, H)
            (a.x, a.y, a.width, a.height) = ((W - cw) / 2, (H - ch) / 2, cw, ch)
        }
        a.flip = flip > 0 && Double.random(in: 0..<1, using: &g) < flip
        if jitter > 0 && Double.random(in: 0..<1, using: &g) < jitter {
            func factor(_ x: Double) -> Double { x > 0 ? Double.random(in: max(0, 1 - x)...(1 + x), using: &g) : 1 }
            a.brightness = factor(brightness)
            a.contrast = factor(contrast)
            a.saturation = factor(saturation)
            a.hue = hue > 0 ? Double.random(in: -hue...hue, using: &g) : 0
        }
        a.gray = grayscale > 0 && Double.random(in: 0..<1, using: &g) < grayscale
        return a
    }
}

extension Augmentation {
    /// Applies the augmentation to `frames` consecutive `width`×`height` RGB frames at `source`,
    /// writing `frames` `size`×`size` frames at `destination` (bilinear resampling).
    public func apply(frames: Int, width w: Int, height h: Int, source: UnsafePointer<UInt8>,
                      destination: UnsafeMutablePointer<UInt8>) {
        let s = size
        // Sample positions (pixel centres) of the output grid in the source, per column and row.
        func taps(_ n: Int, start: Double, length: Double, limit: Int) -> [(Int, Int, Float)] {
            (0..<n).map { i in
                let p = start + (Double(i) + 0.5) * length / Double(n) - 0.5
                let c = min(max(p, 0), Double(limit - 1))
                let i0 = Int(c.rounded(.down)), i1 = min(i0 + 1, limit - 1)
                return (i0, i1, Float(c - Double(i0)))
            }
        }
        var columns = taps(s, start: x, length: width, limit: w)
        if flip { columns.reverse() }
        let rows = taps(s, start: y, length: height, limit: h)
        let frameIn = w * h * 3, frameOut = s * s * 3
        var plane = [Float](repeating: 0, count: frameOut)
        for f in 0..<frames {
            let src = source + f * frameIn
            plane.withUnsafeMutableBufferPointer { p in
                for (oy, (y0, y1, fy)) in rows.enumerated() {
                    let r0 = src + y0 * w * 3, r1 = src + y1 * w * 3
                    for (ox, (x0, x1, fx)) in columns.enumerated() {
                        for c in 0..<3 {
                            let a = Float(r0[x0 * 3 + c]), b = Float(r0[x1 * 3 + c])
                            let d = Float(r1[x0 * 3 + c]), e = Float(r1[x1 * 3 + c])
                            let top = a + (b - a) * fx, bottom = d + (e - d) * fx
                            p[(oy * s + ox) * 3 + c] = top + (bottom - top) * fy
                        }
                    }
                }
            }
            colour(&plane)
            let dst = destination + f * frameOut
            for i in 0..<frameOut { dst[i] = UInt8(max(0, min(255, plane[i].rounded()))) }
        }
    }

    /// Brightness, contrast (towards the frame's mean grey), saturation (towards each pixel's
    /// grey), hue (a rotation of the chroma plane in YIQ) and grey, on 0...255 floats.
    func colour(_ p: inout [Float]) {
        let identity = brightness == 1 && contrast == 1 && saturation == 1 && hue == 0 && !gray
        if identity { return }
        // Luma weights of ITU-R BT.601, as torchvision's rgb_to_grayscale.
        let (wr, wg, wb): (Float, Float, Float) = (0.299, 0.587, 0.114)
        let n = p.count / 3
        let b = Float(brightness)
        if b != 1 { for i in 0..<p.count { p[i] = min(255, p[i] * b) } }
        if contrast != 1 {
            var sum: Float = 0
            for i in 0..<n { sum += wr * p[3 * i] + wg * p[3 * i + 1] + wb * p[3 * i + 2] }
            let mean = sum / Float(max(n, 1)), c = Float(contrast)
            for i in 0..<p.count { p[i] = min(255, max(0, mean + (p[i] - mean) * c)) }
        }
        if saturation != 1 {
            let sat = Float(saturation)
            for i in 0..<n {
                let grey = wr * p[3 * i] + wg * p[3 * i + 1] + wb * p[3 * i + 2]
                for c in 0..<3 { p[3 * i + c] = min(255, max(0, grey + (p[3 * i + c] - grey) * sat)) }
            }
        }
        if hue != 0 {
            let angle = Float(hue * 2 * Double.pi), (cs, sn) = (cos(angle), sin(angle))
            for i in 0..<n {
                let (r, g, bl) = (p[3 * i], p[3 * i + 1], p[3 * i + 2])
                let yy = 0.299 * r + 0.587 * g + 0.114 * bl
                let ii = 0.596 * r - 0.274 * g - 0.322 * bl
                let qq = 0.211 * r - 0.523 * g + 0.312 * bl
                let i2 = ii * cs - qq * sn, q2 = ii * sn + qq * cs
                p[3 * i] = min(255, max(0, yy + 0.956 * i2 + 0.621 * q2))
                p[3 * i + 1] = min(255, max(0, yy - 0.272 * i2 - 0.647 * q2))
                p[3 * i + 2] = min(255, max(0, yy - 1.106 * i2 + 1.703 * q2))
            }
        }
        if gray {
            for i in 0..<n {
                let grey = wr * p[3 * i] + wg * p[3 * i + 1] + wb * p[3 * i + 2]
                (p[3 * i], p[3 * i + 1], p[3 * i + 2]) = (grey, grey, grey)
            }
        }
    }
}
