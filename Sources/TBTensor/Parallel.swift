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

extension Parallel {
    /// The threads `forEach` and `forEachShare` use for `items` items and `work` elements.
    static func threads(_ items: Int, work: Int) -> Int {
        work < minimumWork ? 1 : max(1, min(computeThreads, items))
    }

    /// Runs `body(k, share)` once per thread k < threads(items, work), where share is the items
    /// k, k + threads, ... (the round robin of `forEach`): each thread sets up its scratch once
    /// and keeps per-thread results at index k, which callers combine in order of k.
    static func forEachShare(_ items: Int, work: Int, _ body: (Int, StrideTo<Int>) -> Void) {
        let threads = threads(items, work: work)
        if threads == 1 { return body(0, stride(from: 0, to: items, by: 1)) }
        DispatchQueue.concurrentPerform(iterations: threads) { k in body(k, stride(from: k, to: items, by: threads)) }
    }

    /// Elements per item of `forEachChunk`: enough that waking a thread pays.
    static let chunk = 1 << 16

    /// Runs `body(range)` over 0..<count cut into ranges of `chunk` elements, in parallel when
    /// there are several: for elementwise loops, whose results never depend on the cut.
    static func forEachChunk(_ count: Int, _ body: (Range<Int>) -> Void) {
        let chunks = (count + chunk - 1) / chunk
        forEach(chunks, work: count) { i in body(i * chunk..<min(count, (i + 1) * chunk)) }
    }
}

/// Runs `body` over 0..<count cut into ranges, in parallel on `computeThreads` threads when the
/// count is large: for elementwise loops (optimizer updates), whose results never depend on the cut.
public func forEachChunkInParallel(_ count: Int, _ body: (Range<Int>) -> Void) {
    Parallel.forEachChunk(count, body)
}
