import Foundation

extension SceneResult {
    /// Writes the scene in `formats` into `directory` (created if missing): every file atomically,
    /// and all or nothing (on a failure the files already written are removed). `stems` name the
    /// per-view files (`npy`; default: `names` without extension). Returns the files written.
    @discardableResult
    public func write(_ formats: [SceneFormat], to directory: URL, stems: [String]? = nil,
                      options: SceneExportOptions = .init()) throws -> [URL] {
        let stems = stems ?? names.map { ($0 as NSString).deletingPathExtension }
        var files: [(path: String, data: Data)] = []
        for format in formats { files += try SceneExporter.encode(self, as: format, stems: stems, options: options) }
        let fm = FileManager.default
        var created: [URL] = [], written: [URL] = []
        do {
            for (path, data) in files {
                let url = directory.appendingPathComponent(path)
                var missing: [URL] = []
                var dir = url.deletingLastPathComponent()
                while !fm.fileExists(atPath: dir.path) { missing.append(dir); dir = dir.deletingLastPathComponent() }
                for d in missing.reversed() {
                    do { try fm.createDirectory(at: d, withIntermediateDirectories: false) } catch {
                        throw OutputError(file: d.path, reason: "cannot create directory (\(AtomicFile.describe(error)))")
                    }
                    created.append(d)
                }
                try AtomicFile.write(data, to: url)
                written.append(url)
            }
        } catch {
            for url in written { try? fm.removeItem(at: url) }
            for dir in created.reversed() { try? fm.removeItem(at: dir) }
            throw error
        }
        return written
    }
}
