// Frames that compress like decoded video: smooth shading, texture, objects that move,
// a slow camera pan and sensor noise, so zstd sees neither zeros nor white noise.

import TBCore
import TBStream

/// 16-frame 224×224 RGB clips, `megabytes` of them in all.
func makeRecords(megabytes: Int, frames t: Int = 16, height h: Int = 224, width w: Int = 224) -> [Record] {
    let perRecord = t * h * w * 3
    let count = max(1, (megabytes * 1_000_000 + perRecord - 1) / perRecord)
    var g = SeededGenerator(seed: 7)
    return (0..<count).map { i in
        var pixels = [UInt8](repeating: 0, count: perRecord)
        let hue = (Int(g.next() % 3), Int(g.next() % 64))
        let (vx, vy) = (Int(g.next() % 5) - 2, Int(g.next() % 5) - 2)
        let (ox, oy) = (Int(g.next() % UInt64(w / 2)), Int(g.next() % UInt64(h / 2)))
        var noise = g.split()
        pixels.withUnsafeMutableBufferPointer { p in
            for f in 0..<t {
                let pan = f  // the camera drifts one pixel a frame
                let (bx, by) = (ox + vx * f * 2, oy + vy * f * 2)
                for y in 0..<h {
                    for x in 0..<w {
                        let o = ((f * h + y) * w + x) * 3
                        let sx = x + pan, sy = y
                        // Shaded background with a coarse checker texture.
                        var v = (sx + sy) / 4 + (((sx >> 3) ^ (sy >> 3)) & 1) * 24 + hue.1
                        if x >= bx && x < bx + 48 && y >= by && y < by + 40 { v = 200 + ((x - bx) & 7) }
                        let n = Int(noise.next() & 3)
                        let c = min(255, max(0, v + n))
                        p[o + hue.0] = UInt8(c)
                        p[o + (hue.0 + 1) % 3] = UInt8(c / 2 + 40)
                        p[o + (hue.0 + 2) % 3] = UInt8(255 - c)
                    }
                }
            }
        }
        var header = JSONObject()
        header["layout"] = "THWC"
        header["id"] = .string("bench/\(i).mp4")
        header["index"] = JSON(0)
        header["fps"] = 8.0
        return Record(kind: "frames", dtype: .u8, shape: [t, h, w, 3], header: header, payload: pixels)
    }
}
