// Run-time CPU features, and the OpenBLAS kernel choice that depends on them.

import Foundation
import TBCore

public enum CPU {
    /// Feature flags of the first processor in /proc/cpuinfo (e.g. "avx2", "avx512f").
    public static let flags: Set<String> = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
        for line in text.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }()

    public static var hasAVX512: Bool { flags.contains("avx512f") }

    /// Cores this process may run on.
    public static var cores: Int { ProcessInfo.processInfo.activeProcessorCount }
}

/// Debian's OpenBLAS 0.3.21 picks its AVX2 (Haswell) kernels on AVX-512 CPUs it does not
/// know, such as Zen 4/5, although its SkylakeX kernels run 1.4–1.8× faster there
/// (DESIGN.md §4). It reads OPENBLAS_CORETYPE only when it loads, before main, so the
/// program re-executes itself once with the variable set. A user's own setting wins.
func preferFastBLASKernels() {
    guard CPU.hasAVX512, getenv("OPENBLAS_CORETYPE") == nil else { return }
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
    var argv: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) }
    argv.append(nil)
    execv("/proc/self/exe", argv)
    // exec failed (no /proc?): run on with the kernels OpenBLAS chose.
}
