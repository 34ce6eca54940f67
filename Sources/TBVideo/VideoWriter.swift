// Encoding RGB frames into a real video file (H.264, MPEG-4, VP9 or Motion JPEG in MP4,
// Matroska, WebM or AVI), or one frame into a still image (.jpg with mjpeg, .webp), for the
// toy data set, the tests and the benchmarks. The call
// sequence follows FFmpeg's doc/examples/mux.c. The file appears under its name only when
// `finish()` succeeds: until then it is written to a temporary name beside it.

import CFFmpeg
import CFFmpegShim
import Foundation
import TBCore

/// Video codecs tb can write, by the libavcodec encoder behind each.
public enum VideoCodec: String, CaseIterable, Sendable {
    case h264, mpeg4, vp9, mjpeg, webp

    /// libavcodec's encoder name.
    public var encoderName: String {
        switch self {
        case .h264: return "libx264"
        case .mpeg4: return "mpeg4"
        case .vp9: return "libvpx-vp9"
        case .mjpeg: return "mjpeg"
        case .webp: return "libwebp"
        }
    }

    /// Whether this libavcodec was built with the encoder.
    public var isAvailable: Bool { avcodec_find_encoder_by_name(encoderName) != nil }

    /// H.264 when the encoder is there (Debian's libavcodec has libx264), else MPEG-4 part 2,
    /// which libavcodec always has.
    public static var preferred: VideoCodec { h264.isAvailable ? .h264 : .mpeg4 }
}

/// How a `VideoWriter` encodes.
public struct VideoWriterOptions: Sendable {
    public var codec: VideoCodec
    /// Nominal frame rate: frames appended without a time are 1/fps apart.
    public var fps: Int
    /// Clock ticks per second of explicit frame times (`append(_:time:)`); 0 means `fps`.
    public var timeBase: Int
    /// Constant quality: CRF for H.264 and VP9 (0–51 / 0–63, lower is better), qscale for
    /// MPEG-4 and Motion JPEG (1–31). nil for the encoder's default.
    public var quality: Int?
    /// Frames between key frames.
    public var gop: Int
    /// Consecutive B-frames allowed (H.264 and MPEG-4); nil for the encoder's default.
    public var bFrames: Int?
    /// Display rotation written as metadata, in degrees counter-clockwise (as `ffmpeg -display_rotation`).
    public var rotation: Int
    /// Encoder threads.
    public var threads: Int

    public init(codec: VideoCodec = .preferred, fps: Int = 25, timeBase: Int = 0, quality: Int? = nil,
                gop: Int = 12, bFrames: Int? = nil, rotation: Int = 0, threads: Int = 1) {
        self.codec = codec
        self.fps = fps
        self.timeBase = timeBase
        self.quality = quality
        self.gop = gop
        self.bFrames = bFrames
        self.rotation = rotation
        self.threads = threads
    }
}

/// Writes RGB images as the frames of one video file.
public final class VideoWriter {
    public let path: String
    public let width: Int
    public let height: Int
    public let options: VideoWriterOptions
    /// Frames appended so far.
    public private(set) var frameCount = 0

    private let temporaryPath: String
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var context: UnsafeMutablePointer<AVCodecContext>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var scaler: OpaquePointer?
    private let stream: UnsafeMutablePointer<AVStream>
    private var lastTime = Int64.min
    private var finished = false

    /// Opens `path` for writing; the container follows the name's extension (.mp4, .mkv,
    /// .webm, .avi). Throws `.usage` for sizes or names the codec or container cannot take.
    public init(path: String, width: Int, height: Int, options: VideoWriterOptions = VideoWriterOptions()) throws {
        self.path = path
        self.width = width
        self.height = height
        self.options = options
        temporaryPath = Self.temporaryName(for: path)
        guard width > 0, height > 0, width % 2 == 0, height % 2 == 0, width <= 16384, height <= 16384 else {
            throw Failure(.usage, "cannot encode \(width)x\(height) frames: width and height must be even and positive",
                          file: path)
        }
        guard options.fps > 0, options.timeBase >= 0, options.gop > 0, options.threads > 0 else {
            throw Failure(.usage, "video writer: fps, gop and threads must be positive", file: path)
        }
        guard let codec = avcodec_find_encoder_by_name(options.codec.encoderName) else {
            throw Failure(.usage, "this libavcodec has no \(options.codec.encoderName) encoder", file: path)
        }
        var fmt: UnsafeMutablePointer<AVFormatContext>?
        guard avformat_alloc_output_context2(&fmt, nil, nil, path) >= 0, let fmt else {
            throw Failure(.usage, "cannot tell a video container from the file name", file: path)
        }
        format = fmt
        guard let st = avformat_new_stream(fmt, nil), let ctx = avcodec_alloc_context3(codec),
              let frm = av_frame_alloc(), let pkt = av_packet_alloc() else {
            avformat_free_context(fmt)
            throw Failure.internalError("video writer: out of memory")
        }
        stream = st
        context = ctx
        frame = frm
        packet = pkt
        do {
            try open(codec: codec, stream: st, context: ctx, frame: frm)
        } catch let failure as Failure {
            release()
            unlink(temporaryPath)
            throw failure.at(file: path)
        }
    }

    deinit {
        release()
        if !finished { unlink(temporaryPath) }
    }

    /// Encodes one frame. `time` is in ticks of `options.timeBase` (frame index × ticks per
    /// frame when nil) and must grow from frame to frame.
    public func append(_ image: RGBImage, time: Int? = nil) throws {
        guard !finished, let ctx = context, let frm = frame else {
            throw Failure(.software, "video writer used after finish()", file: path)
        }
        guard image.width == width, image.height == height else {
            throw Failure(.usage, "frame \(frameCount) is \(image.width)x\(image.height), not \(width)x\(height)",
                          file: path)
        }
        let t = time.map(Int64.init) ?? Int64(frameCount) * ticksPerFrame
        guard t > lastTime else {
            throw Failure(.usage, "frame \(frameCount): time \(t) does not come after \(lastTime)", file: path)
        }
        lastTime = t
        try avCheck(av_frame_make_writable(frm), "making a frame writable", status: .software)
        image.pixels.withUnsafeBufferPointer { src in
            var planes: [UnsafePointer<UInt8>?] = [src.baseAddress, nil, nil, nil]
            var strides: [Int32] = [Int32(width * 3), 0, 0, 0]
            withUnsafeMutablePointer(to: &frm.pointee.data) { dst in
                withUnsafeMutablePointer(to: &frm.pointee.linesize) { dstStride in
                    dst.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { d in
                        dstStride.withMemoryRebound(to: Int32.self, capacity: 8) { s in
                            _ = sws_scale(scaler, &planes, &strides, 0, Int32(height), d, s)
                        }
                    }
                }
            }
        }
        frm.pointee.pts = t
        try avCheck(avcodec_send_frame(ctx, frm), "encoding frame \(frameCount)", status: .software)
        try drain()
        frameCount += 1
    }

    /// Flushes the encoder, writes the container's trailer and moves the file into place.
    public func finish() throws {
        guard !finished, let ctx = context, let fmt = format else { return }
        do {
            try avCheck(avcodec_send_frame(ctx, nil), "flushing the encoder", status: .software)
            try drain()
            try avCheck(av_write_trailer(fmt), "writing the container trailer", status: .ioError)
            if fmt.pointee.pb != nil { try avCheck(avio_closep(&fmt.pointee.pb), "closing", status: .ioError) }
        } catch let failure as Failure {
            throw failure.at(file: path)
        }
        guard rename(temporaryPath, path) == 0 else {
            throw Failure(.ioError, "cannot rename the finished video into place: \(errnoString(errno))", file: path)
        }
        finished = true
        release()
    }

    private var ticks: Int { options.timeBase > 0 ? options.timeBase : options.fps }

    /// Clock ticks of one frame at the nominal rate.
    private var ticksPerFrame: Int64 { Int64(max(ticks / options.fps, 1)) }

    private func open(codec: UnsafePointer<AVCodec>, stream st: UnsafeMutablePointer<AVStream>,
                      context ctx: UnsafeMutablePointer<AVCodecContext>, frame frm: UnsafeMutablePointer<AVFrame>) throws {
        guard let fmt = format else { return }
        let pixelFormat = options.codec == .mjpeg ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_YUV420P
        ctx.pointee.width = Int32(width)
        ctx.pointee.height = Int32(height)
        ctx.pointee.pix_fmt = pixelFormat
        ctx.pointee.time_base = AVRational(num: 1, den: Int32(ticks))
        ctx.pointee.framerate = AVRational(num: Int32(options.fps), den: 1)
        ctx.pointee.gop_size = Int32(options.gop)
        ctx.pointee.thread_count = Int32(options.threads)
        if let b = options.bFrames { ctx.pointee.max_b_frames = Int32(b) }
        if fmt.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            ctx.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        }
        var settings: [(String, String)] = []
        switch options.codec {
        case .h264:
            settings.append(("preset", "veryfast"))
            // x264's macroblock-tree rate control reads memory it never wrote when frames are
            // small (32x32 here): the same frames would encode to different bytes from run to run.
            settings.append(("mbtree", "0"))
            if let q = options.quality { settings.append(("crf", String(q))) }
        case .vp9:
            settings.append(("deadline", "realtime"))
            settings.append(("cpu-used", "8"))
            if let q = options.quality { settings.append(("crf", String(q))); ctx.pointee.bit_rate = 0 }
        case .webp:
            if let q = options.quality { ctx.pointee.global_quality = Int32(FF_QP2LAMBDA) * Int32(q) }
        case .mpeg4, .mjpeg:
            if let q = options.quality {
                ctx.pointee.flags |= AV_CODEC_FLAG_QSCALE
                ctx.pointee.global_quality = Int32(FF_QP2LAMBDA) * Int32(q)
            }
        }
        for (key, value) in settings {
            try avCheck(av_opt_set(ctx.pointee.priv_data, key, value, 0), "setting \(key)=\(value)", status: .software)
        }
        try avCheck(avcodec_open2(ctx, codec, nil), "opening the \(options.codec.encoderName) encoder", status: .usage)
        try avCheck(avcodec_parameters_from_context(st.pointee.codecpar, ctx), "copying codec parameters",
                    status: .software)
        st.pointee.time_base = ctx.pointee.time_base
        if options.rotation % 360 != 0 {
            guard let side = av_stream_new_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, 9 * 4) else {
                throw Failure.internalError("video writer: out of memory")
            }
            side.withMemoryRebound(to: Int32.self, capacity: 9) {
                av_display_rotation_set($0, Double(options.rotation))
            }
        }
        frm.pointee.format = pixelFormat.rawValue
        frm.pointee.width = Int32(width)
        frm.pointee.height = Int32(height)
        try avCheck(av_frame_get_buffer(frm, 0), "allocating a frame", status: .software)
        scaler = sws_getContext(Int32(width), Int32(height), AV_PIX_FMT_RGB24, Int32(width), Int32(height),
                                pixelFormat, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, nil, nil, nil)
        guard scaler != nil else { throw Failure.internalError("video writer: no RGB to YUV converter") }
        // libavformat 59's MP4 edit list ends at the last packet in decoding order, which with
        // B-frames hides the last frame from every reader (ffprobe counts one frame less).
        // Without an edit list the stream simply starts at its first presentation time.
        if let muxerOptions = fmt.pointee.priv_data { _ = av_opt_set(muxerOptions, "use_editlist", "0", 0) }
        if fmt.pointee.oformat.pointee.flags & AVFMT_NOFILE != 0 {
            // Image muxers (.jpg, .webp) open their file themselves, by the context's URL;
            // "update" makes that one file, not a numbered sequence.
            av_free(fmt.pointee.url)
            fmt.pointee.url = av_strdup(temporaryPath)
            if let muxerOptions = fmt.pointee.priv_data { _ = av_opt_set(muxerOptions, "update", "1", 0) }
        } else {
            guard avio_open(&fmt.pointee.pb, temporaryPath, AVIO_FLAG_WRITE) >= 0 else {
                throw Failure(.ioError, "cannot create \(temporaryPath): \(errnoString(errno))")
            }
        }
        try avCheck(avformat_write_header(fmt, nil), "writing the container header", status: .ioError)
    }

    /// Moves every packet the encoder has ready into the container.
    private func drain() throws {
        guard let ctx = context, let pkt = packet, let fmt = format else { return }
        while true {
            let r = avcodec_receive_packet(ctx, pkt)
            if avIsAgainOrEOF(r) { return }
            try avCheck(r, "encoding", status: .software)
            // Without a duration the muxer guesses how long the last frame lasts (and with an
            // edit list, with B-frames, got it short enough to hide it: see use_editlist).
            if pkt.pointee.duration == 0 { pkt.pointee.duration = ticksPerFrame }
            av_packet_rescale_ts(pkt, ctx.pointee.time_base, stream.pointee.time_base)
            pkt.pointee.stream_index = stream.pointee.index
            let w = av_interleaved_write_frame(fmt, pkt)
            av_packet_unref(pkt)
            try avCheck(w, "writing a packet", status: .ioError)
        }
    }

    private func release() {
        if let s = scaler { sws_freeContext(s); scaler = nil }
        if let fmt = format {
            if fmt.pointee.pb != nil { avio_closep(&fmt.pointee.pb) }
            avformat_free_context(fmt)
            format = nil
        }
        avcodec_free_context(&context)
        av_frame_free(&frame)
        av_packet_free(&packet)
    }

    /// A hidden name beside `path`, unique to this process and object.
    private static func temporaryName(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return "\(dir).\(base).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).part"
    }
}
