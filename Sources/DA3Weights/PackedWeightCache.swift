import CKernels
import DA3Kernels
import Foundation

/// A file of the weights a model prepares at load (the GEMM panels of its products, the head's
/// convolution weights and their Winograd transforms), written after one load and mapped by the
/// next instead of preparing them again: the pages come from the page cache, cheaply and only when
/// read (as XNNPACK's weight cache does for LiteRT).
///
/// Layout: the 8-byte magic `DA3PACK1`, a little-endian UInt64 header length, a JSON header
/// (`key`, `checksum` and `regions`: name, offset, byte count, in the order the model asks for
/// them), then each region's bytes at a 4096-byte aligned offset. `key` identifies everything the
/// bytes depend on (checkpoint file, precision, engine build); `checksum` (`da3_checksum64` over
/// samples of the regions, see `checksum(_:)`) catches damaged files.
enum PackedWeightCache {
    static let magic = Array("DA3PACK1".utf8)
    static let alignment = 4096

    struct Header: Codable {
        var key: String
        var checksum: String
        var regions: [Region]
    }

    struct Region: Codable {
        var name: String
        var offset: Int
        var bytes: Int
    }

    /// Bytes of each checksummed sample, and the distance between samples.
    static let sampleBytes = 4096, sampleStride = 64 * 4096

    /// Checksum of samples of the regions: the first and last 4 KB of each and every 64th 4 KB
    /// in between. It catches truncated, overwritten or mixed-up files while reading 1.6% of the
    /// bytes (verifying all of DA3-Small's 104 MB would add about 12 ms to every load).
    static func checksum(_ parts: [UnsafeRawBufferPointer]) -> UInt64 {
        var seed = UInt64(parts.count)
        for part in parts where part.count > 0 {
            var samples = Array(stride(from: 0, to: part.count, by: sampleStride))
            samples.append(max(0, part.count - sampleBytes))
            for start in samples {
                seed = da3_checksum64(part.baseAddress! + start, min(sampleBytes, part.count - start), seed ^ UInt64(start))
            }
        }
        return seed
    }
}

/// The packed weights of one cache file, handed out in the order they were recorded.
public final class PackedWeightReader: @unchecked Sendable {
    private let mapping: MappedFile
    private let path: String
    private let regions: [PackedWeightCache.Region]
    private var next = 0

    /// Maps the cache file at `url`; nil when it is missing, unreadable, damaged or made for
    /// another `key` (the caller then packs afresh and rewrites it).
    public init?(url: URL, key: String) {
        guard let mapping = MappedFile(path: url.path) else { return nil }
        let raw = UnsafeRawBufferPointer(start: mapping.base, count: mapping.size)
        let magic = PackedWeightCache.magic
        guard raw.count >= magic.count + 8, Array(raw[0..<magic.count]) == magic else { return nil }
        let headerLength = Int(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: magic.count, as: UInt64.self)))
        let headerStart = magic.count + 8
        guard headerLength > 0, headerLength <= raw.count - headerStart,
              let header = try? JSONDecoder().decode(PackedWeightCache.Header.self,
                                                     from: Data(raw[headerStart..<headerStart + headerLength])),
              header.key == key
        else { return nil }
        var parts: [UnsafeRawBufferPointer] = []
        for region in header.regions {
            guard region.offset >= headerStart + headerLength, region.bytes >= 0,
                  region.offset % PackedWeightCache.alignment == 0, region.bytes <= raw.count - region.offset
            else { return nil }
            parts.append(UnsafeRawBufferPointer(rebasing: raw[region.offset..<region.offset + region.bytes]))
        }
        guard header.checksum == String(PackedWeightCache.checksum(parts), radix: 16) else { return nil }
        self.mapping = mapping
        self.path = url.path
        self.regions = header.regions
    }

    /// The next region, which must be `name` with `count` elements.
    func next<Element: BitwiseCopyable>(_ name: String, count: Int, as: Element.Type) throws -> WeightMemory<Element> {
        guard next < regions.count, regions[next].name == name,
              regions[next].bytes == count * MemoryLayout<Element>.stride
        else { throw CheckpointError(file: path, reason: "packed weight cache does not fit the model at '\(name)'") }
        let start = (mapping.base + regions[next].offset).assumingMemoryBound(to: Element.self)
        next += 1
        return WeightMemory(base: start, count: count, owner: mapping)
    }

    /// Whether every region was handed out.
    var isExhausted: Bool { next == regions.count }
}

/// Collects the packed weights of a load, in order, to write them as a cache file.
public final class PackedWeightRecorder: @unchecked Sendable {
    private var regions: [(name: String, bytes: UnsafeRawBufferPointer, keepAlive: Any)] = []

    public init() {}

    func record<Element>(_ name: String, _ memory: WeightMemory<Element>) {
        regions.append((name, memory.bytes, memory))
    }

    /// Writes the recorded regions to `url` under `key`, through a temporary file renamed at the end.
    public func write(to url: URL, key: String) throws {
        // The header's size depends on the offsets, so lay out after a generous estimate of it.
        let estimate = try JSONEncoder().encode(PackedWeightCache.Header(
            key: key, checksum: String(UInt64.max, radix: 16),
            regions: regions.map { .init(name: $0.name, offset: 1 << 60, bytes: $0.bytes.count) })).count
        var offset = Self.aligned(PackedWeightCache.magic.count + 8 + estimate + 64)
        var layout: [PackedWeightCache.Region] = []
        for region in regions {
            layout.append(.init(name: region.name, offset: offset, bytes: region.bytes.count))
            offset = Self.aligned(offset + region.bytes.count)
        }
        let checksum = PackedWeightCache.checksum(regions.map(\.bytes))
        let header = try JSONEncoder().encode(PackedWeightCache.Header(key: key, checksum: String(checksum, radix: 16),
                                                                        regions: layout))
        var prefix = PackedWeightCache.magic
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { prefix.append(contentsOf: $0) }
        prefix.append(contentsOf: header)
        precondition(prefix.count <= layout.first?.offset ?? Int.max, "packed weight cache header outgrew its estimate")

        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporary.path]) }
        var ok = prefix.withUnsafeBytes { Self.write(fd, $0, at: 0) }
        for (region, place) in zip(regions, layout) where ok {
            ok = Self.write(fd, region.bytes, at: place.offset)
        }
        let end = layout.last.map { $0.offset + $0.bytes } ?? prefix.count
        ok = ok && ftruncate(fd, off_t(end)) == 0
        close(fd)
        guard ok, rename(temporary.path, url.path) == 0 else {
            unlink(temporary.path)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
    }

    private static func aligned(_ offset: Int) -> Int {
        (offset + PackedWeightCache.alignment - 1) / PackedWeightCache.alignment * PackedWeightCache.alignment
    }

    private static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            guard n > 0 else { return false }
            done += n
        }
        return true
    }
}

/// A whole file mapped read-only; pages are mapped from the page cache when first read.
final class MappedFile {
    let base: UnsafeRawPointer
    let size: Int

    init?(path: String) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { return nil }
        guard let pointer = mmap(nil, Int(info.st_size), PROT_READ, MAP_PRIVATE, fd, 0), pointer != MAP_FAILED else {
            return nil
        }
        base = UnsafeRawPointer(pointer)
        size = Int(info.st_size)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }
}
