// Drawing on an RGBImage: rectangles, lines, text and pictures. The base of tb's small
// raster plotter (contact sheets, confusion matrices, training curves). Every operation
// clips at the image's edges and accepts any Int coordinates without trapping.

/// Which way text runs.
public enum TextDirection: Sendable {
    /// Left to right, as usual.
    case horizontal
    /// Bottom to top (turned 90° counter-clockwise), as on a plot's y axis.
    case upward
}

/// An image being drawn on. Drawing never grows the image; what falls outside is dropped.
public struct Canvas: Sendable {
    /// The picture so far.
    public var image: RGBImage
    /// The font `text` draws with.
    public var font: Font = .standard

    /// A canvas over an existing image.
    public init(image: RGBImage) { self.image = image }

    /// A blank canvas of one colour.
    public init(width: Int, height: Int, background: RGB = .black) {
        image = RGBImage(width: width, height: height, color: background)
    }

    /// Columns of the image.
    public var width: Int { image.width }
    /// Rows of the image.
    public var height: Int { image.height }

    /// Paints every pixel of `rect` that lies on the canvas.
    public mutating func fill(rect: Rect, color: RGB) {
        let (cols, rows) = rect.clipped(width: image.width, height: image.height)
        guard !cols.isEmpty, !rows.isEmpty else { return }
        let w = image.width
        image.pixels.withUnsafeMutableBufferPointer { p in
            for y in rows {
                var i = 3 * (y * w + cols.lowerBound)
                for _ in cols {
                    p[i] = color.r
                    p[i + 1] = color.g
                    p[i + 2] = color.b
                    i += 3
                }
            }
        }
    }

    /// Paints the one-pixel border just inside `rect`.
    public mutating func outline(rect: Rect, color: RGB) {
        guard rect.width > 0, rect.height > 0 else { return }
        let right = Canvas.add(rect.x, rect.width - 1), bottom = Canvas.add(rect.y, rect.height - 1)
        fill(rect: Rect(x: rect.x, y: rect.y, width: rect.width, height: 1), color: color)
        fill(rect: Rect(x: rect.x, y: bottom, width: rect.width, height: 1), color: color)
        fill(rect: Rect(x: rect.x, y: rect.y, width: 1, height: rect.height), color: color)
        fill(rect: Rect(x: right, y: rect.y, width: 1, height: rect.height), color: color)
    }

    /// Paints a one-pixel line from `a` to `b`, both ends included (Bresenham's pixels: along the
    /// longer axis one pixel per step, the other coordinate rounded to the nearest, halves away from `a`).
    public mutating func line(from a: Point, to b: Point, color: RGB) {
        guard !image.isEmpty else { return }
        var p = a, q = b
        // Beyond ±2^28 the integer steps below could overflow; cut the segment to that box first.
        // Rounding the cut ends moves the visible pixels by at most one.
        let limit = 1 << 28
        if [a.x, a.y, b.x, b.y].contains(where: { $0 < -limit || $0 > limit }) {
            guard let (c, d) = Canvas.clip(a, b, low: Double(-limit), high: Double(limit)) else { return }
            p = c
            q = d
        }
        let dx = q.x - p.x, dy = q.y - p.y
        let major = max(abs(dx), abs(dy)), minor = min(abs(dx), abs(dy))
        let xMajor = abs(dx) >= abs(dy)
        // Walk only the steps whose major coordinate is on the canvas: at most width or height of them.
        let start = xMajor ? p.x : p.y, step = (xMajor ? dx : dy) < 0 ? -1 : 1
        let extent = xMajor ? image.width : image.height
        let first = step > 0 ? max(0, -start) : max(0, start - (extent - 1))
        let last = step > 0 ? min(major, extent - 1 - start) : min(major, start)
        guard first <= last else { return }
        let minorStep = (xMajor ? dy : dx) < 0 ? -1 : 1
        for i in first...last {
            let offset = major == 0 ? 0 : (2 * i * minor + major) / (2 * major)
            let m = start + step * i
            if xMajor {
                image.setPixel(x: m, y: p.y + minorStep * offset, color)
            } else {
                image.setPixel(x: p.x + minorStep * offset, y: m, color)
            }
        }
    }

    /// Draws `text` with its bounding box's top-left corner at `origin` (see `Font.size(of:scale:)`;
    /// for `.upward` text the box is turned, so it is that size's height wide). "\n" starts a new line;
    /// characters outside printable ASCII draw as a hollow box. `scale` is clamped to 1...256.
    public mutating func text(_ text: String, at origin: Point, color: RGB, scale: Int = 1,
                              direction: TextDirection = .horizontal) {
        let s = Font.clampScale(scale)
        let boxWidth = font.size(of: text, scale: s).width
        var line = 0, column = 0
        for c in text {
            if c == "\n" {
                line += 1
                column = 0
                continue
            }
            let glyph = font.glyph(c)
            // Offsets of the glyph's top-left inside the unturned text box.
            let left = column * font.advance * s, top = line * font.lineHeight * s
            column += 1
            for gy in 0..<glyph.height {
                for gx in 0..<glyph.width where glyph.isSet(x: gx, y: gy) {
                    let u = left + gx * s, v = top + gy * s
                    let dot: Rect
                    switch direction {
                    case .horizontal:
                        dot = Rect(x: Canvas.add(origin.x, u), y: Canvas.add(origin.y, v), width: s, height: s)
                    case .upward:
                        dot = Rect(x: Canvas.add(origin.x, v), y: Canvas.add(origin.y, boxWidth - u - s),
                                   width: s, height: s)
                    }
                    fill(rect: dot, color: color)
                }
            }
        }
    }

    /// Copies `picture` with its top-left corner at `origin`.
    public mutating func draw(_ picture: RGBImage, at origin: Point) {
        image.paste(picture, at: origin)
    }

    /// a + b, saturating at Int's limits instead of trapping.
    static func add(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? Int.max : Int.min) : sum
    }

    /// Liang–Barsky: the part of segment a→b inside the square [low, high]², or nil if none is.
    static func clip(_ a: Point, _ b: Point, low: Double, high: Double) -> (Point, Point)? {
        let x0 = Double(a.x), y0 = Double(a.y)
        let dx = Double(b.x) - x0, dy = Double(b.y) - y0
        var t0 = 0.0, t1 = 1.0
        for (p, q) in [(-dx, x0 - low), (dx, high - x0), (-dy, y0 - low), (dy, high - y0)] {
            if p == 0 {
                if q < 0 { return nil }
                continue
            }
            let r = q / p
            if p < 0 {
                if r > t1 { return nil }
                t0 = max(t0, r)
            } else {
                if r < t0 { return nil }
                t1 = min(t1, r)
            }
        }
        func at(_ t: Double) -> Point {
            let x = min(max((x0 + t * dx).rounded(), low), high)
            let y = min(max((y0 + t * dy).rounded(), low), high)
            return Point(x: Int(x), y: Int(y))
        }
        return (at(t0), at(t1))
    }
}
