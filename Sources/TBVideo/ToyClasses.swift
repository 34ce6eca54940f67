// The classes of the toy data set (tb-toyset(1)). Half are told apart by appearance
// alone (a shape and colour that every frame shows: temporally invariant), half by motion
// alone (the same grey ring moved or turned: only the order of frames tells them apart,
// and reversing time swaps left with right and clockwise with counter-clockwise).

import Foundation
import TBCore

/// One class of the toy data set. The raw value is the name in classes.txt and in paths.
public enum ToyClass: String, CaseIterable, Sendable {
    case redDisc = "red_disc"
    case greenSquare = "green_square"
    case blueTriangle = "blue_triangle"
    case yellowCross = "yellow_cross"
    case ringLeft = "ring_left"
    case ringRight = "ring_right"
    case ringClockwise = "ring_clockwise"
    case ringCounterclockwise = "ring_counterclockwise"

    /// What tells the class apart from the others of its group.
    public enum Group: String, CaseIterable, Sendable {
        case appearance, motion
    }

    public var group: Group {
        switch self {
        case .redDisc, .greenSquare, .blueTriangle, .yellowCross: return .appearance
        case .ringLeft, .ringRight, .ringClockwise, .ringCounterclockwise: return .motion
        }
    }

    /// The class a time-reversed video of this class looks like.
    public var reversed: ToyClass {
        switch self {
        case .ringLeft: return .ringRight
        case .ringRight: return .ringLeft
        case .ringClockwise: return .ringCounterclockwise
        case .ringCounterclockwise: return .ringClockwise
        default: return self
        }
    }

    /// How the class's object looks: every motion class shares one look.
    var look: ToyLook {
        switch self {
        case .redDisc: return ToyLook(shape: .disc, color: ToyColor(0.86, 0.12, 0.12))
        case .greenSquare: return ToyLook(shape: .square, color: ToyColor(0.12, 0.74, 0.22))
        case .blueTriangle: return ToyLook(shape: .triangle, color: ToyColor(0.18, 0.30, 0.92))
        case .yellowCross: return ToyLook(shape: .cross, color: ToyColor(0.93, 0.82, 0.14))
        case .ringLeft, .ringRight, .ringClockwise, .ringCounterclockwise:
            return ToyLook(shape: .ring, color: ToyColor(0.85, 0.85, 0.85))
        }
    }

    /// The classes a `--classes` value names: a comma-separated list of groups
    /// (`appearance`, `motion`), `all`, or class names, in classes.txt order without repeats.
    public static func parse(_ spec: String) throws -> [ToyClass] {
        var chosen = Set<ToyClass>()
        for item in spec.split(separator: ",", omittingEmptySubsequences: false) {
            let name = item.trimmingCharacters(in: .whitespaces)
            if name == "all" {
                chosen.formUnion(allCases)
            } else if let group = Group(rawValue: name) {
                chosen.formUnion(allCases.filter { $0.group == group })
            } else if let one = ToyClass(rawValue: name) {
                chosen.insert(one)
            } else {
                let known = (["all"] + Group.allCases.map(\.rawValue) + allCases.map(\.rawValue)).joined(separator: ", ")
                throw Failure.usage("unknown class or group '\(name)' (known: \(known))")
            }
        }
        return allCases.filter(chosen.contains)
    }
}

/// A linear RGB colour with components in 0...1.
struct ToyColor: Sendable {
    var r: Float, g: Float, b: Float

    init(_ r: Float, _ g: Float, _ b: Float) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// From hue (turns), saturation and value, all in 0...1.
    init(hue: Double, saturation: Double, value: Double) {
        let h = (hue - hue.rounded(.down)) * 6, i = Int(h) % 6, f = h - h.rounded(.down)
        let p = value * (1 - saturation), q = value * (1 - saturation * f), t = value * (1 - saturation * (1 - f))
        let (r, g, b): (Double, Double, Double)
        switch i {
        case 0: (r, g, b) = (value, t, p)
        case 1: (r, g, b) = (q, value, p)
        case 2: (r, g, b) = (p, value, t)
        case 3: (r, g, b) = (p, q, value)
        case 4: (r, g, b) = (t, p, value)
        default: (r, g, b) = (value, p, q)
        }
        self.init(Float(r), Float(g), Float(b))
    }

    func scaled(_ k: Float) -> ToyColor { ToyColor(min(r * k, 1), min(g * k, 1), min(b * k, 1)) }
}

/// The outlines objects are drawn with.
enum ToyShape: Sendable {
    case disc, square, triangle, cross
    /// A ring with one dark spoke from its centre, so that turning shows.
    case ring
}

/// A shape in a colour.
struct ToyLook: Sendable {
    var shape: ToyShape
    var color: ToyColor

    /// The ring's spoke: dark, so that it stands out from the ring and from any background.
    static let spokeColor = ToyColor(0.08, 0.08, 0.08)

    /// The shape's layers at a point in object coordinates (in units of the object's radius,
    /// x along its orientation): signed distance (negative inside) and colour, painted in order.
    func layers(_ x: Double, _ y: Double) -> [(distance: Double, color: ToyColor)] {
        switch shape {
        case .disc:
            return [((x * x + y * y).squareRoot() - 1, color)]
        case .square:
            return [(Self.box(x, y, 0.85, 0.85), color)]
        case .triangle:
            return [(Self.triangle(x, y, 1.05), color)]
        case .cross:
            return [(min(Self.box(x, y, 1, 0.32), Self.box(x, y, 0.32, 1)), color)]
        case .ring:
            let ring = abs((x * x + y * y).squareRoot() - 0.85) - 0.15
            let spoke = Self.box(x - 0.36, y, 0.36, 0.13)
            return [(ring, color), (spoke, Self.spokeColor)]
        }
    }

    /// Signed distance to a box of half-sizes (bx, by) centred at the origin.
    static func box(_ x: Double, _ y: Double, _ bx: Double, _ by: Double) -> Double {
        let qx = abs(x) - bx, qy = abs(y) - by
        let outside = (max(qx, 0) * max(qx, 0) + max(qy, 0) * max(qy, 0)).squareRoot()
        return outside + min(max(qx, qy), 0)
    }

    /// Signed distance to an equilateral triangle with circumradius `r` (Quílez's formula).
    static func triangle(_ x: Double, _ y: Double, _ r: Double) -> Double {
        let k = 3.0.squareRoot(), a = r * k / 2  // a: half of a side
        var px = abs(x) - a, py = y + a / k
        if px + k * py > 0 { (px, py) = ((px - k * py) / 2, (-k * px - py) / 2) }
        px -= min(max(px, -2 * a), 0)
        return -(px * px + py * py).squareRoot() * (py < 0 ? -1 : 1)
    }
}
