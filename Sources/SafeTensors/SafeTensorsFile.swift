import Foundation

/// Where one tensor lives inside a safetensors file.
public struct TensorInfo: Sendable, Equatable {
    /// Element type.
    public let dtype: DType
    /// Shape, outermost dimension first.
    public let shape: [Int]
    /// Byte range inside the data section (after the header).
    public let byteRange: Range<Int>

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
}

/// A memory-mapped safetensors file: an 8-byte little-endian header length, a JSON header,
/// then raw tensor data. The header is validated completely before any offset is used.
public final class SafeTensorsFile: @unchecked Sendable {
    /// The file this was read from.
    public let url: URL
    /// Tensor name → location, for every tensor in the file.
    public let tensors: [String: TensorInfo]
    /// The optional `__metadata__` string map.
    public let metadata: [String: String]
    /// Total size of the file in bytes.
    public let fileSize: Int

    private let data: Data
    private let dataStart: Int

    /// Largest header accepted (the format's own reference reader uses 100 MB).
    static let maxHeaderBytes = 100_000_000

    /// Maps and validates `url`. Throws `SafeTensorsError` naming the file on any problem.
    /// `populate: false` leaves the pages to be faulted in when read (for a load that reads few tensors).
    public init(url: URL, populate: Bool = true) throws {
        self.url = url
        let path = url.path
        func fail(_ reason: String) -> SafeTensorsError { SafeTensorsError(file: path, reason: reason) }
        guard FileManager.default.fileExists(atPath: path) else { throw fail("no such file") }
        let mapped: Data
        do {
            mapped = try Self.map(url, populate: populate)
        } catch {
            throw fail("cannot read file (\(error.localizedDescription))")
        }
        data = mapped
        fileSize = mapped.count
        guard mapped.count >= 8 else { throw fail("file is \(mapped.count) bytes, too short for a safetensors header") }
        let headerLength = mapped.withUnsafeBytes { raw -> UInt64 in
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        }
        guard headerLength >= 2, headerLength <= UInt64(min(Self.maxHeaderBytes, mapped.count - 8)) else {
            throw fail("corrupt header: declared header length \(headerLength) does not fit a \(mapped.count)-byte file")
        }
        let headerEnd = 8 + Int(headerLength)
        dataStart = headerEnd
        let json: HeaderJSON
        do {
            json = try mapped.withUnsafeBytes { raw in try HeaderJSON.parse(UnsafeRawBufferPointer(rebasing: raw[8..<headerEnd])) }
        } catch {
            throw fail("corrupt header: not valid JSON")
        }
        guard case .object(let object) = json else { throw fail("corrupt header: JSON is not an object") }
        let (parsed, meta) = try Self.parseHeader(object, dataSize: mapped.count - dataStart, fail: fail)
        tensors = parsed
        metadata = meta
    }

    /// Tells the kernel this process is done with the tensor's pages (whole pages inside its bytes):
    /// they leave the resident set and are read again from the file (page cache) if touched. After a
    /// load has packed a tensor, the mapping then holds no second copy of it (Giant: 5.4 GB).
    public func releasePages(of info: TensorInfo) {
        #if os(Linux)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            let start = Int(bitPattern: base) + dataStart + info.byteRange.lowerBound
            let end = Int(bitPattern: base) + dataStart + info.byteRange.upperBound
            let first = (start + page - 1) / page * page, last = end / page * page
            guard last > first, let pointer = UnsafeMutableRawPointer(bitPattern: first) else { return }
            madvise(pointer, last - first, Int32(MADV_DONTNEED))
        }
        #endif
    }

    /// The file's bytes, memory-mapped read-only. On Linux the mapping is populated up front
    /// (MAP_POPULATE) unless `populate` is false: one system call maps every page instead of one
    /// page fault per 4 KB when the weights are read (about 25,000 for DA3-Small).
    private static func map(_ url: URL, populate: Bool) throws -> Data {
        #if os(Linux)
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let size = Int(info.st_size)
        guard size > 0 else { return Data() }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0), fd, 0), base != MAP_FAILED else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        return Data(bytesNoCopy: base, count: size, deallocator: .custom { pointer, count in munmap(pointer, count) })
        #else
        return try Data(contentsOf: url, options: .alwaysMapped)
        #endif
    }

    private static func parseHeader(
        _ object: [HeaderJSON.Member], dataSize: Int, fail: (String) -> SafeTensorsError
    ) throws -> ([String: TensorInfo], [String: String]) {
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        tensors.reserveCapacity(object.count)
        for member in object {
            let (name, value) = (member.name, member.value)
            if name == "__metadata__" {
                guard case .object(let map) = value else { throw fail("corrupt header: __metadata__ is not an object") }
                for item in map {
                    guard case .string(let s) = item.value else {
                        throw fail("corrupt header: metadata value for '\(item.name)' is not a string")
                    }
                    metadata[item.name] = s
                }
                continue
            }
            var fields: (dtype: String?, shape: [HeaderJSON]?, offsets: [HeaderJSON]?) = (nil, nil, nil)
            if case .object(let entry) = value {
                for field in entry {
                    switch (field.name, field.value) {
                    case ("dtype", .string(let s)): fields.dtype = s
                    case ("shape", .array(let a)): fields.shape = a
                    case ("data_offsets", .array(let a)): fields.offsets = a
                    default: break
                    }
                }
            }
            guard let dtypeName = fields.dtype, let shapeValues = fields.shape,
                  let offsetValues = fields.offsets, offsetValues.count == 2
            else { throw fail("corrupt header: entry '\(name)' lacks dtype, shape or data_offsets") }
            guard let dtype = DType(rawValue: dtypeName) else { throw fail("tensor '\(name)': unknown dtype \(dtypeName)") }
            var shape: [Int] = []
            var count = 1
            for dim in shapeValues {
                guard let d = exactInt(dim), d >= 0 else { throw fail("corrupt header: tensor '\(name)' has an invalid shape") }
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, product <= dataSize else { throw fail("corrupt header: tensor '\(name)' shape is larger than the file") }
                count = product
                shape.append(d)
            }
            guard let begin = exactInt(offsetValues[0]), let end = exactInt(offsetValues[1]),
                  begin >= 0, begin <= end, end <= dataSize
            else { throw fail("corrupt header: tensor '\(name)' data_offsets are outside the \(dataSize)-byte data section") }
            guard end - begin == count * dtype.size else {
                throw fail("corrupt header: tensor '\(name)' has \(end - begin) bytes but shape \(shape) of \(dtypeName) needs \(count * dtype.size)")
            }
            tensors[name] = TensorInfo(dtype: dtype, shape: shape, byteRange: begin..<end)
        }
        // Tensors must not overlap one another. Empty tensors are left out of the sort: one sitting
        // between two overlapping tensors would otherwise break the adjacent-pair check.
        let ranges = tensors.filter { !$0.value.byteRange.isEmpty }.sorted { $0.value.byteRange.lowerBound < $1.value.byteRange.lowerBound }
        for (a, b) in zip(ranges, ranges.dropFirst()) where a.value.byteRange.upperBound > b.value.byteRange.lowerBound {
            throw fail("corrupt header: tensors '\(a.key)' and '\(b.key)' overlap")
        }
        return (tensors, metadata)
    }

    /// A non-negative whole number below 2^53 (JSON numbers are doubles), else nil.
    private static func exactInt(_ value: HeaderJSON) -> Int? {
        guard case .number(let d) = value, d.rounded() == d, d >= 0, d < 9.0e15 else { return nil }
        return Int(d)
    }

    /// The tensor's elements converted to Float32 (F32, F16, BF16 and F64 are supported).
    public func floats(_ name: String) throws -> [Float] {
        guard let info = tensors[name] else { throw SafeTensorsError(file: url.path, reason: "no tensor named '\(name)'") }
        return try floats(info, name: name)
    }

    /// Converts the elements described by `info` to Float32.
    public func floats(_ info: TensorInfo, name: String) throws -> [Float] {
        guard info.dtype.isFloatConvertible else {
            throw SafeTensorsError(file: url.path, reason: "tensor '\(name)' has dtype \(info.dtype.rawValue), not a floating-point type")
        }
        let count = info.count
        return rawBytes(info) { src in
            [Float](unsafeUninitializedCapacity: count) { dst, initialized in
                // Large tensors convert in parallel chunks (the whole checkpoint is ~100 MB); one
                // chunk, the common case (a bias, a norm), runs here without a dispatch.
                let chunk = 1 << 20
                let chunks = max(1, (count + chunk - 1) / chunk)
                if chunks == 1 {
                    Self.convert(src, dtype: info.dtype, range: 0..<count, into: dst.baseAddress!)
                } else {
                    let io = UnsafeTransfer((src, dst.baseAddress!))
                    DispatchQueue.concurrentPerform(iterations: chunks) { c in
                        let range = (c * chunk)..<min(count, (c + 1) * chunk)
                        Self.convert(io.value.0, dtype: info.dtype, range: range, into: io.value.1)
                    }
                }
                initialized = count
            }
        }
    }

    /// Converts elements `range` of little-endian `dtype` data to Float32.
    private static func convert(_ src: UnsafeRawBufferPointer, dtype: DType, range: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        switch dtype {
        case .f32:
            #if _endian(little)
            // Little-endian F32 is already the host's Float: one copy.
            UnsafeMutableRawPointer(dst + range.lowerBound)
                .copyMemory(from: src.baseAddress! + 4 * range.lowerBound, byteCount: 4 * range.count)
            #else
            for i in range { dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            #endif
        case .f16:
            for i in range { dst[i] = Float(Float16(bitPattern: UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))) }
        case .bf16:
            for i in range { dst[i] = Float(bitPattern: UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
        default:
            for i in range { dst[i] = Float(Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
        }
    }

    /// Calls `body` with the raw little-endian bytes of a tensor (valid only inside `body`).
    public func rawBytes<R>(_ info: TensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try data.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[(dataStart + info.byteRange.lowerBound)..<(dataStart + info.byteRange.upperBound)]))
        }
    }
}

/// Pointers handed to a concurrent region whose iterations write disjoint elements.
private struct UnsafeTransfer<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
