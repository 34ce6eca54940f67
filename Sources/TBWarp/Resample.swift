// Bilinear resampling of an RGB image through a projective map, edges replicated: the one
// pixel loop behind tb-warp's translate and perspective modes.

import TBVideo

public enum Resample {
    /// out(u, v) = image(A · (u, v, 1)) for every output pixel, A mapping output pixel coordinates
    /// to source pixel coordinates (row-major 3×3). Bilinear; a source position outside the image
    /// is clamped to its border (the edge pixels are replicated), and one with w <= 0 (behind the
    /// camera) takes the nearest corner's colour by the same clamp. Values round to nearest, so an
    /// exact integer position returns the source pixel unchanged.
    public static func image(_ image: RGBImage, through a: [Double], width: Int, height: Int) -> RGBImage {
        var result = RGBImage(width: width, height: height)
        let sw = image.width, sh = image.height
        let maxX = Double(sw - 1), maxY = Double(sh - 1)
        image.pixels.withUnsafeBufferPointer { src in
            result.pixels.withUnsafeMutableBufferPointer { dst in
                for v in 0..<height {
                    let fv = Double(v)
                    for u in 0..<width {
                        let fu = Double(u)
                        var w = a[6] * fu + a[7] * fv + a[8]
                        if !(w > 1e-12) { w = 1e-12 }
                        let x = min(max((a[0] * fu + a[1] * fv + a[2]) / w, 0), maxX)
                        let y = min(max((a[3] * fu + a[4] * fv + a[5]) / w, 0), maxY)
                        let x0 = Int(x), y0 = Int(y)
                        let x1 = min(x0 + 1, sw - 1), y1 = min(y0 + 1, sh - 1)
                        let fx = x - Double(x0), fy = y - Double(y0)
                        let w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy
                        let i00 = (y0 * sw + x0) * 3, i01 = (y0 * sw + x1) * 3
                        let i10 = (y1 * sw + x0) * 3, i11 = (y1 * sw + x1) * 3
                        let o = (v * width + u) * 3
                        for c in 0..<3 {
                            let value = w00 * Double(src[i00 + c]) + w01 * Double(src[i01 + c])
                                + w10 * Double(src[i10 + c]) + w11 * Double(src[i11 + c])
                            dst[o + c] = UInt8(min(max(value + 0.5, 0), 255))
                        }
                    }
                }
            }
        }
        return result
    }

    /// The same map, written the obvious way for the tests to check `image` against: per pixel,
    /// per channel, through `RGBImage.pixel` and the matrix applied as a projective map.
    public static func naive(_ image: RGBImage, through a: [Double], width: Int, height: Int) -> RGBImage {
        var out = RGBImage(width: width, height: height)
        func channel(_ p: RGB, _ c: Int) -> Double { Double(c == 0 ? p.r : c == 1 ? p.g : p.b) }
        for v in 0..<height {
            for u in 0..<width {
                let h = Double(u) * a[6] + Double(v) * a[7] + a[8]
                let w = h > 1e-12 ? h : 1e-12
                var x = (Double(u) * a[0] + Double(v) * a[1] + a[2]) / w
                var y = (Double(u) * a[3] + Double(v) * a[4] + a[5]) / w
                x = Swift.max(0, Swift.min(x, Double(image.width - 1)))
                y = Swift.max(0, Swift.min(y, Double(image.height - 1)))
                let left = Int(x.rounded(.down)), top = Int(y.rounded(.down))
                let right = Swift.min(left + 1, image.width - 1), bottom = Swift.min(top + 1, image.height - 1)
                let tx = x - Double(left), ty = y - Double(top)
                var rgb = [UInt8](repeating: 0, count: 3)
                for c in 0..<3 {
                    let upper = channel(image.pixel(x: left, y: top)!, c) * (1 - tx) + channel(image.pixel(x: right, y: top)!, c) * tx
                    let lower = channel(image.pixel(x: left, y: bottom)!, c) * (1 - tx)
                        + channel(image.pixel(x: right, y: bottom)!, c) * tx
                    rgb[c] = UInt8((upper * (1 - ty) + lower * ty).rounded(.toNearestOrAwayFromZero))
                }
                out.setPixel(x: u, y: v, RGB(rgb[0], rgb[1], rgb[2]))
            }
        }
        return out
    }
}
