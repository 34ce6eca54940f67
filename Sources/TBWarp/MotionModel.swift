// The model file of `tb-warp fit` (tb-warp(1), MODEL FILE): μ and Σ over the 8 homography
// parameters, class-agnostic and per class, with the counts they came from.

import TBCore
import TBStream

/// Pairs of frames used and skipped, by reason.
public struct PairCounts: Equatable, Sendable {
    public var used = 0
    public var skipped: [SkipReason: Int] = [:]

    public init() {}

    public var totalSkipped: Int { skipped.values.reduce(0, +) }

    public mutating func add(_ other: PairCounts) {
        used += other.used
        for (k, v) in other.skipped { skipped[k, default: 0] += v }
    }

    var skippedJSON: JSON {
        .object(JSONObject(SkipReason.allCases.map { ($0.rawValue, JSON(skipped[$0] ?? 0)) }))
    }
}

/// One class's motion: its Gaussian, or nil when it had too few pairs (draws fall back to the
/// class-agnostic Gaussian).
public struct ClassMotion: Equatable, Sendable {
    public var label: Int
    public var name: String?
    public var counts: PairCounts
    public var gaussian: MotionGaussian?

    public init(label: Int, name: String?, counts: PairCounts, gaussian: MotionGaussian?) {
        self.label = label
        self.name = name
        self.counts = counts
        self.gaussian = gaussian
    }
}

public struct MotionModel: Sendable {
    public var gaussian: MotionGaussian
    public var counts: PairCounts
    public var classes: [ClassMotion]
    private let agnosticSampler: MotionSampler
    private let classSamplers: [Int: MotionSampler]

    /// Throws `.dataError` when a Σ is not symmetric positive semi-definite.
    public init(gaussian: MotionGaussian, counts: PairCounts = PairCounts(), classes: [ClassMotion] = []) throws {
        self.gaussian = gaussian
        self.counts = counts
        self.classes = classes
        guard let s = gaussian.sampler() else { throw Failure.data("\"sigma\" is not symmetric positive semi-definite") }
        agnosticSampler = s
        var bySampler: [Int: MotionSampler] = [:]
        for (i, c) in classes.enumerated() {
            guard let g = c.gaussian else { continue }
            guard let s = g.sampler() else {
                throw Failure.data("classes[\(i)]: \"sigma\" is not symmetric positive semi-definite")
            }
            bySampler[c.label] = s
        }
        classSamplers = bySampler
    }

    /// The class's sampler when the model has one for `label`, else the class-agnostic one.
    public func sampler(label: Int?) -> MotionSampler {
        label.flatMap { classSamplers[$0] } ?? agnosticSampler
    }

    // MARK: the file

    public static let formatName = "tb-warp motion model"
    public static let coordinates = "x = (column - (W-1)/2) / s, y = (row - (H-1)/2) / s, s = min(W,H)/2; "
        + "x' ~ H x maps frame t to frame t+1; H = I + [[p0,p1,p2],[p3,p4,p5],[p6,p7,0]]"

    public var json: JSON {
        var o = JSONObject()
        o["format"] = .string(Self.formatName)
        o["parameters"] = .array(Homography.parameterNames.map { .string($0) })
        o["coordinates"] = .string(Self.coordinates)
        o["covariance"] = .string("maximum likelihood: divisor n")
        Self.put(gaussian, counts, into: &o)
        if !classes.isEmpty {
            o["classes"] = .array(classes.map { c in
                var e = JSONObject([("label", JSON(c.label))])
                if let name = c.name { e["class"] = .string(name) }
                if let g = c.gaussian { Self.put(g, c.counts, into: &e) } else {
                    e["pairs"] = JSON(c.counts.used)
                    e["skipped"] = c.counts.skippedJSON
                    e["fallback"] = .string("class-agnostic")
                }
                return .object(e)
            })
        }
        return .object(o)
    }

    private static func put(_ g: MotionGaussian, _ c: PairCounts, into o: inout JSONObject) {
        o["pairs"] = JSON(c.used)
        o["skipped"] = c.skippedJSON
        o["mu"] = JSON(g.mean)
        o["sigma"] = .array((0..<8).map { JSON(Array(g.covariance[8 * $0..<8 * $0 + 8])) })
    }

    /// Reads a model file; errors name the file and the key (`.noInput` when it is missing).
    public static func load(path: String) throws -> MotionModel {
        let bytes = try InputFile(path: path).readAll()
        do {
            return try MotionModel(json: try JSON.parse(bytes))
        } catch let f as Failure {
            throw f.at(file: path == "-" ? "<stdin>" : path)
        }
    }

    public init(json: JSON) throws {
        guard let o = json.objectValue else { throw Failure.data("a JSON \(json.typeName), not a tb-warp model object") }
        if let names = o["parameters"], names != .array(Homography.parameterNames.map { .string($0) }) {
            throw Failure.data("\"parameters\" \(names.text) are not tb-warp's \(Homography.parameterNames)")
        }
        let g = try Self.gaussian(o, at: "")
        var classes: [ClassMotion] = []
        if let list = o["classes"] {
            guard let items = list.arrayValue else { throw Failure.data("\"classes\" is not an array") }
            for (i, item) in items.enumerated() {
                let at = "classes[\(i)]: "
                guard let e = item.objectValue else { throw Failure.data(at + "not an object") }
                guard let label = e["label"]?.intValue else { throw Failure.data(at + "no integer \"label\"") }
                let g = e["mu"] == nil && e["sigma"] == nil ? nil : try Self.gaussian(e, at: at)
                classes.append(ClassMotion(label: label, name: e["class"]?.stringValue, counts: Self.counts(e), gaussian: g))
            }
        }
        try self.init(gaussian: g, counts: Self.counts(o), classes: classes)
    }

    private static func gaussian(_ o: JSONObject, at: String) throws -> MotionGaussian {
        guard let mu = o["mu"] else { throw Failure.data(at + "no \"mu\"") }
        guard let sigma = o["sigma"] else { throw Failure.data(at + "no \"sigma\"") }
        func numbers(_ j: JSON, _ what: String) throws -> [Double] {
            guard let a = j.arrayValue else { throw Failure.data(at + "\(what) is a \(j.typeName), not an array of 8 numbers") }
            guard a.count == 8 else { throw Failure.data(at + "\(what) has \(a.count) numbers, not 8") }
            return try a.map {
                guard let d = $0.doubleValue, d.isFinite else { throw Failure.data(at + "\(what) holds \($0.text), not a number") }
                return d
            }
        }
        let mean = try numbers(mu, "\"mu\"")
        guard let rows = sigma.arrayValue else { throw Failure.data(at + "\"sigma\" is not an 8x8 array of arrays") }
        guard rows.count == 8 else { throw Failure.data(at + "\"sigma\" has \(rows.count) rows, not 8") }
        let cov = try rows.enumerated().flatMap { try numbers($0.element, "\"sigma\" row \($0.offset)") }
        return MotionGaussian(mean: mean, covariance: cov)
    }

    private static func counts(_ o: JSONObject) -> PairCounts {
        var c = PairCounts()
        c.used = o["pairs"]?.intValue ?? 0
        for r in SkipReason.allCases { if let n = o["skipped"]?.objectValue?[r.rawValue]?.intValue, n > 0 { c.skipped[r] = n } }
        return c
    }
}
