// Nothing lost: a training run killed at any moment (SIGKILL) or stopped by SIGTERM or
// SIGINT resumes from its last checkpoint to the same final bytes as an uninterrupted run;
// the other programs leave no output and no temporary behind on SIGTERM or SIGINT, and a
// closed pipe ends them quietly.

import Foundation
import XCTest
import TBCore
import TBStream

final class SignalTests: XCTestCase {
    var dir: Scratch!

    override func setUpWithError() throws {
        dir = try Scratch()
        let r = try dir.sh("""
            tb-toyset toy --classes red_disc,green_square,blue_triangle,yellow_cross --labeled 6 --unlabeled 2 \\
                --val 0 --images 0 --untrimmed 0 --size 32x32 --frames 16 --seed 3 -q
            tb-decode -l toy/train_labeled.txt -o lab.tbs
            tb-decode -l toy/train_unlabeled.txt -o unl.tbs
            mkdir whole part
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// A training pipeline, run in whole/ and part/ alike so that the -o names, and so the bytes, match.
    struct Pipeline {
        var mix: String
        var train: String
        /// The options a resumed run gives besides --resume (what the first run's are, less those the checkpoint holds).
        var resume: String
    }

    let train = Pipeline(mix: "tb-mix ../lab.tbs --batch 4 --len 4 --steps 200 --seed 7",
                         train: "tb-train --arch r3d10:w4 --classes 4 --seed 1 --threads 1 --checkpoint-every 2",
                         resume: "tb-train --threads 1 --checkpoint-every 2")
    let teach = Pipeline(mix: "tb-mix --unlabeled ../unl.tbs --pretrain 2 --len 4 --batch 4 --steps 120 --seed 3",
                         train: "tb-teach --arch r3d10:w4:dilated2 --objective tclr --seed 2 --threads 1 --checkpoint-every 2",
                         resume: "tb-teach --threads 1 --checkpoint-every 2")

    /// Runs `p` uninterrupted in whole/, then in part/ stopped by `signal` sent (by `stop`) a
    /// random moment after the first checkpoint appeared, then resumed there; the final
    /// checkpoints and optimizer states must be the same bytes. Returns the stopped run's
    /// status line and stderr.
    func interruptAndResume(_ p: Pipeline, stop: String, file: StaticString = #filePath,
                            line: UInt = #line) throws -> (status: String, stderr: String) {
        let whole = try dir.sh("cd whole && \(p.mix) | \(p.train) -o out.safetensors")
        XCTAssertEqual(whole.status, 0, whole.stderr, file: file, line: line)
        let delay = String(format: "%.3f", Double.random(in: 0...0.4))
        // `set -m`: the pipeline is a job with its own process group, as at a terminal, and
        // does not ignore SIGINT as a script's background commands otherwise do.
        let stopped = try dir.sh("""
            set -m
            cd part
            ( \(p.mix) | sh -c 'echo $$ > train.pid; exec \(p.train) -o out.safetensors 2> train.err'
              echo "${PIPESTATUS[1]}" > train.status ) &
            job=$!
            while [ ! -e out.safetensors ]; do sleep 0.01; done
            sleep \(delay)
            train=$(cat train.pid)
            \(stop)
            wait $job
            echo "status $(cat train.status)"
            cat train.err
            """)
        // bash's own job notices go to its stderr; the trainer's follow its status on stdout.
        let lines = stopped.stdout.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        let status = String(lines[0])
        let trainerErrors = lines.count > 1 ? String(lines[1]) : ""
        let resumed = try dir.sh("cd part && \(p.mix) | \(p.resume) --resume out.safetensors -o out.safetensors")
        XCTAssertEqual(resumed.status, 0, resumed.stderr, file: file, line: line)
        for name in ["out.safetensors", "out.safetensors.optim"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: dir.file("whole/" + name)))
            let b = try Data(contentsOf: URL(fileURLWithPath: dir.file("part/" + name)))
            XCTAssertTrue(a == b, "\(name) differs after stopping with '\(stop)' after \(delay) s, then resuming",
                          file: file, line: line)
        }
        XCTAssertEqual(try SafeTensorsFile(path: dir.file("part/out.safetensors")).metadata["steps"],
                       try SafeTensorsFile(path: dir.file("whole/out.safetensors")).metadata["steps"], file: file, line: line)
        return (status, trainerErrors)
    }

    /// A run requeued after it had ended (its checkpoint saw the whole input) ends again, unchanged.
    func testResumingAFinishedRunChangesNothing() throws {
        let r = try dir.sh("""
            cd whole
            tb-mix ../lab.tbs --batch 4 --len 4 --steps 6 --seed 7 \\
              | tb-train --arch r3d10:w4 --classes 4 --seed 1 --threads 1 --checkpoint-every 2 -o out.safetensors
            cp out.safetensors before.safetensors
            tb-mix ../lab.tbs --batch 4 --len 4 --steps 6 --seed 7 \\
              | tb-train --threads 1 --checkpoint-every 2 --resume out.safetensors -o out.safetensors
            cmp before.safetensors out.safetensors
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("tb-train: the checkpoint has trained on the whole input already"), r.stderr)
    }

    func testTrainKilledByKILLResumesToTheSameBytes() throws {
        let r = try interruptAndResume(train, stop: "kill -KILL $train")
        XCTAssertEqual(r.status, "status 137", "killed before the end (the run must be long enough): \(r.stderr)")
    }

    func testTeachKilledByKILLResumesToTheSameBytes() throws {
        let r = try interruptAndResume(teach, stop: "kill -KILL $train")
        XCTAssertEqual(r.status, "status 137", "killed before the end (the run must be long enough): \(r.stderr)")
    }

    func testTrainStoppedByTERMSavesExits0AndResumes() throws {
        let r = try interruptAndResume(train, stop: "kill -TERM $train")
        XCTAssertEqual(r.status, "status 0", r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("tb-train: SIGTERM: stopped after step "), r.stderr)
        XCTAssertTrue(r.stderr.hasSuffix("; saved out.safetensors and out.safetensors.optim; to continue, feed the same "
                                         + "input to tb-train --resume out.safetensors with the same options\n"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    }

    /// Ctrl-C at a terminal: SIGINT to every process of the pipeline, tb-mix included.
    func testTeachStoppedByINTToThePipelineSavesExits130AndResumes() throws {
        let r = try interruptAndResume(teach, stop: "kill -INT -- -$job")
        XCTAssertEqual(r.status, "status 130", r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("tb-teach: SIGINT: stopped after step "), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    }

    func testTrainStoppedByINTToThePipelineExits130AndResumes() throws {
        let r = try interruptAndResume(train, stop: "kill -INT -- -$job")
        XCTAssertEqual(r.status, "status 130", r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("tb-train: SIGINT: stopped after step "), r.stderr)
    }

    /// The step recorded in the checkpoint and in its .optim must agree: a pair torn by a kill
    /// between the two renames, or files of two runs, are refused.
    func testAMismatchedOptimizerStateIsRefused() throws {
        func run(_ steps: Int, seed: Int, _ out: String) -> String {
            "tb-mix ../lab.tbs --batch 4 --len 4 --steps \(steps) --seed \(seed) "
                + "| tb-train --arch r3d10:w4 --classes 4 --checkpoint-every 2 -q -o \(out)"
        }
        let r = try dir.sh("""
            set -e
            cd part
            \(run(4, seed: 7, "a.safetensors"))
            \(run(2, seed: 7, "b.safetensors"))
            \(run(2, seed: 8, "c.safetensors"))
            cp b.safetensors.optim b.good
            cp a.safetensors.optim b.safetensors.optim
            cp c.safetensors.optim a.safetensors.optim
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
        let resume = "tb-mix ../lab.tbs --batch 4 --len 4 --steps 6 --seed 7 | tb-train --resume"
        let torn = try dir.sh("cd part && \(resume) b.safetensors -o b.safetensors")
        XCTAssertEqual(torn.status, 65, torn.stderr)
        XCTAssertEqual(torn.stderr, "tb-train: b.safetensors.optim: optimizer state of step 4, but b.safetensors holds step 2: "
                       + "not a pair (saving was interrupted, or they come from different runs)\n")
        // A save stopped between its renames leaves the checkpoint's own state as .optim.prev.
        let recovered = try dir.sh("cd part && mv b.good b.safetensors.optim.prev && \(resume) b.safetensors -o b.safetensors")
        XCTAssertEqual(recovered.status, 0, recovered.stderr)
        XCTAssertEqual(try SafeTensorsFile(path: dir.file("part/b.safetensors")).metadata["steps"], "6")
        XCTAssertFalse(dir.exists("part/b.safetensors.optim.prev"), "removed by the next save")
        XCTAssertEqual(try dir.sh("cd part && \(resume) c.safetensors -o c.safetensors").status, 0)
        // c's state (step 2) beside a's checkpoint (step 4): caught by the step too; and the
        // state of another run at the same step, by the weights' fingerprint.
        XCTAssertEqual(try dir.sh("cd part && \(resume) a.safetensors").status, 65)
        let other = try dir.sh("cd part && \(run(2, seed: 7, "d.safetensors")) --seed 5 && \(run(2, seed: 7, "e.safetensors")) "
                               + "&& cp d.safetensors.optim e.safetensors.optim && \(resume) e.safetensors -o e.safetensors")
        XCTAssertEqual(other.status, 65, other.stderr)
        XCTAssertEqual(other.stderr, "tb-train: e.safetensors.optim: optimizer state saved with other weights than those of "
                       + "e.safetensors (they come from different runs)\n")
    }

    /// SIGTERM, SIGINT or SIGHUP while a program writes -o FILE: no FILE, no temporary beside
    /// it, nothing on stderr, and the status a shell gives a command killed by the signal.
    func testOtherProgramsLeaveNoFileOnTERMOrINT() throws {
        for (signal, status) in [("TERM", 143), ("INT", 130), ("HUP", 129)] {
            let r = try dir.sh("""
                set -m
                mkdir out-\(signal) && cd out-\(signal)
                ( (cat ../lab.tbs; echo $BASHPID > ../feeder.pid; exec sleep 30) \\
                    | sh -c 'echo $$ > ../clip.pid; exec tb-clip --len 4 -o clips.tbs 2> ../clip.err'
                  echo "${PIPESTATUS[1]}" > ../clip.status ) &
                job=$!
                until [ -s ../feeder.pid ] && ls -A | grep -q '^\\.clips\\.tbs\\.tmp\\.'; do sleep 0.01; done
                sleep 0.2
                kill -\(signal) $(cat ../clip.pid)
                sleep 0.2
                kill $(cat ../feeder.pid)
                wait $job
                cat ../clip.status ../clip.err
                ls -A
                rm ../feeder.pid
                """, timeout: 60)
            XCTAssertEqual(r.stdout, "\(status)\n", "SIG\(signal): status, tb-clip's stderr, then what is left:\n\(r.stdout)")
        }
    }

    /// `| head`: every program that writes a stream ends quietly, with the killed-by-SIGPIPE status.
    func testAClosedPipeEndsEveryWriterQuietly() throws {
        // tb-info's own test is ConventionTests.testClosedPipeEndsQuietly. Many videos for tb-score.
        let m = try dir.sh("""
            tb-mix lab.tbs --batch 2 --len 4 --steps 1 | tb-train --arch r3d10:w4 --classes 4 -q -o m.safetensors
            for i in $(seq 40); do cat lab.tbs; done > many.tbs
            """)
        XCTAssertEqual(m.status, 0, m.stderr)
        let writers = ["tb-decode -l toy/train_labeled.txt", "tb-clip --len 4 lab.tbs", "tb-mix lab.tbs --batch 2 --len 4 --steps 50",
                       "tb-score m.safetensors many.tbs --clips 1 --len 4"]
        for w in writers {
            let r = try dir.sh("\(w) | head -c 100 > /dev/null; echo \"status ${PIPESTATUS[0]}\" >&2")
            XCTAssertEqual(r.stderr, "status 141\n", w)
        }
    }
}
