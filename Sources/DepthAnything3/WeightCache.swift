import DA3Kernels
import DA3Model
import Foundation
import SafeTensors

/// A directory of packed-weight files that makes loading a model again much faster.
///
/// At load the engine packs the transformer's product weights into the panels its GEMM kernel
/// reads and copies and transforms the head's convolution weights (104 MB for DA3-Small): about
/// 70 ms of work and fresh memory. With a cache, the first load also writes them to
/// `<directory>/<name>.da3pack`; later loads of the same checkpoint map that file instead, so the
/// pages come from the page cache on demand. Results are bit-identical with and without it.
///
/// A file is used only when its key matches: the checkpoint's real path, size, modification time
/// and inode, the preset, the precision, the CPU kernels in use and this executable's build (size
/// and modification time), and a checksum of samples of its bytes matches (truncated, overwritten or
/// mixed-up files are caught; not every flipped bit). Anything else is packed afresh and the file
/// rewritten (through a temporary name). Failing to write the cache never fails the load.
public struct WeightCache: Sendable {
    /// Where the files live (created on first write).
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// `$DA3_WEIGHT_CACHE` (a directory; `off`, `none` or empty disables the cache), else
    /// `$XDG_CACHE_HOME/da3/weights`, else `~/.cache/da3/weights`.
    public static var standard: WeightCache? {
        let environment = ProcessInfo.processInfo.environment
        if let chosen = environment["DA3_WEIGHT_CACHE"] {
            return parse(chosen)
        }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return WeightCache(directory: URL(fileURLWithPath: xdg).appendingPathComponent("da3/weights"))
        }
        let home = FileManager.default.homeDirectoryForCurrentUser
        return WeightCache(directory: home.appendingPathComponent(".cache/da3/weights"))
    }

    /// A directory path, or nil for `off`, `none` or an empty string.
    public static func parse(_ value: String) -> WeightCache? {
        if ["", "off", "none"].contains(value.lowercased()) { return nil }
        return WeightCache(directory: URL(fileURLWithPath: (value as NSString).expandingTildeInPath))
    }

    /// Bumped whenever the packed layouts change.
    static let formatVersion = 1

    /// The cache file and key for a checkpoint; nil when the file cannot be identified.
    func entry(for weights: URL, config: ModelConfig?, precision: Precision) -> (url: URL, key: String)? {
        let path = weights.resolvingSymlinksInPath().path
        guard let checkpoint = Self.identity(of: path) else { return nil }
        let executable = Self.identity(of: "/proc/self/exe") ?? "unknown"
        let key = "da3pack v\(Self.formatVersion); checkpoint \(path) \(checkpoint); preset \(config?.name ?? "inferred"); "
            + "precision \(precision.rawValue); f32 kernel \(GEMMF32.available); bf16 \(Precision.fastAvailable); "
            + "executable \(executable)"
        let stem = weights.deletingPathExtension().lastPathComponent
        let folder = weights.deletingLastPathComponent().lastPathComponent
        let name = "\(folder)-\(stem)-\(precision.rawValue)-\(String(Self.hash(path), radix: 16)).da3pack"
        return (directory.appendingPathComponent(name), key)
    }

    /// Size, modification time and inode of a file, as text.
    static func identity(of path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return "size \(info.st_size) mtime \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) inode \(info.st_dev):\(info.st_ino)"
    }

    /// FNV-1a of the path (file names only; the key holds the path itself).
    private static func hash(_ text: String) -> UInt64 {
        text.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    /// What a load did with the cache.
    public enum Status: String, Sendable {
        /// The packed weights were mapped from the cache file.
        case loaded
        /// The weights were packed afresh and the cache file (re)written.
        case written
        /// The weights were packed afresh; the cache file could not be written (the load still succeeded).
        case writeFailed
    }

    /// Loads the network from `weights`, through this cache.
    func loadNetwork(weights: URL, config: ModelConfig?,
                     precision: Precision) throws -> (network: DepthAnything3Network, status: Status) {
        guard let entry = entry(for: weights, config: config, precision: precision) else {
            let file = try NestedModelLoading.open(weights)
            return (try DepthAnything3Network(checkpoint: file, config: config, precision: precision), .writeFailed)
        }
        if let packed = PackedWeightReader(url: entry.url, key: entry.key),
           let network = try? DepthAnything3Network(checkpoint: SafeTensorsFile(url: weights, populate: false),
                                                    config: config, precision: precision, packedWeights: packed) {
            return (network, .loaded)
        }
        let recorder = PackedWeightRecorder()
        let network = try DepthAnything3Network(checkpoint: NestedModelLoading.open(weights), config: config,
                                                precision: precision, recorder: recorder)
        do {
            try recorder.write(to: entry.url, key: entry.key)
            return (network, .written)
        } catch {
            return (network, .writeFailed)
        }
    }
}
