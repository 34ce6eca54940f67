// Small helpers shared by every libav* call site in TBVideo: return-code checks with
// FFmpeg's own error text, and FFmpeg's log level.

import CFFmpeg
import CFFmpegShim
import TBCore

/// Throws a Failure with FFmpeg's text for a negative libav* return value.
func avCheck(_ code: Int32, _ what: String, status: ExitStatus) throws {
    guard code < 0 else { return }
    throw Failure(status, "\(what): \(avErrorText(code))")
}

/// FFmpeg's description of an error code (av_strerror).
func avErrorText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    return buffer.withUnsafeMutableBufferPointer { b in
        String(cString: tb_av_strerror(code, b.baseAddress, Int32(b.count)))
    }
}

/// Whether a libav* return value means "no more now" (EAGAIN) or "no more ever" (EOF).
func avIsAgainOrEOF(_ code: Int32) -> Bool {
    code == tb_averror_eagain() || code == tb_averror_eof()
}

/// FFmpeg's own messages on stderr. tb reports problems itself, one line per input,
/// so libav*'s log is silent unless a program's --verbose asks for it.
public enum FFmpegLog {
    public static func set(verbose: Bool) {
        av_log_set_level(verbose ? AV_LOG_WARNING : AV_LOG_QUIET)
    }
}
