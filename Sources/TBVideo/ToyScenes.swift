// The scenes of a toy data set's files: a trimmed clip of a class, a still web image,
// an untrimmed video with a few actions. Each is a pure function of its options and
// seed, so a test can render the ground truth of any file without reading it.

import Foundation
import TBCore

extension ToyScene {
    /// A trimmed clip: the class's object acts over every frame.
    public init(clipOf cls: ToyClass, options: ToySetOptions, seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        self.init(options: options, frameCount: options.frames, random: &g)
        tracks = [Self.track(of: cls, frames: 0..<options.frames, options: options, random: &g)]
    }

    /// A still image, as found by searching the web for `cls`: the class's object, or when not
    /// `relevant`, more clutter and in half the cases an object of another look.
    public init(imageOf cls: ToyClass, relevant: Bool, options: ToySetOptions, seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        var still = options
        still.frameCodes = false
        if !relevant { still.distractors += 2 }
        self.init(options: still, frameCount: 1, random: &g)
        if relevant {
            tracks = [Self.track(of: cls, frames: 0..<1, options: options, random: &g)]
        } else if g.below(2) == 0 {
            let others = ToyClass.allCases.filter { $0.look.shape != cls.look.shape }
            tracks = [Self.track(of: others[g.below(others.count)], frames: 0..<1, options: options, random: &g)]
        }
    }

    /// An untrimmed video of `untrimmedSeconds`: two or three actions of `cls`, each 1 to 1.5
    /// trimmed clips long, apart and at both ends at least half a second of background only.
    public init(untrimmedOf cls: ToyClass, options: ToySetOptions, seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        let total = options.untrimmedFrames, gap = options.untrimmedGapFrames, clip = options.frames
        self.init(options: options, frameCount: total, random: &g)
        var count = 2 + g.below(2)
        while count > 1 && count * clip + (count + 1) * gap > total { count -= 1 }
        let room = max(total - (count + 1) * gap, 0)
        let lengths = (0..<count).map { _ in min(Int(Double(clip) * g.uniform(1, 1.5)), room / count) }
        let spare = room - lengths.reduce(0, +)
        let weights = (0...count).map { _ in g.uniform(0.05, 1) }
        let sum = weights.reduce(0, +)
        var start = 0
        tracks = []
        for (i, length) in lengths.enumerated() {
            start += gap + Int(Double(spare) * weights[i] / sum)
            tracks.append(Self.track(of: cls, frames: start..<start + length, options: options, random: &g))
            start += length
        }
    }

    /// The frames each object is on: for an untrimmed video, its actions.
    public var objectFrames: [Range<Int>] { tracks.map(\.frames) }

    /// Camera, background and clutter, with no objects yet.
    private init(options: ToySetOptions, frameCount: Int, random g: inout SeededGenerator) {
        let (w, h) = (options.width, options.height)
        let side = Double(min(w, h))
        width = w
        height = h
        fps = options.fps
        self.frameCount = frameCount
        frameCodes = options.frameCodes
        camera = CameraPath(width: w, height: h, strength: options.cameraMotion, random: &g)
        // Muted colours (saturation at most 0.35, value 0.35 to 0.65), so that the objects'
        // strong colours, the ring's light grey and its dark spoke stand out on any ground.
        // The ground: one of `backgrounds` shared ones, each from its own seed, or a new one.
        var ground = options.backgrounds > 0
            ? SeededGenerator(seed: options.seed &+ 0x9E37_79B9 &* (1 + g.next() % UInt64(options.backgrounds)))
            : g.split()
        let hue = ground.uniform(0, 1)
        let dark = ToyColor(hue: hue, saturation: ground.uniform(0.1, 0.35), value: ground.uniform(0.35, 0.5))
        let light = ToyColor(hue: hue + ground.uniform(-0.15, 0.15), saturation: ground.uniform(0.1, 0.35),
                             value: ground.uniform(0.5, 0.65))
        texture = ToyTexture(width: w, height: h, dark: dark, light: light, random: &ground)
        blobs = (0..<options.distractors).map { _ in
            let heading = g.uniform(0, 2 * .pi), speed = g.uniform(0, 0.1) * side
            return Blob(x: g.uniform(0, Double(w)), y: g.uniform(0, Double(h)),
                        vx: speed * cos(heading), vy: speed * sin(heading),
                        rx: g.uniform(0.12, 0.25) * side, ry: g.uniform(0.12, 0.25) * side, angle: g.uniform(0, .pi),
                        color: ToyColor(hue: g.uniform(0, 1), saturation: g.uniform(0.15, 0.4), value: g.uniform(0.3, 0.65)),
                        opacity: Float(g.uniform(0.4, 0.7)))
        }
        tracks = []
    }

    /// The class's object acting over `frames`. Sizes and distances scale with the frame; speeds
    /// are per whole action, so that a longer action moves as far, more slowly.
    static func track(of cls: ToyClass, frames: Range<Int>, options: ToySetOptions,
                      random g: inout SeededGenerator) -> ObjectTrack {
        let (w, h) = (Double(options.width), Double(options.height))
        let side = min(w, h), fps = Double(options.fps)
        let radius = 0.14 * side * g.uniform(0.85, 1.15)
        let seconds = Double(max(frames.count - 1, 1)) / fps
        let turn = 2 * Double.pi
        var travel: Double, heading: Double, drift = 0.0, spin: Double
        switch cls {
        case .redDisc, .greenSquare, .blueTriangle, .yellowCross:
            // Any direction, any speed up to a slow crossing, a little spin: motion says nothing.
            travel = g.uniform(0, 0.45) * side
            heading = g.uniform(0, turn)
            spin = g.uniform(-0.3, 0.3) * turn
        case .ringLeft, .ringRight:
            travel = g.uniform(0.35, 0.55) * w
            heading = cls == .ringLeft ? .pi : 0
            drift = g.uniform(-0.05, 0.05) * h
            spin = 0
        case .ringClockwise, .ringCounterclockwise:
            travel = g.uniform(0, 0.06) * side
            heading = g.uniform(0, turn)
            // 0.4 to 0.65 turns a second, at most 0.15 turn a frame so that no frame rate makes it
            // look like turning back; clockwise on screen is a growing angle, as y grows downwards.
            spin = min(g.uniform(0.4, 0.65), 0.15 * fps) * turn * (cls == .ringClockwise ? 1 : -1)
        }
        let margin = 1.25 * radius + 0.06 * side
        let dx = travel * cos(heading), dy = travel * sin(heading) + drift
        let (x, clippedX) = place(extent: w, margin: margin, delta: dx, random: &g)
        let (y, clippedY) = place(extent: h, margin: margin, delta: dy, random: &g)
        return ObjectTrack(look: jittered(cls.look, random: &g), frames: frames, x: x, y: y,
                           vx: clippedX / seconds, vy: clippedY / seconds,
                           angle: g.uniform(0, turn), spin: spin, radius: radius)
    }

    /// A start in 0...extent from which a move by `delta` (shortened to fit if need be) stays
    /// at least `margin` from both ends; returns the start and the move.
    private static func place(extent: Double, margin: Double, delta: Double,
                              random g: inout SeededGenerator) -> (Double, Double) {
        let room = max(extent - 2 * margin, 0)
        let move = min(max(delta, -room), room)
        let lo = margin - min(move, 0), hi = extent - margin - max(move, 0)
        return (hi > lo ? g.uniform(lo, hi) : extent / 2 - move / 2, move)
    }

    /// The look with its brightness varied by up to ±8%, as lighting would.
    private static func jittered(_ look: ToyLook, random g: inout SeededGenerator) -> ToyLook {
        var l = look
        l.color = look.color.scaled(Float(g.uniform(0.92, 1.08)))
        return l
    }
}
