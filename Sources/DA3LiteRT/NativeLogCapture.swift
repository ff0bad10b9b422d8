import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What native code (LiteRT, its GPU accelerator, Dawn, absl) prints while a call runs. LiteRT has
/// no logger callback in its C API, yet its log is the only place that says which adapter the GPU
/// accelerator picked and how a graph was split between GPU and CPU, and some of it goes to
/// standard output, where it would corrupt `--json`. So the calls into LiteRT run with file
/// descriptors 1 and 2 sent to an unlinked temporary file, read back afterwards. Captures are
/// serialized process-wide. With `DA3_LITERT_LOG=1` the captured text is passed on to standard error.
enum NativeLogCapture {
    private static let lock = NSLock()

    /// Runs `body` with fds 1 and 2 captured; returns its result (or error) and the captured text.
    static func run<T>(_ body: () throws -> T) -> (result: Result<T, Error>, log: String) {
        lock.lock()
        defer { lock.unlock() }
        fflush(nil)
        var template = Array((NSTemporaryDirectory() + "/da3-litert-log-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return (Result { try body() }, "") }  // cannot capture: run uncaptured
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        let saved = [dup(1), dup(2)]
        guard saved.allSatisfy({ $0 >= 0 }) else {
            for s in saved where s >= 0 { close(s) }
            close(fd)
            return (Result { try body() }, "")
        }
        dup2(fd, 1)
        dup2(fd, 2)
        let result = Result { try body() }
        fflush(nil)
        dup2(saved[0], 1)
        dup2(saved[1], 2)
        saved.forEach { close($0) }
        var text = Data()
        lseek(fd, 0, SEEK_SET)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            text.append(contentsOf: chunk[0..<n])
        }
        close(fd)
        let log = String(decoding: text, as: UTF8.self)
        if ProcessInfo.processInfo.environment["DA3_LITERT_LOG"] == "1" {
            FileHandle.standardError.write(Data(log.utf8))
        }
        return (result, log)
    }
}
