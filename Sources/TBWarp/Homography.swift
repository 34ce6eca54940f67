// A homography of the image plane in normalised coordinates, as its 8 free parameters
// (h33 = 1), and the pixel <-> normalised coordinate change that makes it independent of
// the resolution (tb-warp(1), PARAMETERISATION).

/// H = I + [[p0, p1, p2], [p3, p4, p5], [p6, p7, 0]]: the parameters are H minus the identity,
/// so that the zero vector is "no motion" and a Gaussian over them is centred on a still camera.
/// H maps a point of frame t to where it appears in frame t+1: x' ~ H x (homogeneous).
public struct Homography: Equatable, Sendable {
    /// The 8 parameters in the order of `parameterNames`.
    public var parameters: [Double]

    /// The parameter order of the model file and of every vector tb-warp prints.
    public static let parameterNames = ["h11-1", "h12", "h13", "h21", "h22-1", "h23", "h31", "h32"]

    public static let identity = Homography(parameters: [Double](repeating: 0, count: 8))

    public init(parameters: [Double]) {
        precondition(parameters.count == 8, "Homography: 8 parameters, not \(parameters.count)")
        self.parameters = parameters
    }

    /// From a 3×3 row-major matrix, scaled so that its last entry is 1; nil when that entry is 0.
    public init?(matrix m: [Double]) {
        precondition(m.count == 9, "Homography: a 3x3 matrix has 9 entries")
        guard m[8] != 0, m.allSatisfy(\.isFinite) else { return nil }
        let s = 1 / m[8]
        self.init(parameters: [m[0] * s - 1, m[1] * s, m[2] * s, m[3] * s, m[4] * s - 1, m[5] * s, m[6] * s, m[7] * s])
    }

    /// The 3×3 matrix, row-major.
    public var matrix: [Double] {
        let p = parameters
        return [1 + p[0], p[1], p[2], p[3], 1 + p[4], p[5], p[6], p[7], 1]
    }

    /// Where (x, y) goes; nil when it goes to infinity or behind the camera (w <= 0).
    public func apply(x: Double, y: Double) -> (x: Double, y: Double)? {
        Matrix3.apply(matrix, x: x, y: y)
    }

    /// The inverse motion; nil when H is singular.
    public func inverse() -> Homography? {
        Matrix3.inverse(matrix).flatMap { Homography(matrix: $0) }
    }

    /// `a * b`: first b, then a.
    public static func * (a: Homography, b: Homography) -> Homography? {
        Homography(matrix: Matrix3.multiply(a.matrix, b.matrix))
    }
}

/// 3×3 row-major matrices as [Double] of 9.
public enum Matrix3 {
    public static let identity: [Double] = [1, 0, 0, 0, 1, 0, 0, 0, 1]

    public static func multiply(_ a: [Double], _ b: [Double]) -> [Double] {
        var c = [Double](repeating: 0, count: 9)
        for i in 0..<3 {
            for j in 0..<3 {
                c[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j]
            }
        }
        return c
    }

    /// By the adjugate; nil when the determinant is (relatively) zero.
    public static func inverse(_ m: [Double]) -> [Double]? {
        let c00 = m[4] * m[8] - m[5] * m[7], c01 = m[5] * m[6] - m[3] * m[8], c02 = m[3] * m[7] - m[4] * m[6]
        let det = m[0] * c00 + m[1] * c01 + m[2] * c02
        let scale = m.map(abs).max() ?? 0
        guard det.isFinite, abs(det) > 1e-12 * scale * scale * scale else { return nil }
        let d = 1 / det
        return [c00 * d, (m[2] * m[7] - m[1] * m[8]) * d, (m[1] * m[5] - m[2] * m[4]) * d,
                c01 * d, (m[0] * m[8] - m[2] * m[6]) * d, (m[2] * m[3] - m[0] * m[5]) * d,
                c02 * d, (m[1] * m[6] - m[0] * m[7]) * d, (m[0] * m[4] - m[1] * m[3]) * d]
    }

    @inline(__always)
    public static func apply(_ m: [Double], x: Double, y: Double) -> (x: Double, y: Double)? {
        let w = m[6] * x + m[7] * y + m[8]
        guard w > 1e-12 else { return nil }
        return ((m[0] * x + m[1] * y + m[2]) / w, (m[3] * x + m[4] * y + m[5]) / w)
    }
}

/// The coordinate change between pixels and normalised coordinates of a W×H frame:
/// x = (column − (W−1)/2) / s, y = (row − (H−1)/2) / s with s = min(W, H)/2, pixel centres at
/// integer columns and rows, y down. The shorter side spans [−1, 1] (less half a pixel each end).
public struct NormalisedFrame: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var centreX: Double { Double(width - 1) / 2 }
    public var centreY: Double { Double(height - 1) / 2 }
    /// Pixels per normalised unit.
    public var scale: Double { Double(min(width, height)) / 2 }

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Pixels to normalised coordinates, as a matrix.
    public var fromPixels: [Double] {
        [1 / scale, 0, -centreX / scale, 0, 1 / scale, -centreY / scale, 0, 0, 1]
    }

    /// Normalised coordinates to pixels, as a matrix.
    public var toPixels: [Double] {
        [scale, 0, centreX, 0, scale, centreY, 0, 0, 1]
    }

    /// H acting on this frame's pixel coordinates: N⁻¹ H N.
    public func pixelMatrix(_ h: Homography) -> [Double] {
        Matrix3.multiply(toPixels, Matrix3.multiply(h.matrix, fromPixels))
    }
}
