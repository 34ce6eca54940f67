// tb-decode's input path: the bytes as a file opened with VideoReader (libavformat probes,
// libavcodec decodes, libswscale resizes), a few frames read at a small size, as tb-decode
// reads with --short-side and --max-frames.

import FuzzSupport
import TBCore
import TBVideo

private let scratch = ScratchFile("video")
private let quiet: Void = FFmpegLog.set(verbose: false)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVideo(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = quiet
    guard scratch.write(data, size) else { return 0 }
    defer { scratch.remove() }
    let fps: Double? = size % 2 == 0 ? nil : 8
    guard let reader = try? VideoReader(path: scratch.path, options: DecodeOptions(shortSide: 16, fps: fps, maxFrames: 3)) else {
        return 0
    }
    do {
        while let frame = try reader.next() {
            precondition(frame.pixels.count == reader.width * reader.height * 3, "frame size")
            precondition(frame.time.isFinite, "frame time is not finite")
        }
    } catch is Failure {
    } catch {
        preconditionFailure("an error that is not a Failure: \(error)")
    }
    return 0
}
