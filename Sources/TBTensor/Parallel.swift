// Splitting a kernel's loop over independent items (rows, channels, planes) across cores.

import Dispatch

enum Parallel {
    /// Below this many elements of work, waking threads costs more than it saves.
    static let minimumWork = 1 << 16

    /// Runs `body(i)` for i in 0..<items on up to `computeThreads` threads when `work` (elements
    /// touched in all) is large. Callers give each item its own output memory and keep each
    /// item's arithmetic sequential, so results never depend on scheduling.
    static func forEach(_ items: Int, work: Int, _ body: (Int) -> Void) {
        let threads = min(computeThreads, items)
        if work < minimumWork || threads <= 1 {
            for i in 0..<items { body(i) }
        } else {
            // Round robin: neighbouring items cost about the same, so the shares stay even.
            DispatchQueue.concurrentPerform(iterations: threads) { k in
                for i in stride(from: k, to: items, by: threads) { body(i) }
            }
        }
    }
}
