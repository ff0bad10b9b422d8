import DA3Core
import Foundation

/// Atomic file writes: data goes to a hidden temporary file in the destination directory and is
/// renamed into place, so readers never see a partial file and a failure leaves nothing behind.
public enum AtomicFile {
    /// Writes `data` to `url` atomically, replacing any existing file.
    /// - Throws: ``OutputError`` naming `url` when the directory is missing or not writable.
    public static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temp = directory.appendingPathComponent(temporaryName(for: url))
        do {
            try data.write(to: temp)
            if rename(temp.path, url.path) != 0 {
                let code = errno
                throw OutputError(file: url.path, reason: "cannot rename into place (\(String(cString: strerror(code))))")
            }
        } catch let error as OutputError {
            try? FileManager.default.removeItem(at: temp)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw OutputError(file: url.path, reason: "cannot write (\(describe(error)))")
        }
    }

    /// The hidden temporary name used while `url` is being written (unique per process and call).
    static func temporaryName(for url: URL) -> String {
        ".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// A one-line description of a Foundation error (the underlying POSIX cause when there is one).
    public static func describe(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError { return underlying.localizedDescription }
        return ns.localizedDescription
    }
}

/// A failure writing an output file, naming it.
public typealias OutputError = FileError
