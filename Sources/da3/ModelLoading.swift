import DepthAnything3
import Foundation

/// Resolves a `--model` reference (local path or Hub id), showing download progress on a terminal.
enum ModelLoading {
    /// The default model when `--model` is omitted.
    static let defaultModel = HubModelReference.defaultModel.repo

    /// Resolves `reference`; progress goes to standard error unless `quiet`.
    static func locate(_ reference: String, quiet: Bool) throws -> ModelLocation {
        guard !quiet else { return try ModelLocation(reference: reference) }
        let bar = DownloadProgress()
        let progress: HubProgress = { file, received, total in bar.update(file: file, received: received, total: total) }
        defer { bar.finish() }
        return try ModelLocation(reference: reference, progress: progress)
    }
}

/// A download progress bar on a terminal, or one line per file otherwise (standard error).
final class DownloadProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let terminal = isatty(STDERR_FILENO) != 0
    private var current: String?
    private var lastDraw = 0.0
    private var drawn = false

    func update(file: String, received: Int64, total: Int64?) {
        lock.lock(); defer { lock.unlock() }
        if current != file {
            if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
            current = file
            drawn = false
            if !terminal {
                let size = total.map { String(format: " (%.1f MB)", Double($0) / 1e6) } ?? ""
                FileHandle.standardError.write(Data("downloading \(file)\(size)\n".utf8))
            }
        }
        guard terminal else { return }
        let now = Date().timeIntervalSince1970
        guard now - lastDraw > 0.1 || received == total else { return }
        lastDraw = now
        let line: String
        if let total, total > 0 {
            let frac = Double(received) / Double(total)
            let filled = Int(frac * 30)
            line = String(format: "\r%@ [%@%@] %5.1f%% %.1f/%.1f MB", file, String(repeating: "#", count: filled),
                          String(repeating: " ", count: 30 - filled), frac * 100, Double(received) / 1e6, Double(total) / 1e6)
        } else {
            line = String(format: "\r%@ %.1f MB", file, Double(received) / 1e6)
        }
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
        drawn = false
    }
}
