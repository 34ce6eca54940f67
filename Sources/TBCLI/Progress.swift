// A progress line on stderr: count, rate and, when the total is known, ETA.

import Foundation
import TBCore

public final class Progress {
    let label: String
    let total: Int?
    let unit: String
    let enabled: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast
    public private(set) var done = 0
    private var drawn = false

    init(label: String, total: Int?, unit: String, enabled: Bool) {
        self.label = label
        self.total = total
        self.unit = unit
        self.enabled = enabled
    }

    /// Counts `n` more units; redraws at most four times a second.
    public func advance(_ n: Int = 1) {
        done += n
        guard enabled else { return }
        let now = Date()
        if now.timeIntervalSince(lastDraw) >= 0.25 {
            lastDraw = now
            draw(now)
        }
    }

    /// Draws the final state and ends the line.
    public func finish() {
        guard enabled else { return }
        draw(Date())
        if drawn { writeStandardError("\n") }
    }

    private func draw(_ now: Date) {
        let elapsed = max(now.timeIntervalSince(start), 1e-6)
        let rate = Double(done) / elapsed
        var line = "\r\(label): \(done)"
        if let total { line += "/\(total)" }
        line += " \(unit), " + String(format: "%.1f/s", rate)
        if let total, rate > 0, done < total {
            line += ", ETA " + Progress.clock(Double(total - done) / rate)
        } else {
            line += ", " + Progress.clock(elapsed)
        }
        writeStandardError(line + "\u{1B}[K")
        drawn = true
    }

    /// 75 s → "1:15", 3725 s → "1:02:05".
    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                         : String(format: "%d:%02d", s / 60, s % 60)
    }
}
