// tb-train under `mpirun -np 2`: the same loss curve and weights as one process, rank 0's
// checkpoint as the only output, and an error on one rank ending the whole job.
//
// Which single-process run must two ranks match? Not plain `tb-train`: each rank's batch
// norm normalises with its own half's statistics (as PyTorch's DDP without SyncBatchNorm),
// while one process normalises with the whole batch's. `tb-train --micro-batches 2` runs
// the same two halves one after the other in one process, each with its own batch-norm
// statistics, sums their shard-weighted gradients and averages their running statistics:
// exactly what two ranks compute, so the curves must agree to rounding. Two halves' sum of
// gradients is a + b in both (the tape accumulates b into a; MPI adds a and b), so in
// practice they agree to the bit; the test allows 1e-5 relative for a different MPI reduce.
//
// The batches are 4 labeled + 3 unlabeled samples with soft targets, split unevenly (3 + 4),
// so every loss term's shard weighting is exercised. Skips when mpirun is missing, except
// under CI (bin/setup installs openmpi-bin there), where that is a failure.

import Foundation
import XCTest
import TBCore
import TBStream

final class DistributedTrainTests: XCTestCase {
    var dir: Scratch!
    /// mpirun as this sandbox needs it: root allowed, two ranks on two cores or fewer,
    /// shared memory between the ranks (no network).
    let mpirun = "mpirun --allow-run-as-root --oversubscribe --mca btl self,vader -np 2"

    override func setUpWithError() throws {
        dir = try Scratch()
        let which = try dir.sh("command -v mpirun")
        if which.status != 0 {
            if ProcessInfo.processInfo.environment["CI"] != nil {
                XCTFail("mpirun is not installed: bin/setup installs openmpi-bin")
            }
            throw XCTSkip("mpirun is not installed (apt-get install openmpi-bin); skipping distributed training tests")
        }
        let r = try dir.sh("""
            tb-toyset toy --classes red_disc,green_square,blue_triangle,yellow_cross --labeled 4 --unlabeled 2 \\
                --val 0 --images 0 --untrimmed 0 --size 32x32 --frames 8 --seed 5 -q
            tb-decode -l toy/train_labeled.txt -o lab.tbs
            tb-decode -l toy/train_unlabeled.txt -o unl.tbs
            awk '{printf "{\\"id\\": \\"%s\\", \\"soft\\": [0.1, 0.2, 0.3, 0.4]}\\n", $1}' toy/train_unlabeled.txt > soft.jsonl
            tb-mix lab.tbs --unlabeled unl.tbs --labels soft.jsonl --batch 4:3 --len 4 --steps 5 --seed 3 -o mix.tbs
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func losses(_ log: String) throws -> [[Double]] {
        try String(contentsOfFile: dir.file(log), encoding: .utf8).split(separator: "\n").compactMap { line in
            guard case .object(let o) = try JSON.parse(String(line)), o["event"]?.stringValue == "step" else { return nil }
            return ["loss", "ce", "mse_unlabeled"].map { o[$0]?.doubleValue ?? .nan }
        }
    }

    func testTwoRanksTrainAsOneProcessWithTwoMicroBatches() throws {
        let train = "tb-train --arch r3d10:w4 --classes 4 --threads 1"
        let r = try dir.sh("""
            \(train) --micro-batches 2 --log one.jsonl -o one.safetensors mix.tbs
            mkdir ranks && cd ranks
            \(mpirun) sh -c 'tb-mix ../lab.tbs --unlabeled ../unl.tbs --labels ../soft.jsonl --batch 4:3 --len 4 \\
                --steps 5 --seed 3 | \(train) --log two.jsonl -o rank$OMPI_COMM_WORLD_RANK.safetensors'
            """, timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        // Rank 0 alone writes: its checkpoint and its log, nothing else.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.file("ranks")).sorted(),
                       ["rank0.safetensors", "two.jsonl"])

        let one = try losses("one.jsonl"), two = try losses("ranks/two.jsonl")
        XCTAssertEqual(one.count, 5)
        XCTAssertEqual(two.count, 5)
        for (step, (a, b)) in zip(one, two).enumerated() {
            for (x, y) in zip(a, b) {
                XCTAssertEqual(x, y, accuracy: 1e-5 * max(abs(x), 1e-3), "step \(step + 1): \(a) vs \(b)")
            }
        }
        let a = try SafeTensorsFile(path: dir.file("one.safetensors"))
        let b = try SafeTensorsFile(path: dir.file("ranks/rank0.safetensors"))
        XCTAssertEqual(a.names, b.names)
        for name in a.names where !name.hasSuffix("num_batches_tracked") {
            for (x, y) in zip(try a.floats(name), try b.floats(name)) {
                XCTAssertEqual(x, y, accuracy: 1e-5 * max(abs(x), 1e-2), name)
            }
        }
        XCTAssertEqual(b.metadata["mpi_ranks"], "2")
    }

    func testWithoutOpenMPIsLibraryARankStopsWith69() throws {
        // libmpi hidden by an empty file in a private mount namespace (needs root).
        let lib = "/usr/lib/x86_64-linux-gnu/libmpi.so.40"
        let r = try dir.sh("""
            unshare -m sh -c 'mount --bind /dev/null "$(readlink -f \(lib))" || exit 99
                OMPI_COMM_WORLD_SIZE=2 exec tb-train --arch r3d10:w4 --classes 4 -o out.safetensors mix.tbs'
            """)
        if r.status == 99 || r.stderr.contains("unshare") { throw XCTSkip("cannot hide libmpi here: \(r.stderr)") }
        XCTAssertEqual(r.status, 69, r.stderr)
        XCTAssertTrue(r.stderr.contains("tb-train: a rank of an MPI job needs Open MPI"), r.stderr)
        XCTAssertFalse(dir.exists("out.safetensors"))
    }

    func testAnErrorOnOneRankEndsTheJob() throws {
        // Rank 1's input breaks off inside its third batch while rank 0 waits for its gradients:
        // without MPI_Abort rank 0 would wait for ever.
        let r = try dir.sh("""
            head -c $(( $(wc -c < mix.tbs) / 2 )) mix.tbs > broken.tbs
            \(mpirun) sh -c 'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then in=broken.tbs; else in=mix.tbs; fi
                exec tb-train --arch r3d10:w4 --classes 4 --threads 1 -o out.safetensors < $in'
            """, timeout: 120)
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("tb-train: rank 1 of 2: <stdin>: record "), r.stderr)
        XCTAssertTrue(r.stderr.contains("truncated"), r.stderr)
        XCTAssertFalse(dir.contents("").contains { $0.contains("out.safetensors") }, "\(dir.contents(""))")

        // Rank 1's input ends cleanly after 3 batches, rank 0's goes on: both notice at once.
        let short = try dir.sh("""
            tb-mix lab.tbs --unlabeled unl.tbs --labels soft.jsonl --batch 4:3 --len 4 --steps 3 --seed 3 -o short.tbs
            \(mpirun) sh -c 'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then in=short.tbs; else in=mix.tbs; fi
                exec tb-train --arch r3d10:w4 --classes 4 --threads 1 -o out.safetensors < $in'
            """, timeout: 120)
        XCTAssertEqual(short.status, 65, short.stderr)
        XCTAssertTrue(short.stderr.contains("every rank must read the same batches"), short.stderr)
        XCTAssertFalse(dir.exists("out.safetensors"))
    }
}
