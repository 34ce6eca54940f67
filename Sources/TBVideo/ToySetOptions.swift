// What tb-toyset makes: sizes, counts, classes, codec and seed (tb-toyset(1) documents
// each default; they keep the whole default set to a few seconds of work).

import TBCore

/// The size and content of a toy data set.
public struct ToySetOptions: Sendable, Equatable {
    /// Frame and image size in pixels (even, for the video codecs' 4:2:0 chroma).
    public var width = 64
    public var height = 64
    /// Frames of a trimmed video, and the frame rate of every video.
    public var frames = 32
    public var fps = 16
    public var classes: [ToyClass] = ToyClass.allCases
    /// Videos per class: labeled and unlabeled training videos, validation videos.
    public var labeled = 4
    public var unlabeled = 12
    public var validation = 6
    /// Still web images per class, about two thirds of them relevant.
    public var images = 6
    /// Long untrimmed videos, and their length in seconds.
    public var untrimmed = 3
    public var untrimmedSeconds = 20.0
    /// Soft clutter blobs in every video and image.
    public var distractors = 1
    /// Ground textures shared by all videos and images (0: a new one for each). A ground of
    /// its own identifies a video, which an instance-discriminating teacher learns instead
    /// of the objects; real data sets share their settings too.
    public var backgrounds = 8
    /// Scales the camera's shift, zoom and turn; 0 holds it still.
    public var cameraMotion = 1.0
    public var codec: VideoCodec = .preferred
    public var seed: UInt64 = 0
    /// Videos and images made at once.
    public var threads = 1
    /// Every video frame shows its number as a FrameCode picture instead of the scene.
    public var frameCodes = false

    public init() {}

    /// Throws `.usage` naming the first option out of range.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw Failure.usage(message) }
        }
        try check((16...4096).contains(width) && (16...4096).contains(height) && width % 2 == 0 && height % 2 == 0,
                  "--size \(width)x\(height): width and height must be even, 16 to 4096")
        try check((2...100_000).contains(frames), "--frames must be 2 to 100000, not \(frames)")
        try check((1...240).contains(fps), "--fps must be 1 to 240, not \(fps)")
        try check(!classes.isEmpty, "--classes names no class")
        for (name, n) in [("--labeled", labeled), ("--unlabeled", unlabeled), ("--val", validation),
                          ("--images", images), ("--untrimmed", untrimmed), ("--distractors", distractors),
                          ("--backgrounds", backgrounds)] {
            try check((0...100_000).contains(n), "\(name) must be 0 to 100000, not \(n)")
        }
        try check(labeled + unlabeled + validation + images + untrimmed > 0, "nothing to make: every count is 0")
        try check(cameraMotion.isFinite && (0...10).contains(cameraMotion), "--camera-motion must be 0 to 10")
        try check(untrimmedSeconds.isFinite && untrimmedSeconds <= 100_000,
                  "--untrimmed-seconds must be at most 100000")
        let shortest = Double(frames + 2 * untrimmedGapFrames) / Double(fps)
        try check(untrimmed == 0 || untrimmedFrames >= frames + 2 * untrimmedGapFrames,
                  "--untrimmed-seconds must leave room for one action and two pauses: at least \(shortest)")
        try check(codec.isAvailable, "this libavcodec has no \(codec.encoderName) encoder")
        try check((1...256).contains(threads), "--threads must be 1 to 256")
    }

    /// Frames of an untrimmed video.
    var untrimmedFrames: Int { Int((untrimmedSeconds * Double(fps)).rounded()) }

    /// The shortest background-only stretch before, between and after actions: half a second.
    var untrimmedGapFrames: Int { max(fps / 2, 1) }
}
