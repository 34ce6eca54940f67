// A toy scene: a textured plane with soft distractor blobs and objects moving on it, filmed
// by a camera that drifts, zooms and turns a little. Every frame is rendered afresh from the
// scene's description (objects by signed distance, so their edges are anti-aliased and
// sub-pixel motion is smooth), so any frame of a long video can be made without the others.

import Foundation
import TBCore

/// Where an object is in a frame, in frame pixels.
public struct ToyPose: Sendable, Equatable {
    /// Centre.
    public var x: Double
    public var y: Double
    /// Orientation in radians, clockwise on screen (y grows downwards) from the +x axis;
    /// the ring's spoke points this way.
    public var angle: Double
    /// Radius of the object's outline.
    public var radius: Double
}

/// An affine map of the plane: (x, y) ↦ (a·x + b·y + tx, c·x + d·y + ty).
struct Affine: Sendable {
    var a, b, c, d, tx, ty: Double

    func apply(_ x: Double, _ y: Double) -> (Double, Double) {
        (a * x + b * y + tx, c * x + d * y + ty)
    }

    var inverse: Affine {
        let det = a * d - b * c
        let ia = d / det, ib = -b / det, ic = -c / det, id = a / det
        return Affine(a: ia, b: ib, c: ic, d: id, tx: -(ia * tx + ib * ty), ty: -(ic * tx + id * ty))
    }

    /// How many frame pixels one unit of length becomes (the map has no shear).
    var scale: Double { abs(a * d - b * c).squareRoot() }
}

/// amplitude · sin(2π·t/period + phase): smooth and bounded, so a long video's camera
/// never wanders off and a short clip sees a steady drift that eases in or out.
struct Wave: Sendable {
    var amplitude = 0.0, period = 1.0, phase = 0.0

    func value(at t: Double) -> Double { amplitude * sin(2 * Double.pi * t / period + phase) }
}

/// The camera: a shift, a zoom and a turn about the frame's centre, each a slow wave.
struct CameraPath: Sendable {
    var shiftX = Wave(), shiftY = Wave()
    /// Natural log of the zoom factor.
    var zoom = Wave()
    /// Radians, clockwise on screen.
    var rotation = Wave()

    /// A random path; `strength` 1 gives shifts up to 4% of the frame, zoom up to ±5% and
    /// turns up to ±3°, with periods of 4 to 12 seconds.
    init(width: Int, height: Int, strength: Double, random g: inout SeededGenerator) {
        func wave(_ limit: Double) -> Wave {
            Wave(amplitude: strength * limit * g.uniform(0.3, 1), period: g.uniform(4, 12), phase: g.uniform(0, 2 * .pi))
        }
        let side = Double(min(width, height))
        shiftX = wave(0.04 * side)
        shiftY = wave(0.04 * side)
        zoom = wave(0.05)
        rotation = wave(3 * Double.pi / 180)
    }

    /// World to frame pixels at `t` seconds.
    func transform(at t: Double, width: Int, height: Int) -> Affine {
        let s = exp(zoom.value(at: t)), phi = rotation.value(at: t)
        let a = s * cos(phi), c = s * sin(phi)
        let cx = Double(width) / 2, cy = Double(height) / 2
        return Affine(a: a, b: -c, c: c, d: a,
                      tx: cx + shiftX.value(at: t) - (a * cx - c * cy),
                      ty: cy + shiftY.value(at: t) - (c * cx + a * cy))
    }
}

/// A soft, slowly drifting elliptical blob of muted colour: clutter that is not an object.
struct Blob: Sendable {
    var x, y, vx, vy: Double
    var rx, ry, angle: Double
    var color: ToyColor
    var opacity: Float
}

/// An object moving on the plane during a range of frames.
struct ObjectTrack: Sendable {
    var look: ToyLook
    /// Frames it is on.
    var frames: Range<Int>
    /// Position (world pixels), velocity (pixels per second), orientation and spin (radians,
    /// radians per second, clockwise) at its first frame; radius in world pixels.
    var x, y, vx, vy, angle, spin, radius: Double

    /// `t` seconds after its first frame.
    func pose(after t: Double) -> ToyPose {
        ToyPose(x: x + vx * t, y: y + vy * t, angle: angle + spin * t, radius: radius)
    }
}

/// Everything that makes the frames of one video or image.
public struct ToyScene: Sendable {
    public let width: Int
    public let height: Int
    public let fps: Int
    public let frameCount: Int
    var camera: CameraPath
    var texture: ToyTexture
    var blobs: [Blob]
    var tracks: [ObjectTrack]
    /// Frames show their number as a FrameCode instead of the scene.
    var frameCodes = false

    /// The objects on frame `index`, as the camera sees them.
    public func poses(at index: Int) -> [ToyPose] {
        let m = camera.transform(at: Double(index) / Double(fps), width: width, height: height)
        return tracks.filter { $0.frames.contains(index) }.map { track in
            let p = track.pose(after: Double(index - track.frames.lowerBound) / Double(fps))
            let (x, y) = m.apply(p.x, p.y)
            return ToyPose(x: x, y: y, angle: p.angle + camera.rotation.value(at: Double(index) / Double(fps)),
                           radius: p.radius * m.scale)
        }
    }

    /// Frame `index` (counted from 0 at time 0).
    public func frame(_ index: Int) -> RGBImage {
        if frameCodes { return FrameCode.image(index, width: width, height: height) }
        let t = Double(index) / Double(fps)
        let m = camera.transform(at: t, width: width, height: height)
        let inv = m.inverse, scale = m.scale
        var rgb = [Float](repeating: 0, count: width * height * 3)
        rgb.withUnsafeMutableBufferPointer { out in
            for v in 0..<height {
                for u in 0..<width {
                    let (x, y) = inv.apply(Double(u) + 0.5, Double(v) + 0.5)
                    texture.sample(x, y, into: out, at: 3 * (v * width + u))
                }
            }
            for blob in blobs {
                let bx = blob.x + blob.vx * t, by = blob.y + blob.vy * t
                let cosA = cos(blob.angle), sinA = sin(blob.angle)
                paint(out, around: m.apply(bx, by), reach: 2.5 * max(blob.rx, blob.ry) * scale, inverse: inv) { x, y in
                    let dx = x - bx, dy = y - by
                    let lx = (cosA * dx + sinA * dy) / blob.rx, ly = (-sinA * dx + cosA * dy) / blob.ry
                    return [(blob.opacity * Float(exp(-(lx * lx + ly * ly))), blob.color)]
                }
            }
            for track in tracks where track.frames.contains(index) {
                let p = track.pose(after: Double(index - track.frames.lowerBound) / Double(fps))
                let cosA = cos(p.angle), sinA = sin(p.angle), pixels = p.radius * scale
                paint(out, around: m.apply(p.x, p.y), reach: 1.25 * pixels + 2, inverse: inv) { x, y in
                    let dx = x - p.x, dy = y - p.y
                    let lx = (cosA * dx + sinA * dy) / p.radius, ly = (-sinA * dx + cosA * dy) / p.radius
                    // Coverage of the pixel from the distance to the edge in frame pixels.
                    return track.look.layers(lx, ly).map { (Float(min(max(0.5 - $0.distance * pixels, 0), 1)), $0.color) }
                }
            }
        }
        var image = RGBImage(width: width, height: height)
        image.pixels = rgb.map { UInt8(min(max($0 * 255 + 0.5, 0), 255)) }
        return image
    }

    /// Blends layers over the frame pixels within `reach` of `centre`; `layers` gets each
    /// pixel's centre in world coordinates and returns (opacity, colour) pairs, painted in order.
    private func paint(_ out: UnsafeMutableBufferPointer<Float>, around centre: (Double, Double), reach: Double,
                       inverse: Affine, layers: (Double, Double) -> [(Float, ToyColor)]) {
        let u0 = max(Int((centre.0 - reach).rounded(.down)), 0), u1 = min(Int((centre.0 + reach).rounded(.up)), width)
        let v0 = max(Int((centre.1 - reach).rounded(.down)), 0), v1 = min(Int((centre.1 + reach).rounded(.up)), height)
        guard u0 < u1, v0 < v1 else { return }
        for v in v0..<v1 {
            for u in u0..<u1 {
                let (x, y) = inverse.apply(Double(u) + 0.5, Double(v) + 0.5)
                let i = 3 * (v * width + u)
                for (alpha, color) in layers(x, y) where alpha > 0 {
                    out[i] += (color.r - out[i]) * alpha
                    out[i + 1] += (color.g - out[i + 1]) * alpha
                    out[i + 2] += (color.b - out[i + 2]) * alpha
                }
            }
        }
    }
}

/// A tileable fractal value-noise texture between two colours: the ground of the plane.
/// It repeats every `size` pixels, so the camera can look anywhere.
struct ToyTexture: Sendable {
    let size: Int
    private let rgb: [Float]

    /// A texture for frames of `width`×`height`: the tile is a power of two at least twice the
    /// larger side; the coarsest detail is about 40% of the smaller side, then halves over four octaves.
    init(width: Int, height: Int, dark: ToyColor, light: ToyColor, random g: inout SeededGenerator) {
        var s = 1
        while s < 2 * max(width, height) { s *= 2 }
        size = s
        var value = [Float](repeating: 0, count: s * s)
        var cell = 0.4 * Double(min(width, height)), weight: Float = 1, total: Float = 0
        for _ in 0..<4 {
            let n = max(Int((Double(s) / cell).rounded()), 1)
            let lattice = (0..<(n * n)).map { _ in g.nextUnitFloat() }
            for y in 0..<s {
                let fy = Double(y) * Double(n) / Double(s), y0 = Int(fy), ty = Float(Self.smooth(fy - Double(y0)))
                let r0 = y0 % n * n, r1 = (y0 + 1) % n * n
                for x in 0..<s {
                    let fx = Double(x) * Double(n) / Double(s), x0 = Int(fx), tx = Float(Self.smooth(fx - Double(x0)))
                    let x1 = (x0 + 1) % n
                    let top = lattice[r0 + x0] + (lattice[r0 + x1] - lattice[r0 + x0]) * tx
                    let bottom = lattice[r1 + x0] + (lattice[r1 + x1] - lattice[r1 + x0]) * tx
                    value[y * s + x] += weight * (top + (bottom - top) * ty)
                }
            }
            total += weight
            weight *= 0.55
            cell /= 2
        }
        var rgb = [Float](repeating: 0, count: s * s * 3)
        for i in 0..<(s * s) {
            // Sums of octaves crowd around the middle; stretch them back over the two colours.
            let v = min(max((value[i] / total - 0.5) * 2.2 + 0.5, 0), 1)
            rgb[3 * i] = dark.r + (light.r - dark.r) * v
            rgb[3 * i + 1] = dark.g + (light.g - dark.g) * v
            rgb[3 * i + 2] = dark.b + (light.b - dark.b) * v
        }
        self.rgb = rgb
    }

    private static func smooth(_ t: Double) -> Double { t * t * (3 - 2 * t) }

    /// Bilinear sample at (x, y), wrapping around, written to out[i..<i+3].
    func sample(_ x: Double, _ y: Double, into out: UnsafeMutableBufferPointer<Float>, at i: Int) {
        let fx = x - 0.5, fy = y - 0.5
        let xf = fx.rounded(.down), yf = fy.rounded(.down)
        let tx = Float(fx - xf), ty = Float(fy - yf)
        // Far-off coordinates cannot reach here (the camera stays near the frame), but clamp
        // before converting so that no value can trap.
        let mask = size - 1
        let x0 = Int(max(min(xf, 1e9), -1e9)) & mask, y0 = Int(max(min(yf, 1e9), -1e9)) & mask
        let x1 = (x0 + 1) & mask, y1 = (y0 + 1) & mask
        let a = 3 * (y0 * size + x0), b = 3 * (y0 * size + x1), c = 3 * (y1 * size + x0), d = 3 * (y1 * size + x1)
        for k in 0..<3 {
            let top = rgb[a + k] + (rgb[b + k] - rgb[a + k]) * tx
            let bottom = rgb[c + k] + (rgb[d + k] - rgb[c + k]) * tx
            out[i + k] = top + (bottom - top) * ty
        }
    }
}

extension SeededGenerator {
    /// A uniform Double in lo..<hi, from the top 53 bits (the same on every platform and Swift version).
    mutating func uniform(_ lo: Double, _ hi: Double) -> Double {
        lo + (hi - lo) * Double(next() >> 11) * 0x1p-53
    }

    /// A uniform Int in 0..<n (n > 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
