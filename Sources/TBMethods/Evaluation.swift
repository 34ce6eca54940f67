// Classification scores of predictions against the truth: top-1, top-5, mean class
// accuracy, per-class accuracy, the confusion matrix and its most confused pairs.

import TBCore

/// One prediction with its true class.
public struct Scored: Sendable {
    public var id: String
    public var truth: Int
    /// Class probabilities (or scores); the prediction is their argmax.
    public var probs: [Float]
    /// Value of the `--by` field, when asked for.
    public var group: String?

    public init(id: String, truth: Int, probs: [Float], group: String? = nil) {
        self.id = id
        self.truth = truth
        self.probs = probs
        self.group = group
    }

    public var prediction: Int { probs.indices.max { probs[$0] < probs[$1] } ?? 0 }

    /// Whether the truth is among the k most probable classes (ties broken towards the lower index).
    public func inTop(_ k: Int) -> Bool {
        let better = probs.indices.filter { probs[$0] > probs[truth] || (probs[$0] == probs[truth] && $0 < truth) }.count
        return better < k
    }
}

/// The scores of a set of predictions over `classes` classes.
public struct Report: Sendable {
    public var count: Int
    public var top1: Double
    public var top5: Double
    /// Mean over classes that occur in the truth of their accuracy.
    public var meanClassAccuracy: Double
    /// Accuracy per class (nil: no video of the class).
    public var perClass: [Double?]
    /// confusion[truth][prediction].
    public var confusion: [[Int]]

    public init(_ items: [Scored], classes: Int) {
        count = items.count
        var matrix = Array(repeating: Array(repeating: 0, count: classes), count: classes)
        var top5Hits = 0
        for item in items {
            matrix[item.truth][item.prediction] += 1
            if item.inTop(5) { top5Hits += 1 }
        }
        confusion = matrix
        let right = (0..<classes).reduce(0) { $0 + matrix[$1][$1] }
        top1 = items.isEmpty ? 0 : Double(right) / Double(items.count)
        top5 = items.isEmpty ? 0 : Double(top5Hits) / Double(items.count)
        perClass = (0..<classes).map { c in
            let n = matrix[c].reduce(0, +)
            return n == 0 ? nil : Double(matrix[c][c]) / Double(n)
        }
        let present = perClass.compactMap { $0 }
        meanClassAccuracy = present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count)
    }

    /// Off-diagonal cells, most videos first: (truth, prediction, count).
    public func mostConfused(_ n: Int) -> [(truth: Int, predicted: Int, count: Int)] {
        var cells: [(Int, Int, Int)] = []
        for t in confusion.indices { for p in confusion.indices where p != t && confusion[t][p] > 0 {
            cells.append((t, p, confusion[t][p]))
        } }
        return Array(cells.sorted { ($0.2, -$0.0, -$0.1) > ($1.2, -$1.0, -$1.1) }.prefix(n))
            .map { (truth: $0.0, predicted: $0.1, count: $0.2) }
    }
}
