// A texture defined on the whole plane (a sum of plane waves), rendered through any homography
// without resampling: frames whose motion is known exactly, for the tests and benchmarks of
// the alignment and the fit. No borders, so a camera can wander as far as it likes.

import TBCore
import TBVideo
#if canImport(Glibc)
import Glibc
#endif

public struct SyntheticTexture: Sendable {
    struct Wave: Sendable { var fx, fy, phase, amplitude: Double }
    let waves: [Wave]

    /// `waves` plane waves with random directions and phases, frequencies between `minFrequency`
    /// and `maxFrequency` cycles per normalised unit (at 96×96, 6 cycles are 8 pixels each).
    public init(seed: UInt64, waves count: Int = 12, minFrequency: Double = 1.5, maxFrequency: Double = 6) {
        var g = SeededGenerator(seed: seed)
        waves = (0..<count).map { _ in
            let angle = Double(g.nextUnitFloat()) * Double.pi
            let f = minFrequency + Double(g.nextUnitFloat()) * (maxFrequency - minFrequency)
            return Wave(fx: f * cos(angle), fy: f * sin(angle), phase: Double(g.nextUnitFloat()) * 2 * Double.pi,
                        amplitude: 90 / Double(count).squareRoot())
        }
    }

    /// Intensity around 128 at normalised point (x, y).
    public func value(x: Double, y: Double) -> Double {
        var v = 128.0
        for w in waves { v += w.amplitude * cos(2 * Double.pi * (w.fx * x + w.fy * y) + w.phase) }
        return v
    }

    /// The frame that sees the texture moved by `motion` (texture point p appears at motion·p):
    /// pixel y shows the texture at motion⁻¹·y, normalised coordinates of a width×height frame.
    public func render(width: Int, height: Int, motion: Homography = .identity) -> RGBImage {
        let frame = NormalisedFrame(width: width, height: height)
        let back = Matrix3.multiply((motion.inverse() ?? .identity).matrix, frame.fromPixels)
        var image = RGBImage(width: width, height: height)
        for row in 0..<height {
            for col in 0..<width {
                let p = Matrix3.apply(back, x: Double(col), y: Double(row)) ?? (0, 0)
                let v = value(x: p.x, y: p.y)
                func byte(_ d: Double) -> UInt8 { UInt8(min(max(d.rounded(), 0), 255)) }
                let o = (row * width + col) * 3
                image.pixels[o] = byte(v)
                image.pixels[o + 1] = byte(0.8 * v + 25)
                image.pixels[o + 2] = byte(255 - v)
            }
        }
        return image
    }
}
