// A picture that says which frame it is: a 4×4 grid of cells, the top-left one red (so
// rotations and flips show), the other fifteen black or white for the bits of the frame
// number. Big flat cells survive lossy codecs and resizing, so tests, the benchmarks and
// `tb-toyset --frame-codes` can check frame selection exactly on real encoded video.

public enum FrameCode {
    /// Frame numbers that fit in the code: 0 ..< 32768.
    public static let capacity = 1 << 15

    /// The code picture of `number` (taken modulo `capacity`).
    public static func image(_ number: Int, width: Int, height: Int) -> RGBImage {
        var canvas = Canvas(width: width, height: height)
        let n = ((number % capacity) + capacity) % capacity
        for cell in 0..<16 {
            let color: RGB = cell == 0 ? RGB(255, 0, 0) : (n >> (cell - 1)) & 1 == 1 ? .white : .black
            let (x0, x1) = (cell % 4 * width / 4, (cell % 4 + 1) * width / 4)
            let (y0, y1) = (cell / 4 * height / 4, (cell / 4 + 1) * height / 4)
            canvas.fill(rect: Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0), color: color)
        }
        return canvas.image
    }

    /// The number in a code picture of `width`×`height` RGB24 pixels, or nil when its marker
    /// cell is not red (the picture is rotated, or not a code).
    public static func read(_ pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int) -> Int? {
        guard width >= 4, height >= 4, pixels.count >= width * height * 3 else { return nil }
        func sample(_ cell: Int) -> (Int, Int, Int) {
            let x = (2 * (cell % 4) + 1) * width / 8, y = (2 * (cell / 4) + 1) * height / 8
            let i = (y * width + x) * 3
            return (Int(pixels[i]), Int(pixels[i + 1]), Int(pixels[i + 2]))
        }
        let (r, g, b) = sample(0)
        guard r > 160, g < 96, b < 96 else { return nil }
        var n = 0
        for cell in 1..<16 {
            let (r, g, b) = sample(cell)
            if r + g + b > 3 * 128 { n |= 1 << (cell - 1) }
        }
        return n
    }

    /// `read` on an image.
    public static func read(_ image: RGBImage) -> Int? {
        image.pixels.withUnsafeBufferPointer { read($0, width: image.width, height: image.height) }
    }
}
