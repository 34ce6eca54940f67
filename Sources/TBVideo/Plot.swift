// A small raster plotter for tb-eval: confusion matrices as heat maps and training curves
// as line charts, drawn on a Canvas with the built-in font, so no Python is needed to look
// at a run. Pictures, not publication figures: readable axes, one colour per run.

import Foundation

/// Colours for runs, distinguishable on white.
public let plotPalette: [RGB] = [RGB(31, 119, 180), RGB(214, 39, 40), RGB(44, 160, 44), RGB(255, 127, 14),
                                 RGB(148, 103, 189), RGB(140, 86, 75), RGB(227, 119, 194), RGB(23, 190, 207)]

public enum Plot {
    /// A confusion matrix (rows: truth, columns: prediction) as a heat map with class
    /// labels and counts; each row is shaded by its share of the row's videos.
    public static func confusion(_ matrix: [[Int]], names: [String]) -> RGBImage {
        let k = matrix.count
        let cell = max(14, min(40, 640 / max(k, 1)))
        let label = min(16, names.map(\.count).max() ?? 2)
        let left = label * 6 + 10, top = 30
        var canvas = Canvas(width: left + k * cell + 10, height: top + k * cell + 24, background: .white)
        canvas.text("truth \\ predicted", at: Point(x: 4, y: 6), color: .black)
        for t in 0..<k {
            let total = max(matrix[t].reduce(0, +), 1)
            canvas.text(String(names[t].prefix(label)), at: Point(x: 4, y: top + t * cell + (cell - 7) / 2), color: .black)
            for p in 0..<k {
                let share = Double(matrix[t][p]) / Double(total)
                let shade = UInt8(255 - Int(share * 200))
                let color = t == p ? RGB(shade, 255 - UInt8(share * 60), shade) : RGB(255, shade, shade)
                let r = Rect(x: left + p * cell, y: top + t * cell, width: cell, height: cell)
                canvas.fill(rect: r, color: matrix[t][p] == 0 ? .white : color)
                canvas.outline(rect: r, color: RGB(gray: 200))
                if matrix[t][p] > 0 && cell >= 18 {
                    let text = String(matrix[t][p])
                    canvas.text(text, at: Point(x: r.x + (cell - text.count * 6) / 2, y: r.y + (cell - 7) / 2), color: .black)
                }
            }
        }
        for p in 0..<k {
            let text = String(p)
            canvas.text(text, at: Point(x: left + p * cell + (cell - text.count * 6) / 2, y: top + k * cell + 6), color: .black)
        }
        return canvas.image
    }

    /// One series of a line chart.
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    /// Panels of line charts in a grid, two across; each panel has a title, its y range
    /// written at the top and bottom, the x range below, and one line per series (runs keep
    /// their colour across panels, by position in `runs`).
    public static func curves(panels: [(title: String, series: [Series])], runs: [String]) -> RGBImage {
        let pw = 360, ph = 200, columns = min(2, max(panels.count, 1))
        let rows = (panels.count + columns - 1) / columns
        let legend = 16 * ((runs.count + 2) / 3) + 8
        var canvas = Canvas(width: columns * pw + 10, height: legend + rows * ph + 10, background: .white)
        for (i, run) in runs.enumerated() {
            let x = 8 + (i % 3) * 240, y = 6 + (i / 3) * 16
            canvas.fill(rect: Rect(x: x, y: y + 2, width: 14, height: 4), color: plotPalette[i % plotPalette.count])
            canvas.text(String(run.suffix(36)), at: Point(x: x + 20, y: y), color: .black)
        }
        for (n, panel) in panels.enumerated() {
            let ox = 5 + (n % columns) * pw, oy = legend + (n / columns) * ph
            let plot = Rect(x: ox + 52, y: oy + 18, width: pw - 64, height: ph - 46)
            canvas.text(panel.title, at: Point(x: ox + 52, y: oy + 4), color: .black)
            canvas.outline(rect: plot, color: RGB(gray: 160))
            let all = panel.series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
            guard let x0 = all.map(\.x).min(), let x1 = all.map(\.x).max(),
                  var y0 = all.map(\.y).min(), var y1 = all.map(\.y).max() else { continue }
            if y1 == y0 {
                let pad = max(abs(y0) * 0.1, 1e-9)
                y0 -= pad
                y1 += pad
            }
            let xs = x1 > x0 ? x1 - x0 : 1
            canvas.text(short(y1), at: Point(x: ox, y: plot.y), color: .black)
            canvas.text(short(y0), at: Point(x: ox, y: plot.y + plot.height - 7), color: .black)
            canvas.text(short(x0), at: Point(x: plot.x, y: plot.y + plot.height + 5), color: .black)
            let right = short(x1)
            canvas.text(right, at: Point(x: plot.x + plot.width - right.count * 6, y: plot.y + plot.height + 5), color: .black)
            for s in panel.series {
                let color = plotPalette[(runs.firstIndex(of: s.name) ?? 0) % plotPalette.count]
                var last: Point?
                for p in s.points where p.x.isFinite && p.y.isFinite {
                    let q = Point(x: plot.x + Int((p.x - x0) / xs * Double(plot.width - 1)),
                                  y: plot.y + plot.height - 1 - Int((p.y - y0) / (y1 - y0) * Double(plot.height - 1)))
                    if let last { canvas.line(from: last, to: q, color: color) } else {
                        canvas.fill(rect: Rect(x: q.x - 1, y: q.y - 1, width: 3, height: 3), color: color)
                    }
                    last = q
                }
            }
        }
        return canvas.image
    }

    /// A number in at most 8 characters.
    static func short(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e7 { return String(Int(v)) }
        let a = abs(v)
        if a >= 0.01 && a < 1e5 { return String(format: "%.4g", v) }
        return String(format: "%.1e", v)
    }
}
