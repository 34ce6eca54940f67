// Decoding a video or still image file into RGB frames: libavformat demuxes, libavcodec
// decodes (frame threads), libswscale converts and resizes, and tb rotates as the file's
// display matrix says. Frames come out in presentation order with their times in seconds
// from the stream's start; with a frame rate, on that rate's grid (see `DecodeOptions.fps`).
//
// The call sequence follows FFmpeg's doc/examples/demux_decode.c. Every allocation is
// freed in `deinit`, whatever happened, so 10,000 small files do not leak.

import CFFmpeg
import CFFmpegShim
import Foundation
import TBCore

/// How a `VideoReader` selects, sizes and times frames.
public struct DecodeOptions: Sendable, Equatable {
    /// Resize so that the shorter side has this many pixels, keeping the aspect ratio
    /// (the other side rounded to the nearest pixel).
    public var shortSide: Int?
    /// Resize to exactly this width and height (the aspect ratio is not kept).
    public var width: Int?
    public var height: Int?
    /// Output frame rate. Output frame k is the frame on display at time start + k/fps (the
    /// last frame whose presentation time is not after it), so frames are repeated or dropped
    /// by timestamp, never by count: exact with B-frames and variable frame rates.
    public var fps: Double?
    /// Seconds from the start of the stream to the first output frame.
    public var start: Double
    /// Seconds of video to decode from `start`; nil for all.
    public var duration: Double?
    /// At most this many output frames.
    public var maxFrames: Int?
    /// Decoder threads (frame threading) and converter threads.
    public var threads: Int
    /// libswscale's resampling filter.
    public var filter: ScaleFilter

    public init(shortSide: Int? = nil, width: Int? = nil, height: Int? = nil, fps: Double? = nil, start: Double = 0,
                duration: Double? = nil, maxFrames: Int? = nil, threads: Int = 1, filter: ScaleFilter = .bicubic) {
        self.shortSide = shortSide
        self.width = width
        self.height = height
        self.fps = fps
        self.start = start
        self.duration = duration
        self.maxFrames = maxFrames
        self.threads = threads
        self.filter = filter
    }
}

/// libswscale's resampling filters, by the names `ffmpeg -vf scale=flags=` uses.
public enum ScaleFilter: String, CaseIterable, Sendable {
    case bilinear, bicubic, area, lanczos, point

    var flags: Int32 {
        switch self {
        case .bilinear: return SWS_BILINEAR
        case .bicubic: return SWS_BICUBIC
        case .area: return SWS_AREA
        case .lanczos: return SWS_LANCZOS
        case .point: return SWS_POINT
        }
    }
}

/// What a file holds, as far as tb-decode reports it.
public struct VideoInfo: Sendable, Equatable {
    /// Coded picture size, before rotation.
    public var width: Int
    public var height: Int
    /// Clockwise rotation applied to display the pictures upright: 0, 90, 180 or 270.
    public var rotation: Int
    /// libavcodec's decoder name, e.g. "h264".
    public var codec: String
    /// libavformat's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2".
    public var container: String
    /// The stream's average frame rate, when the container states one.
    public var frameRate: Double?
    /// Seconds, when the container states it.
    public var duration: Double?
    /// A still image (PNG, JPEG, WebP, ...): one frame, no clock.
    public var isStill: Bool
}

/// One decoded, converted frame.
public struct VideoFrame {
    /// Seconds from the start of the stream (the grid time with `DecodeOptions.fps`).
    public var time: Double
    /// RGB24, `width * height * 3` bytes.
    public var pixels: UnsafeBufferPointer<UInt8>
}

/// Reads the frames of one video or image file.
public final class VideoReader {
    public let path: String
    public let options: DecodeOptions
    public let info: VideoInfo
    /// Output frame size (after resizing and rotation).
    public let width: Int
    public let height: Int
    /// The output frame rate: `options.fps`, else the stream's own; nil for still images.
    public var outputFrameRate: Double? { info.isStill ? nil : options.fps ?? info.frameRate }
    /// Damaged data met so far (packets the decoder rejected, frames it marked corrupt,
    /// read errors): a count and the first description.
    public private(set) var damageCount = 0
    public private(set) var firstDamage: String?
    /// Output frames so far.
    public private(set) var framesRead = 0

    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var decoded: UnsafeMutablePointer<AVFrame>?   // receives from the decoder
    private var current: UnsafeMutablePointer<AVFrame>?   // on display at the grid time
    private var upcoming: UnsafeMutablePointer<AVFrame>?  // decoded, not yet on display
    private var scaler: OpaquePointer?
    private var scalerInput: [Int32] = []   // width, height, pixel format the scaler was made for
    private var outputFrame: UnsafeMutablePointer<AVFrame>?  // wraps `output` for sws_scale_frame
    private let streamIndex: Int32
    private let timeBase: Double
    private var origin: Int64?            // pts of time 0
    private var currentTime = 0.0, upcomingTime = 0.0, currentEnd = 0.0
    private var hasCurrent = false, hasUpcoming = false
    private var readFinished = false, decoderFinished = false
    private var lastDecodedTime: Double?
    private var gridIndex = 0
    private var gridStart: Double?
    private let defaultFrameDuration: Double
    // Converted pixels. libswscale's SIMD writers may store a little past the end of the last
    // row, so both buffers carry `slack` bytes more than a frame.
    private let output: UnsafeMutableBufferPointer<UInt8>
    private let rotated: UnsafeMutableBufferPointer<UInt8>?
    private static let slack = 256
    private let scaledWidth: Int, scaledHeight: Int  // before rotation
    private static let epsilon = 1e-6

    /// Opens a file ("-" for standard input) and its best video stream. Throws `.noInput` for
    /// a missing or unreadable file, `.dataError` for one FFmpeg cannot read as video, and
    /// `.usage` for impossible options.
    public init(path: String, options: DecodeOptions = DecodeOptions()) throws {
        self.path = path
        self.options = options
        try Self.validate(options)
        let url = try Self.url(for: path)
        var fmt: UnsafeMutablePointer<AVFormatContext>?
        let opened = avformat_open_input(&fmt, url, nil, nil)
        guard opened >= 0, let opened = fmt else {
            throw Failure(.dataError, "not a video or image FFmpeg can read (\(avErrorText(opened)))", file: path)
        }
        let probe: Probe
        do {
            probe = try Self.probe(opened, options: options)
        } catch let f as Failure {
            avformat_close_input(&fmt)
            throw f.at(file: path)
        }
        format = opened
        streamIndex = probe.index
        timeBase = probe.timeBase
        info = probe.info
        origin = probe.origin
        defaultFrameDuration = 1 / (options.fps ?? info.frameRate ?? 25)
        let upright = info.rotation % 180 == 0 ? (info.width, info.height) : (info.height, info.width)
        let size = Self.outputSize(upright: upright, options: options)
        (width, height) = size
        (scaledWidth, scaledHeight) = info.rotation % 180 == 0 ? size : (size.1, size.0)
        output = .allocate(capacity: width * height * 3 + Self.slack)
        output.initialize(repeating: 0)
        rotated = info.rotation == 0 ? nil : .allocate(capacity: width * height * 3)
        rotated?.initialize(repeating: 0)
        outputFrame = Self.wrap(output, width: scaledWidth, height: scaledHeight)
        // From here on deinit frees whatever was allocated when something throws.
        do {
            try openDecoder(probe)
        } catch let f as Failure {
            throw f.at(file: path)
        }
        if options.start > 0 && !info.isStill {
            do { try seek(to: options.start) } catch let f as Failure { throw f.at(file: path) }
        }
    }

    /// What `init` learns from the container before it allocates a decoder.
    private struct Probe {
        var index: Int32
        var timeBase: Double
        var info: VideoInfo
        var origin: Int64?
        var decoder: UnsafePointer<AVCodec>
        var parameters: UnsafeMutablePointer<AVCodecParameters>
        var streamTimeBase: AVRational
    }

    private static func probe(_ fmt: UnsafeMutablePointer<AVFormatContext>, options: DecodeOptions) throws -> Probe {
        let found = avformat_find_stream_info(fmt, nil)
        if found < 0 { throw Failure(.dataError, "cannot read stream information (\(avErrorText(found)))") }
        let best = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        guard best >= 0 else {
            let kinds = (0..<Int(fmt.pointee.nb_streams)).compactMap {
                fmt.pointee.streams[$0]?.pointee.codecpar.pointee.codec_type
            }
            throw Failure(.dataError, kinds.contains(AVMEDIA_TYPE_AUDIO) ? "no video stream (audio only)" : "no video stream")
        }
        guard let st = fmt.pointee.streams[Int(best)], let par = st.pointee.codecpar else {
            throw Failure.internalError("libavformat returned no stream \(best)")
        }
        for i in 0..<Int(fmt.pointee.nb_streams) where i != Int(best) {
            fmt.pointee.streams[i]?.pointee.discard = AVDISCARD_ALL
        }
        let timeBase = av_q2d(st.pointee.time_base)
        guard let decoder = avcodec_find_decoder(par.pointee.codec_id) else {
            let name = String(cString: avcodec_get_name(par.pointee.codec_id))
            throw Failure(.dataError, "no decoder for its \(name) video")
        }
        let demuxer = String(cString: fmt.pointee.iformat.pointee.name)
        let still = demuxer == "image2" || demuxer.hasSuffix("_pipe")
        let rate = nominalRate(average: st.pointee.avg_frame_rate, real: st.pointee.r_frame_rate)
        let duration = st.pointee.duration != tb_av_nopts_value() && st.pointee.duration > 0
            ? Double(st.pointee.duration) * timeBase
            : fmt.pointee.duration > 0 ? Double(fmt.pointee.duration) / Double(tb_av_time_base()) : nil
        let info = VideoInfo(width: Int(par.pointee.width), height: Int(par.pointee.height), rotation: rotation(of: st),
                             codec: String(cString: decoder.pointee.name), container: demuxer,
                             frameRate: still ? nil : rate, duration: still ? nil : duration, isStill: still)
        guard info.width > 0, info.height > 0 else {
            throw Failure(.dataError, "its \(info.codec) video has no picture size")
        }
        let origin = st.pointee.start_time != tb_av_nopts_value() ? st.pointee.start_time : nil
        return Probe(index: best, timeBase: timeBase, info: info, origin: origin, decoder: decoder, parameters: par,
                     streamTimeBase: st.pointee.time_base)
    }

    private func openDecoder(_ probe: Probe) throws {
        guard let ctx = avcodec_alloc_context3(probe.decoder) else { throw Failure.internalError("out of memory") }
        codec = ctx
        packet = av_packet_alloc()
        decoded = av_frame_alloc()
        current = av_frame_alloc()
        upcoming = av_frame_alloc()
        guard packet != nil, decoded != nil, current != nil, upcoming != nil else {
            throw Failure.internalError("out of memory")
        }
        try avCheck(avcodec_parameters_to_context(ctx, probe.parameters), "copying codec parameters", status: .software)
        ctx.pointee.thread_count = Int32(info.isStill ? 1 : options.threads)
        ctx.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
        ctx.pointee.pkt_timebase = probe.streamTimeBase
        try avCheck(avcodec_open2(ctx, probe.decoder, nil), "cannot open the \(info.codec) decoder", status: .dataError)
    }

    deinit {
        freeCodec()
        avformat_close_input(&format)
        output.deallocate()
        rotated?.deallocate()
    }

    /// The next output frame, or nil at the end. The pixels stay valid until the next call.
    /// Damaged packets are counted in `damageCount` and skipped; a file with no decodable
    /// frame at all throws `.dataError`.
    public func next() throws -> VideoFrame? {
        if let max = options.maxFrames, framesRead >= max { return nil }
        if info.isStill && framesRead > 0 { return nil }
        let time: Double
        if let fps = options.fps, !info.isStill {
            guard let t = try advanceGrid(fps: fps) else { return try finishedOrFail() }
            time = t
        } else {
            guard let t = try advanceFrame() else { return try finishedOrFail() }
            time = t
        }
        try convert(current!)
        framesRead += 1
        let pixels = rotated ?? output
        return VideoFrame(time: time, pixels: UnsafeBufferPointer(start: pixels.baseAddress, count: width * height * 3))
    }

    // MARK: frame selection

    /// Every decoded frame from `start` on, until `duration`.
    private func advanceFrame() throws -> Double? {
        while true {
            guard try loadUpcoming() else { return nil }
            promote()
            if currentTime < options.start - Self.epsilon { continue }
            if let d = options.duration, currentTime >= options.start + d - Self.epsilon { return nil }
            return currentTime
        }
    }

    /// The frame on display at the next grid time, or nil when the video has ended by then.
    private func advanceGrid(fps: Double) throws -> Double? {
        if gridStart == nil {
            // The grid starts at --start, or at the first frame when there is none.
            guard try loadUpcoming() else { return nil }
            gridStart = options.start > 0 ? options.start : max(upcomingTime, 0)
        }
        let t = gridStart! + Double(gridIndex) / fps
        if let d = options.duration, t >= options.start + d - Self.epsilon { return nil }
        while try loadUpcoming(), upcomingTime <= t + Self.epsilon || !hasCurrent {
            promote()
        }
        guard hasCurrent else { return nil }
        if !hasUpcoming && t >= currentEnd - Self.epsilon { return nil }
        gridIndex += 1
        return t
    }

    /// current := upcoming.
    private func promote() {
        let d = upcoming.map { Double($0.pointee.pkt_duration) * timeBase } ?? 0
        av_frame_unref(current)
        av_frame_move_ref(current, upcoming)
        currentTime = upcomingTime
        hasCurrent = true
        hasUpcoming = false
        currentEnd = currentTime + (d > 0 ? d : defaultFrameDuration)
    }

    /// Makes sure `upcoming` holds the next decoded frame; false at the end of the stream.
    private func loadUpcoming() throws -> Bool {
        if hasUpcoming { return true }
        guard let frm = try decodeNext() else { return false }
        av_frame_move_ref(upcoming, frm)
        hasUpcoming = true
        return true
    }

    private func finishedOrFail() throws -> VideoFrame? {
        if framesRead == 0 && !hasCurrent && lastDecodedTime == nil {
            let why = firstDamage.map { " (\($0))" } ?? ""
            throw Failure(.dataError, "no frame could be decoded\(why)", file: path)
        }
        return nil
    }

    // MARK: demuxing and decoding

    /// The next frame from the decoder, timed, or nil once it is drained.
    private func decodeNext() throws -> UnsafeMutablePointer<AVFrame>? {
        guard let ctx = codec, let frm = decoded, let pkt = packet, let fmt = format else { return nil }
        while !decoderFinished {
            let r = avcodec_receive_frame(ctx, frm)
            if r >= 0 {
                if frm.pointee.flags & AV_FRAME_FLAG_CORRUPT != 0 || frm.pointee.decode_error_flags != 0 {
                    noteDamage("frame at \(timeText(frm)) is damaged")
                }
                let time = frameTime(frm)
                lastDecodedTime = time
                upcomingTime = time
                return frm
            }
            if r == tb_averror_eof() { decoderFinished = true; break }
            if r != tb_averror_eagain() {
                noteDamage("decoding: \(avErrorText(r))")
                continue
            }
            if readFinished {
                decoderFinished = true
                break
            }
            let got = av_read_frame(fmt, pkt)
            if got < 0 {
                if got != tb_averror_eof() { noteDamage("reading: \(avErrorText(got))") }
                readFinished = true
                _ = avcodec_send_packet(ctx, nil)
                continue
            }
            defer { av_packet_unref(pkt) }
            guard pkt.pointee.stream_index == streamIndex else { continue }
            let sent = avcodec_send_packet(ctx, pkt)
            if sent < 0 && sent != tb_averror_eagain() {
                let at = pkt.pointee.pts != tb_av_nopts_value() ? formatSeconds(Double(pkt.pointee.pts - (origin ?? 0)) * timeBase) : "?"
                noteDamage("packet at \(at) s: \(avErrorText(sent))")
            }
        }
        return nil
    }

    /// Seconds from the stream's start of a decoded frame.
    private func frameTime(_ frm: UnsafeMutablePointer<AVFrame>) -> Double {
        var pts = frm.pointee.best_effort_timestamp
        if pts == tb_av_nopts_value() { pts = frm.pointee.pts }
        if pts == tb_av_nopts_value() {
            // No clock: one nominal frame after the last.
            return lastDecodedTime.map { $0 + defaultFrameDuration } ?? 0
        }
        if origin == nil { origin = pts }
        return Double(pts - origin!) * timeBase
    }

    private func timeText(_ frm: UnsafeMutablePointer<AVFrame>) -> String {
        let pts = frm.pointee.best_effort_timestamp
        return pts == tb_av_nopts_value() ? "?" : formatSeconds(Double(pts - (origin ?? pts)) * timeBase) + " s"
    }

    private func noteDamage(_ what: String) {
        damageCount += 1
        if firstDamage == nil { firstDamage = what }
    }

    /// Seeks to a key frame whose first decoded frame is at or before `seconds`; frames
    /// before `seconds` are then decoded and dropped. Demuxers index key frames by decoding
    /// time, which with B-frames can put the key frame found after the target in
    /// presentation time, so the seek backs off (1 s, 4 s, 16 s, then the start) until the
    /// first frame is early enough. A stream that cannot seek is decoded from its beginning.
    private func seek(to seconds: Double) throws {
        guard let fmt = format, let ctx = codec, timeBase > 0 else { return }
        for back in [0.0, 1, 4, 16] {
            let at = max(0, seconds - back)
            let target = (origin ?? 0) + Int64((at / timeBase).rounded(.down))
            guard av_seek_frame(fmt, streamIndex, target, AVSEEK_FLAG_BACKWARD) >= 0 else { break }
            avcodec_flush_buffers(ctx)
            readFinished = false
            decoderFinished = false
            hasUpcoming = false
            av_frame_unref(upcoming)
            guard try loadUpcoming() else { continue }
            if upcomingTime <= seconds + Self.epsilon || at == 0 { return }
        }
        // From the beginning.
        if av_seek_frame(fmt, streamIndex, origin ?? 0, AVSEEK_FLAG_BACKWARD) >= 0 {
            avcodec_flush_buffers(ctx)
            readFinished = false
            decoderFinished = false
            hasUpcoming = false
            av_frame_unref(upcoming)
        }
    }

    // MARK: conversion

    /// Converts (and resizes and rotates) a decoded frame into `output` / `rotated`.
    private func convert(_ frm: UnsafeMutablePointer<AVFrame>) throws {
        let w = frm.pointee.width, h = frm.pointee.height
        let fmtValue = AVPixelFormat(rawValue: frm.pointee.format)
        if scaler == nil || scalerInput != [w, h, frm.pointee.format] {
            if let old = scaler { sws_freeContext(old) }
            scaler = makeScaler(width: w, height: h, format: fmtValue)
            scalerInput = [w, h, frm.pointee.format]
        }
        guard let sws = scaler else {
            let name = av_get_pix_fmt_name(fmtValue).map { String(cString: $0) } ?? "\(frm.pointee.format)"
            throw Failure(.dataError, "cannot convert \(w)x\(h) \(name) pictures to RGB", file: path)
        }
        guard let dst = outputFrame else { throw Failure.internalError("out of memory") }
        // sws_scale_frame runs the context's slice threads (sws_scale does not).
        let r = sws_scale_frame(sws, dst, frm)
        if r < 0 { throw Failure(.dataError, "converting a \(w)x\(h) picture to RGB: \(avErrorText(r))", file: path) }
        if info.rotation != 0 { rotate() }
    }

    /// A libswscale context from the decoded picture to RGB24 at the output size, with slice
    /// threads when there are threads to spare (libswscale 6 runs them inside sws_scale).
    private func makeScaler(width w: Int32, height h: Int32, format: AVPixelFormat) -> OpaquePointer? {
        guard let sws = sws_alloc_context() else { return nil }
        let settings: [(String, Int64)] = [
            ("srcw", Int64(w)), ("srch", Int64(h)), ("src_format", Int64(format.rawValue)),
            ("dstw", Int64(scaledWidth)), ("dsth", Int64(scaledHeight)), ("dst_format", Int64(AV_PIX_FMT_RGB24.rawValue)),
            ("sws_flags", Int64(options.filter.flags)), ("threads", Int64(info.isStill ? 1 : options.threads)),
        ]
        for (key, value) in settings where av_opt_set_int(UnsafeMutableRawPointer(sws), key, value, 0) < 0 {
            sws_freeContext(sws)
            return nil
        }
        guard sws_init_context(sws, nil, nil) >= 0 else {
            sws_freeContext(sws)
            return nil
        }
        return sws
    }

    /// Rotates `output` (scaledWidth × scaledHeight) clockwise by `info.rotation` into `rotated`.
    private func rotate() {
        let sw = scaledWidth, sh = scaledHeight, r = info.rotation
        guard let d = rotated?.baseAddress, let s = output.baseAddress else { return }
        do {
            do {
                for y in 0..<height {
                    for x in 0..<width {
                        let (sx, sy): (Int, Int)
                        switch r {
                        case 90: (sx, sy) = (y, sh - 1 - x)
                        case 180: (sx, sy) = (sw - 1 - x, sh - 1 - y)
                        default: (sx, sy) = (sw - 1 - y, x)
                        }
                        let o = (y * width + x) * 3, i = (sy * sw + sx) * 3
                        d[o] = s[i]
                        d[o + 1] = s[i + 1]
                        d[o + 2] = s[i + 2]
                    }
                }
            }
        }
    }

    /// An RGB24 AVFrame whose pixels are `buffer` (tb's memory: the AVBuffer frees nothing).
    private static func wrap(_ buffer: UnsafeMutableBufferPointer<UInt8>, width: Int, height: Int)
        -> UnsafeMutablePointer<AVFrame>? {
        guard let frame = av_frame_alloc(), let base = buffer.baseAddress else { return nil }
        guard let ref = av_buffer_create(base, buffer.count, { _, _ in }, nil, 0) else {
            var f: UnsafeMutablePointer<AVFrame>? = frame
            av_frame_free(&f)
            return nil
        }
        frame.pointee.buf.0 = ref
        frame.pointee.data.0 = base
        frame.pointee.linesize.0 = Int32(width * 3)
        frame.pointee.format = AV_PIX_FMT_RGB24.rawValue
        frame.pointee.width = Int32(width)
        frame.pointee.height = Int32(height)
        return frame
    }

    private func freeCodec() {
        if let s = scaler { sws_freeContext(s); scaler = nil }
        avcodec_free_context(&codec)
        av_packet_free(&packet)
        av_frame_free(&decoded)
        av_frame_free(&current)
        av_frame_free(&upcoming)
        av_frame_free(&outputFrame)
    }

    // MARK: set-up helpers

    private static func validate(_ o: DecodeOptions) throws {
        if let s = o.shortSide, s < 1 || s > 16384 { throw Failure(.usage, "short side \(s) is not 1 to 16384") }
        if (o.width == nil) != (o.height == nil) { throw Failure(.usage, "give both width and height") }
        if let w = o.width, let h = o.height, w < 1 || h < 1 || w > 16384 || h > 16384 {
            throw Failure(.usage, "size \(w)x\(h) is not 1 to 16384 on each side")
        }
        if o.shortSide != nil && o.width != nil { throw Failure(.usage, "a short side and a size contradict each other") }
        if let f = o.fps, !(f > 0 && f <= 1000) { throw Failure(.usage, "frame rate \(f) is not above 0 and at most 1000") }
        if !(o.start >= 0 && o.start.isFinite) { throw Failure(.usage, "start \(o.start) is not a time") }
        if let d = o.duration, !(d > 0 && d.isFinite) { throw Failure(.usage, "duration \(d) is not positive") }
        if let m = o.maxFrames, m < 1 { throw Failure(.usage, "max frames \(m) is not positive") }
        if o.threads < 1 { throw Failure(.usage, "threads \(o.threads) is not positive") }
    }

    /// The libavformat URL for a path: the file protocol only, so that a name with a colon is
    /// never taken for a network address; "-" is standard input.
    private static func url(for path: String) throws -> String {
        if path == "-" { return "pipe:0" }
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw Failure(.noInput, errno == ENOENT ? "no such file" : "cannot open: \(errnoString(errno))", file: path)
        }
        if st.st_mode & S_IFMT == S_IFDIR { throw Failure(.noInput, "is a directory", file: path) }
        guard access(path, R_OK) == 0 else { throw Failure(.noInput, "cannot open: \(errnoString(errno))", file: path) }
        if st.st_mode & S_IFMT == S_IFREG && st.st_size == 0 { throw Failure(.dataError, "empty file", file: path) }
        return "file:" + path
    }

    /// Clockwise degrees that make the pictures upright, from the stream's display matrix
    /// (as the ffmpeg tool's autorotate reads it).
    private static func rotation(of st: UnsafeMutablePointer<AVStream>) -> Int {
        guard let side = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, nil) else { return 0 }
        let angle = side.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
        guard angle.isFinite else { return 0 }
        var theta = -Int(angle.rounded())
        theta = ((theta % 360) + 360) % 360
        // Only quarter turns are applied; anything else is shown unrotated.
        return [0, 90, 180, 270].contains(theta) ? theta : 0
    }

    /// The stream's frame rate: libavformat's guess at the rate all timestamps fit (r_frame_rate)
    /// when the average agrees within 10% (the average of a short MP4 with B-frames is off
    /// by its edit list), else the average (variable frame rate).
    private static func nominalRate(average: AVRational, real: AVRational) -> Double? {
        let avg = average.num > 0 && average.den > 0 ? av_q2d(average) : nil
        let r = real.num > 0 && real.den > 0 ? av_q2d(real) : nil
        guard let avg else { return r }
        if let r, abs(r - avg) <= 0.1 * avg { return r }
        return avg
    }

    /// Output size for an upright picture size.
    static func outputSize(upright: (Int, Int), options: DecodeOptions) -> (Int, Int) {
        if let w = options.width, let h = options.height { return (w, h) }
        guard let s = options.shortSide else { return upright }
        let (w, h) = upright
        if w <= h { return (s, max(1, Int((Double(h) * Double(s) / Double(w)).rounded()))) }
        return (max(1, Int((Double(w) * Double(s) / Double(h)).rounded())), s)
    }
}

/// Seconds with up to three decimals, as messages show times.
func formatSeconds(_ s: Double) -> String {
    let ms = Int((s * 1000).rounded())
    let sign = ms < 0 ? "-" : ""
    let a = abs(ms)
    return a % 1000 == 0 ? "\(sign)\(a / 1000)" : String(format: "%@%d.%03d", sign, a / 1000, a % 1000)
}
