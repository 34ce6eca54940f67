// Where clips sit in a video: the frame indices each clip takes. Pure functions of the
// video's frame count, shared by tb-clip (fixed positions) and tb-mix (random ones at
// training time). Indices past the last frame are clamped to it, which is how a video too
// short for a clip gets padded with its last frame.

/// T frames, `stride` apart.
public struct ClipShape: Equatable, Sendable {
    public var length: Int
    public var stride: Int

    public init(length: Int, stride: Int = 1) {
        precondition(length >= 1 && stride >= 1, "ClipShape: length and stride must be at least 1")
        self.length = length
        self.stride = stride
    }

    /// Frames from the first to the last of a clip.
    public var span: Int { (length - 1) * stride + 1 }

    /// Indices of the clip starting at `start`, clamped to `frames - 1` when `frames` is given.
    public func indices(start: Int, frames: Int? = nil) -> [Int] {
        (0..<length).map { j in
            let i = start + j * stride
            return frames.map { min(i, max($0 - 1, 0)) } ?? i
        }
    }
}

public enum ClipPositions {
    /// First frames of dense clips: every `step` frames, as long as the whole clip fits;
    /// one clip at 0 (to be padded) when the video is shorter than a clip.
    public static func dense(frames n: Int, shape: ClipShape, step: Int) -> [Int] {
        precondition(step >= 1, "ClipPositions.dense: step must be at least 1")
        guard n >= shape.span else { return n > 0 ? [0] : [] }
        return Array(Swift.stride(from: 0, through: n - shape.span, by: step))
    }

    /// First frames of `count` clips spread evenly: the video minus one clip's span is cut
    /// into `count` equal parts and each clip starts at the middle of its part (mmaction2's
    /// test-time sampling). A short video gives clips at 0.
    public static func evenly(frames n: Int, shape: ClipShape, count: Int) -> [Int] {
        precondition(count >= 1, "ClipPositions.evenly: count must be at least 1")
        let room = n - shape.span + 1
        guard room > 0 else { return Array(repeating: 0, count: count) }
        let interval = Double(room) / Double(count)
        return (0..<count).map { min(Int(Double($0) * interval + interval / 2), room - 1) }
    }

    /// TSN: the video cut into `count` equal segments, from each the `length` consecutive
    /// frames at its middle (test-time TSN). Returns each segment's indices, clamped.
    public static func segments(frames n: Int, count: Int, length: Int) -> [[Int]] {
        precondition(count >= 1 && length >= 1, "ClipPositions.segments: count and length must be at least 1")
        let shape = ClipShape(length: length)
        return (0..<count).map { k in
            let lo = Double(k) * Double(n) / Double(count), hi = Double(k + 1) * Double(n) / Double(count)
            let start = max(0, Int(((lo + hi) / 2 - Double(length) / 2).rounded(.down)))
            return shape.indices(start: start, frames: n)
        }
    }

    /// A uniformly random first frame for a clip of `shape` (0 when the video is shorter).
    public static func random<G: RandomNumberGenerator>(frames n: Int, shape: ClipShape, using g: inout G) -> Int {
        let room = n - shape.span + 1
        return room > 1 ? Int.random(in: 0..<room, using: &g) : 0
    }

    /// TimeBalance's pretraining structure over the span starting at `start`: row 0 is the
    /// long clip (`length` frames, every `shorts`-th), rows 1...shorts the non-overlapping
    /// short clips of `length` consecutive frames covering the same `shorts * length` frames.
    public static func pretraining(start: Int, shorts: Int, length: Int, frames n: Int? = nil) -> [[Int]] {
        let long = ClipShape(length: length, stride: shorts).indices(start: start, frames: n)
        let short = ClipShape(length: length)
        return [long] + (0..<shorts).map { short.indices(start: start + $0 * length, frames: n) }
    }
}
