// The one entry point every program's main calls: errors to sysexits, one-line
// messages, a quiet end on a closed pipe, and the process set-up OpenBLAS needs.

import ArgumentParser
import TBCore
import TBTensor
#if canImport(Glibc)
import Glibc
#endif

/// Parses the command line, runs the command and exits with its sysexits status.
/// Never returns. Messages are one line: `tb-info: train.tbs: record 3 (byte 512): problem`.
/// Programs that run GEMMs (`computes`) re-execute themselves once on AVX-512 machines so
/// that OpenBLAS loads its faster kernels (the others skip that second start, ~50 ms), and
/// keep freed memory for the next training step instead of handing it back to the kernel.
public func runTool<C: ParsableCommand>(_ command: C.Type, name: String, computes: Bool = true,
                                        arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
    if computes {
        preferFastBLASKernels()
        retainFreedMemory()
    }
    // A closed stdout becomes EPIPE on write, which OutputFile turns into a Failure we
    // catch below; the process then ends the way `head` users expect (see endForBrokenPipe).
    signal(SIGPIPE, SIG_IGN)
    TemporaryFiles.installSignalHandlers()

    var parsed: ParsableCommand  // the root command or one of its subcommands
    do {
        parsed = try C.parseAsRoot(arguments)
    } catch let f as Failure {
        exit(with: f, tool: name)
    } catch {
        exitForParserError(error, command: C.self, tool: name)
    }

    do {
        try parsed.run()
    } catch let f as Failure {
        exit(with: f, tool: name)
    } catch let e as ValidationError {
        exit(with: Failure.usage(e.message), tool: name)
    } catch let e as ExitCode {
        Glibc.exit(e.rawValue)
    } catch where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
        // `--help` and `--version` reach here: the parser returns a command that throws them.
        exitForParserError(error, command: C.self, tool: name)
    } catch {
        exit(with: Failure.internalError("\(error)"), tool: name)
    }
    TemporaryFiles.removeAll()
    Glibc.exit(0)
}

/// swift-argument-parser's own errors: help and --version go to stdout and exit 0;
/// everything else is a usage error (64, not the parser's 1), on one line.
func exitForParserError<C: ParsableCommand>(_ error: Error, command: C.Type, tool: String) -> Never {
    if C.exitCode(for: error) == .success {
        print(C.fullMessage(for: error))
        Glibc.exit(0)
    }
    let message = C.message(for: error).split(separator: "\n").first.map(String.init) ?? "bad usage"
    writeStandardError("\(tool): \(message.trimmingLeadingError()) (see '\(tool) --help')\n")
    Glibc.exit(ExitStatus.usage.rawValue)
}

/// Prints the failure (unless the reader went away) and exits with its status.
public func exit(with failure: Failure, tool: String) -> Never {
    TemporaryFiles.removeAll()
    if failure.status == .brokenPipe { endForBrokenPipe() }
    writeStandardError("\(tool): \(failure)\n")
    Glibc.exit(failure.status.rawValue)
}

/// Ends as if killed by SIGPIPE, which is what a shell expects of a writer whose
/// reader (`head`) has gone: no message, status 141 under `set -o pipefail`.
func endForBrokenPipe() -> Never {
    signal(SIGPIPE, SIG_DFL)
    raise(SIGPIPE)
    Glibc.exit(ExitStatus.brokenPipe.rawValue)
}

/// Writes to fd 2 directly, unbuffered, ignoring errors (there is nowhere left to report them).
public func writeStandardError(_ text: String) {
    var t = text
    t.withUTF8 { buf in
        var done = 0
        while done < buf.count {
            let n = Glibc.write(2, buf.baseAddress! + done, buf.count - done)
            if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
            done += n
        }
    }
}

extension String {
    /// swift-argument-parser starts its messages with "Error: "; ours already say who speaks.
    func trimmingLeadingError() -> String {
        hasPrefix("Error: ") ? String(dropFirst(7)) : self
    }
}
