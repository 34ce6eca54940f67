// PNG through libavcodec's own PNG encoder and decoder, so tb needs no image library
// beyond the FFmpeg it already links. The call sequences follow FFmpeg's
// doc/examples/encode_video.c and decode_video.c: every return value is checked and
// every allocation is freed by a `defer` on every path.
//
// Only bytes in and bytes out: writing a file (atomically, to a temporary name that is
// then renamed) is the job of the program's output handling, as for every other output.

import CFFmpeg
import CFFmpegShim
import TBCore

/// PNG encoding and decoding of `RGBImage`s.
public enum PNG {
    /// The eight bytes every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The image as PNG file bytes (RGB, 8 bits per channel). Throws `.dataError` for an empty
    /// or oversized image, `.software` if libavcodec fails.
    public static func encode(_ image: RGBImage) throws -> [UInt8] {
        guard !image.isEmpty, let w = Int32(exactly: image.width), let h = Int32(exactly: image.height),
              av_image_check_size(UInt32(w), UInt32(h), 0, nil) >= 0 else {
            throw Failure.data("cannot encode a \(image.width)x\(image.height) image as PNG")
        }
        guard let codec = avcodec_find_encoder(AV_CODEC_ID_PNG) else {
            throw Failure.internalError("this libavcodec has no PNG encoder")
        }
        return try withCodec(codec, "PNG encoder") { ctx, frm, pkt in
            ctx.pointee.width = w
            ctx.pointee.height = h
            ctx.pointee.pix_fmt = AV_PIX_FMT_RGB24
            // A still image has no clock, but video encoders insist on a time base.
            ctx.pointee.time_base = AVRational(num: 1, den: 1)
            // Paeth prediction shrinks smooth pictures (plots, thumbnails) several times over "none".
            if let options = ctx.pointee.priv_data {
                try avCheck(av_opt_set(options, "pred", "paeth", 0), "setting PNG prediction", status: .software)
            }
            try avCheck(avcodec_open2(ctx, codec, nil), "opening the PNG encoder", status: .software)

            frm.pointee.format = AV_PIX_FMT_RGB24.rawValue
            frm.pointee.width = w
            frm.pointee.height = h
            frm.pointee.pts = 0
            try avCheck(av_frame_get_buffer(frm, 0), "allocating a frame", status: .software)
            try copyRows(from: image, to: frm)

            var out: [UInt8] = []
            // Encoders may hold frames back: send, drain, then flush with a nil frame and drain again.
            func drain() throws {
                while true {
                    let r = avcodec_receive_packet(ctx, pkt)
                    if r == tb_averror_eagain() || r == tb_averror_eof() { return }
                    try avCheck(r, "encoding PNG", status: .software)
                    if let data = pkt.pointee.data, pkt.pointee.size > 0 {
                        out.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(pkt.pointee.size)))
                    }
                    av_packet_unref(pkt)
                }
            }
            try avCheck(avcodec_send_frame(ctx, frm), "sending a frame to the PNG encoder", status: .software)
            try drain()
            try avCheck(avcodec_send_frame(ctx, nil), "flushing the PNG encoder", status: .software)
            try drain()
            guard out.starts(with: signature) else {
                throw Failure.internalError("the PNG encoder wrote no PNG (\(out.count) bytes)")
            }
            return out
        }
    }

    /// The picture in PNG file bytes, as RGB. Grey, palette, 16-bit and alpha PNGs are converted
    /// by libswscale (alpha is dropped, not blended). Throws `.dataError` with FFmpeg's reason
    /// when the bytes are not a readable PNG.
    public static func decode(_ bytes: [UInt8]) throws -> RGBImage {
        guard bytes.starts(with: signature) else {
            throw Failure.data("not a PNG image (no PNG signature)")
        }
        guard let size = Int32(exactly: bytes.count), size < Int32.max - 1024 else {
            throw Failure.data("PNG image of \(bytes.count) bytes is too large")
        }
        guard let codec = avcodec_find_decoder(AV_CODEC_ID_PNG) else {
            throw Failure.internalError("this libavcodec has no PNG decoder")
        }
        return try withCodec(codec, "PNG decoder") { ctx, frm, pkt in
            // One picture: frame threads would only add latency and a flush.
            ctx.pointee.thread_count = 1
            try avCheck(avcodec_open2(ctx, codec, nil), "opening the PNG decoder", status: .software)

            // av_new_packet adds the zeroed padding that FFmpeg's bitstream readers may overread into.
            try avCheck(av_new_packet(pkt, size), "allocating a packet", status: .software)
            bytes.withUnsafeBufferPointer { src in
                if let data = pkt.pointee.data, let from = src.baseAddress { data.update(from: from, count: src.count) }
            }
            try avCheck(avcodec_send_packet(ctx, pkt), "decoding PNG", status: .dataError)
            var r = avcodec_receive_frame(ctx, frm)
            if r == tb_averror_eagain() {
                try avCheck(avcodec_send_packet(ctx, nil), "flushing the PNG decoder", status: .dataError)
                r = avcodec_receive_frame(ctx, frm)
            }
            if r == tb_averror_eof() || r == tb_averror_eagain() {
                throw Failure.data("decoding PNG: no picture in the data")
            }
            try avCheck(r, "decoding PNG", status: .dataError)
            return try rgbImage(from: frm)
        }
    }

    /// Runs `body` with a context for `codec`, a frame and a packet, freed on every path.
    private static func withCodec<R>(_ codec: UnsafePointer<AVCodec>, _ what: String,
                                      _ body: (UnsafeMutablePointer<AVCodecContext>, UnsafeMutablePointer<AVFrame>,
                                               UnsafeMutablePointer<AVPacket>) throws -> R) throws -> R {
        var context = avcodec_alloc_context3(codec)
        defer { avcodec_free_context(&context) }
        var frame = av_frame_alloc()
        defer { av_frame_free(&frame) }
        var packet = av_packet_alloc()
        defer { av_packet_free(&packet) }
        guard let ctx = context, let frm = frame, let pkt = packet else {
            throw Failure.internalError("\(what): out of memory")
        }
        return try body(ctx, frm, pkt)
    }

    /// An RGBImage from a decoded frame of any pixel format libswscale reads.
    static func rgbImage(from frm: UnsafeMutablePointer<AVFrame>) throws -> RGBImage {
        let w = frm.pointee.width, h = frm.pointee.height
        guard w > 0, h > 0 else { throw Failure.data("decoding PNG: empty \(w)x\(h) picture") }
        let format = AVPixelFormat(rawValue: frm.pointee.format)
        if format == AV_PIX_FMT_RGB24 { return try imageRows(of: frm) }

        guard let sws = sws_getContext(w, h, format, w, h, AV_PIX_FMT_RGB24,
                                       Int32(SWS_POINT | SWS_ACCURATE_RND), nil, nil, nil) else {
            let name = av_get_pix_fmt_name(format).map { String(cString: $0) } ?? "\(format.rawValue)"
            throw Failure.data("decoding PNG: cannot convert pixel format \(name) to RGB")
        }
        defer { sws_freeContext(sws) }
        var converted = av_frame_alloc()
        defer { av_frame_free(&converted) }
        guard let rgb = converted else { throw Failure.internalError("PNG decoder: out of memory") }
        rgb.pointee.format = AV_PIX_FMT_RGB24.rawValue
        rgb.pointee.width = w
        rgb.pointee.height = h
        try avCheck(av_frame_get_buffer(rgb, 0), "allocating a frame", status: .software)
        try avCheck(sws_scale_frame(sws, rgb, frm), "converting the PNG picture to RGB", status: .software)
        return try imageRows(of: rgb)
    }

    /// Copies an RGB24 frame's rows (which may be padded to `linesize`) into a packed image.
    static func imageRows(of frm: UnsafeMutablePointer<AVFrame>) throws -> RGBImage {
        let w = Int(frm.pointee.width), h = Int(frm.pointee.height)
        let stride = Int(frm.pointee.linesize.0)
        guard let base = frm.pointee.data.0, stride >= w * 3 else {
            throw Failure.internalError("RGB frame has no pixel data")
        }
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        pixels.withUnsafeMutableBufferPointer { dst in
            guard let to = dst.baseAddress else { return }
            for y in 0..<h { (to + y * w * 3).update(from: base + y * stride, count: w * 3) }
        }
        return try RGBImage(width: w, height: h, pixels: pixels)
    }

    /// Copies a packed image into an RGB24 frame whose buffer is allocated.
    static func copyRows(from image: RGBImage, to frm: UnsafeMutablePointer<AVFrame>) throws {
        try avCheck(av_frame_make_writable(frm), "making the frame writable", status: .software)
        let stride = Int(frm.pointee.linesize.0), rowBytes = image.width * 3
        guard let base = frm.pointee.data.0, stride >= rowBytes else {
            throw Failure.internalError("RGB frame has no pixel data")
        }
        image.pixels.withUnsafeBufferPointer { src in
            guard let from = src.baseAddress else { return }
            for y in 0..<image.height { (base + y * stride).update(from: from + y * rowBytes, count: rowBytes) }
        }
    }
}
