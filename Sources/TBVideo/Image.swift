// An 8-bit RGB raster: the picture type of thumbnails, contact sheets, plots and
// PNG files. Geometry never traps: coordinates outside the image are clipped.

import TBCore
import TBStream

/// A 24-bit colour.
public struct RGB: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// A grey level.
    public init(gray: UInt8) { self.init(gray, gray, gray) }

    public static let black = RGB(0, 0, 0)
    public static let white = RGB(255, 255, 255)

    public var description: String { "rgb(\(r),\(g),\(b))" }
}

/// A pixel position; x grows to the right, y downwards.
public struct Point: Equatable, Hashable, Sendable {
    public var x: Int
    public var y: Int

    public init(x: Int, y: Int) {
        self.x = x
        self.y = y
    }
}

/// An axis-aligned rectangle of pixels: columns x..<x+width, rows y..<y+height.
public struct Rect: Equatable, Hashable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// The columns and rows of the rectangle that lie in a `width`×`height` image;
    /// empty ranges when none do. Saturates instead of overflowing on huge values.
    public func clipped(width w: Int, height h: Int) -> (columns: Range<Int>, rows: Range<Int>) {
        func span(_ start: Int, _ length: Int, _ limit: Int) -> Range<Int> {
            guard length > 0, limit > 0 else { return 0..<0 }
            let (end, overflow) = start.addingReportingOverflow(length)
            let lo = max(start, 0)
            let hi = min(overflow ? Int.max : end, limit)
            return lo < hi ? lo..<hi : 0..<0
        }
        return (span(x, width, w), span(y, height, h))
    }
}

/// Packed RGB24 pixels, row-major, no row padding: pixel (x, y) is at `3 * (y * width + x)`.
public struct RGBImage: Equatable, Sendable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// `width * height * 3` bytes; code that writes here directly must keep that count.
    public var pixels: [UInt8]

    /// An image filled with one colour. Negative sizes become 0.
    public init(width: Int, height: Int, color: RGB = .black) {
        self.width = max(width, 0)
        self.height = max(height, 0)
        let n = self.width * self.height
        var p = [UInt8](repeating: 0, count: n * 3)
        if color != .black {
            for i in 0..<n {
                p[3 * i] = color.r
                p[3 * i + 1] = color.g
                p[3 * i + 2] = color.b
            }
        }
        pixels = p
    }

    /// An image over existing RGB24 bytes; throws `.dataError` when the count is not `width*height*3`.
    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        guard width >= 0, height >= 0, width.multipliedReportingOverflow(by: height).overflow == false,
              pixels.count == width * height * 3 else {
            throw Failure.data("\(pixels.count) bytes are not a \(width)x\(height) RGB image")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Whether the image has no pixels.
    public var isEmpty: Bool { width == 0 || height == 0 }

    /// Whether (x, y) lies inside the image.
    public func contains(x: Int, y: Int) -> Bool { x >= 0 && y >= 0 && x < width && y < height }

    /// The colour at (x, y), or nil outside the image.
    public func pixel(x: Int, y: Int) -> RGB? {
        guard contains(x: x, y: y) else { return nil }
        let i = 3 * (y * width + x)
        return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Sets the colour at (x, y); does nothing outside the image.
    public mutating func setPixel(x: Int, y: Int, _ color: RGB) {
        guard contains(x: x, y: y) else { return }
        let i = 3 * (y * width + x)
        pixels[i] = color.r
        pixels[i + 1] = color.g
        pixels[i + 2] = color.b
    }

    /// The part of the image inside `rect` (clipped to the image, so possibly smaller or empty).
    public func cropped(to rect: Rect) -> RGBImage {
        let (cols, rows) = rect.clipped(width: width, height: height)
        var out = RGBImage(width: cols.count, height: rows.count)
        guard !out.isEmpty else { return out }
        let rowBytes = cols.count * 3
        for (oy, y) in rows.enumerated() {
            let src = 3 * (y * width + cols.lowerBound)
            out.pixels.replaceSubrange(oy * rowBytes..<(oy + 1) * rowBytes,
                                       with: pixels[src..<src + rowBytes])
        }
        return out
    }

    /// Copies `image` with its top-left corner at `origin`; parts falling outside are dropped.
    public mutating func paste(_ image: RGBImage, at origin: Point) {
        let (cols, rows) = Rect(x: origin.x, y: origin.y, width: image.width, height: image.height)
            .clipped(width: width, height: height)
        guard !cols.isEmpty, !rows.isEmpty else { return }
        // Clipped ranges lie within origin..<origin+size, so these subtractions cannot overflow.
        let srcX = cols.lowerBound - origin.x
        let rowBytes = cols.count * 3
        for y in rows {
            let src = 3 * ((y - origin.y) * image.width + srcX)
            let dst = 3 * (y * width + cols.lowerBound)
            pixels.replaceSubrange(dst..<dst + rowBytes, with: image.pixels[src..<src + rowBytes])
        }
    }
}

// MARK: - Resizing

/// How `resized` computes a destination pixel from the source.
public enum ResizeFilter: Sendable {
    /// The source pixel whose area contains the destination pixel's centre: blocky, exact colours.
    case nearest
    /// Linear interpolation between the four nearest source pixels (pixel centres aligned).
    case bilinear
}

extension RGBImage {
    /// The image scaled to `width`×`height` (an empty image when either is ≤ 0 or the source is empty).
    public func resized(width w: Int, height h: Int, filter: ResizeFilter = .bilinear) -> RGBImage {
        guard w > 0, h > 0, !isEmpty else { return RGBImage(width: 0, height: 0) }
        if w == width && h == height { return self }
        var out = RGBImage(width: w, height: h)
        // Pixel centres map to pixel centres: src = (dst + 0.5) * scale - 0.5.
        let sx = Double(width) / Double(w), sy = Double(height) / Double(h)
        switch filter {
        case .nearest:
            let xs = (0..<w).map { min(Int((Double($0) + 0.5) * sx), width - 1) }
            for y in 0..<h {
                let srcRow = min(Int((Double(y) + 0.5) * sy), height - 1) * width
                for x in 0..<w {
                    let s = 3 * (srcRow + xs[x]), d = 3 * (y * w + x)
                    out.pixels[d] = pixels[s]
                    out.pixels[d + 1] = pixels[s + 1]
                    out.pixels[d + 2] = pixels[s + 2]
                }
            }
        case .bilinear:
            func taps(_ n: Int, _ scale: Double, _ limit: Int) -> [(Int, Int, Double)] {
                (0..<n).map { i in
                    let c = min(max((Double(i) + 0.5) * scale - 0.5, 0), Double(limit - 1))
                    let lo = Int(c)
                    return (lo, min(lo + 1, limit - 1), c - Double(lo))
                }
            }
            let xt = taps(w, sx, width), yt = taps(h, sy, height)
            for y in 0..<h {
                let (y0, y1, fy) = yt[y]
                for x in 0..<w {
                    let (x0, x1, fx) = xt[x]
                    let a = 3 * (y0 * width + x0), b = 3 * (y0 * width + x1)
                    let c = 3 * (y1 * width + x0), e = 3 * (y1 * width + x1)
                    let d = 3 * (y * w + x)
                    for k in 0..<3 {
                        let top: Double = Double(pixels[a + k]) * (1 - fx) + Double(pixels[b + k]) * fx
                        let bottom: Double = Double(pixels[c + k]) * (1 - fx) + Double(pixels[e + k]) * fx
                        let v: Double = (top * (1 - fy) + bottom * fy).rounded()
                        out.pixels[d + k] = UInt8(min(max(v, 0), 255))
                    }
                }
            }
        }
        return out
    }

    /// The image scaled to `height` rows, keeping its aspect ratio (at least one column).
    public func resized(toHeight h: Int, filter: ResizeFilter = .bilinear) -> RGBImage {
        guard height > 0 else { return RGBImage(width: 0, height: 0) }
        // Clamped so that an extreme aspect ratio cannot overflow the conversion to Int.
        let exact: Double = (Double(width) * Double(h) / Double(height)).rounded()
        let w = Int(min(max(exact, 1), Double(1 << 30)))
        return resized(width: w, height: h, filter: filter)
    }
}

// MARK: - Frames of a record

/// Where the pictures are in an image-like record: u8 pixels, shape [..., H, W, C] with C = 3 (RGB)
/// or 1 (grey), channels last. Every leading axis (T of "THWC", N and T of "NTHWC", B and T of a
/// sample) counts frames, in payload order, so the frames of a multi-clip record run clip by clip.
public struct FrameGeometry: Equatable, Sendable {
    /// Frames in the record: the product of the axes before H, W, C.
    public let count: Int
    /// Rows of each frame.
    public let height: Int
    /// Columns of each frame.
    public let width: Int
    /// 3 for RGB, 1 for grey.
    public let channels: Int

    /// Throws `.dataError` naming the shape when the record does not hold u8 pictures.
    public init(record: Record) throws {
        let shape = record.shape
        func notImage(_ why: String) -> Failure {
            let layout = record.layout.map { ", layout \($0)" } ?? ""
            let described = "\(record.dtype.rawValue) shape \(FrameGeometry.text(of: shape))\(layout)"
            return Failure.data("\(described) is not an image: \(why)")
        }
        guard record.dtype == .u8 else { throw notImage("pixels must be u8") }
        guard shape.count >= 3 else { throw notImage("need [..., H, W, C], channels last") }
        if let layout = record.layout, layout.count != shape.count || !layout.hasSuffix("HWC") {
            throw notImage("layout must end in HWC and name every axis")
        }
        let c = shape[shape.count - 1], w = shape[shape.count - 2], h = shape[shape.count - 3]
        guard c == 1 || c == 3 else { throw notImage("\(c) channels; need 1 (grey) or 3 (RGB)") }
        guard h > 0, w > 0 else { throw notImage("empty \(h)x\(w) frames") }
        guard let bytes = Record.byteCount(dtype: .u8, shape: shape), bytes == record.payload.count else {
            throw notImage("payload has \(record.payload.count) bytes")
        }
        count = shape.dropLast(3).reduce(1, *)
        height = h
        width = w
        channels = c
    }

    /// A shape as tb's messages print it: `[8,64,64,3]`.
    static func text(of shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ",") + "]"
    }

    /// Bytes of one frame in the payload.
    public var frameBytes: Int { height * width * channels }
}

extension RGBImage {
    /// Frame `index` (counted over all leading axes) of an image-like record; grey frames become RGB.
    /// Throws `.dataError` when the record is not image-like or the frame does not exist.
    public init(record: Record, frame index: Int) throws {
        let g = try FrameGeometry(record: record)
        try self.init(record: record, geometry: g, frame: index)
    }

    init(record: Record, geometry g: FrameGeometry, frame index: Int) throws {
        guard index >= 0, index < g.count else {
            let shape = FrameGeometry.text(of: record.shape)
            throw Failure.data("frame \(index) does not exist: shape \(shape) has \(g.count) frames")
        }
        let start = index * g.frameBytes
        if g.channels == 3 {
            try self.init(width: g.width, height: g.height,
                          pixels: Array(record.payload[start..<start + g.frameBytes]))
        } else {
            var p = [UInt8](repeating: 0, count: g.width * g.height * 3)
            for i in 0..<(g.width * g.height) {
                let v = record.payload[start + i]
                p[3 * i] = v
                p[3 * i + 1] = v
                p[3 * i + 2] = v
            }
            try self.init(width: g.width, height: g.height, pixels: p)
        }
    }

    /// Every frame of an image-like record, in payload order (clip by clip for "NTHWC").
    public static func frames(of record: Record) throws -> [RGBImage] {
        let g = try FrameGeometry(record: record)
        return try (0..<g.count).map { try RGBImage(record: record, geometry: g, frame: $0) }
    }
}
