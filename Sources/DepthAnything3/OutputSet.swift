import Foundation

/// The files to write for one image: each a format and a destination.
public struct OutputSet: Sendable {
    /// Format and file, in writing order.
    public var files: [(format: OutputFormat, url: URL)]
    /// Options of the visualisation and point-cloud formats.
    public var export: ExportOptions

    /// Explicit files (e.g. `--output`, `--confidence`, `--intrinsics`).
    public init(files: [(format: OutputFormat, url: URL)], export: ExportOptions = .init()) {
        self.files = files
        self.export = export
    }

    /// `<directory>/<stem><suffix>` for each format.
    public init(directory: URL, stem: String, formats: [OutputFormat], export: ExportOptions = .init()) {
        self.init(files: formats.map { ($0, directory.appendingPathComponent(stem + $0.suffix)) }, export: export)
    }

    /// These files followed by `other`'s.
    public func adding(_ other: OutputSet) -> OutputSet {
        OutputSet(files: files + other.files, export: export)
    }

    /// Every file's bytes; an error names the file it was for.
    public func encode(_ result: DepthResult) throws -> [(data: Data, url: URL)] {
        let frame = result.frame
        return try files.map { format, url in
            do {
                return (try DepthExporter.encode(frame, as: format, options: export), url)
            } catch let error as OutputError {
                throw OutputError(file: url.path, reason: error.reason)
            }
        }
    }

    /// Writes each file atomically; on a failure the files already written are removed again, so
    /// an image leaves all of its files or none. Returns the files written.
    public static func write(_ files: [(data: Data, url: URL)]) throws -> [URL] {
        var written: [URL] = []
        do {
            for (data, url) in files {
                try AtomicFile.write(data, to: url)
                written.append(url)
            }
        } catch {
            for url in written { try? FileManager.default.removeItem(at: url) }
            throw error
        }
        return written
    }
}
