import DA3Kernels
import Foundation
import SafeTensors

/// Where weights come from: a checkpoint file, or a generator in tests.
public protocol WeightSource: AnyObject {
    /// Human-readable origin for error messages (a file path).
    var origin: String { get }
    /// The tensor `key` as Float32; throws when absent or when its shape differs from `shape`.
    func load(_ key: String, shape: [Int]) throws -> [Float]
    /// Calls `body` with the tensor as Float32 (valid only inside `body`): the source's own
    /// memory where it already holds aligned Float32 (no copy), else a converted copy.
    func withFloats(_ key: String, shape: [Int], _ body: (UnsafeBufferPointer<Float>) throws -> Void) throws
    /// Keys present in the source that nobody asked for (given the ones that were used).
    func unusedKeys(used: Set<String>) -> [String]
    /// Throws as `load` would for a missing or misshapen tensor, without reading its values.
    func check(_ key: String, shape: [Int]) throws
}

extension WeightSource {
    public func check(_ key: String, shape: [Int]) throws {
        _ = try load(key, shape: shape)
    }

    public func withFloats(_ key: String, shape: [Int], _ body: (UnsafeBufferPointer<Float>) throws -> Void) throws {
        try load(key, shape: shape).withUnsafeBufferPointer(body)
    }
}

/// Checkpoint loading problems (missing/unexpected tensors, shape mismatches), naming the key.
public typealias CheckpointError = FileError

/// A safetensors checkpoint as a weight source.
public final class SafeTensorsWeightSource: WeightSource {
    public let file: SafeTensorsFile
    public var origin: String { file.url.path }

    public init(file: SafeTensorsFile) { self.file = file }

    public func load(_ key: String, shape: [Int]) throws -> [Float] {
        try file.floats(try checked(key, shape: shape), name: key)
    }

    public func withFloats(_ key: String, shape: [Int], _ body: (UnsafeBufferPointer<Float>) throws -> Void) throws {
        let info = try checked(key, shape: shape)
        let direct = info.dtype == .f32 && UInt32(littleEndian: 1) == 1
        if direct, try file.rawBytes(info, { raw -> Bool in
            guard Int(bitPattern: raw.baseAddress) % MemoryLayout<Float>.alignment == 0 else { return false }
            try body(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: Float.self), count: info.count))
            // Read once at load (packed, transformed or copied by `body`): the mapped pages can go.
            file.releasePages(of: info)
            return true
        }) {
            return
        }
        try file.floats(info, name: key).withUnsafeBufferPointer(body)
    }

    public func check(_ key: String, shape: [Int]) throws {
        _ = try checked(key, shape: shape)
    }

    /// The tensor's location after checking presence, shape and element type.
    private func checked(_ key: String, shape: [Int]) throws -> TensorInfo {
        guard let info = file.tensors[key] else {
            throw CheckpointError(file: origin, reason: "missing tensor '\(key)'")
        }
        guard info.shape == shape else {
            throw CheckpointError(file: origin, reason: "tensor '\(key)' has shape \(info.shape), expected \(shape)")
        }
        guard info.dtype.isFloatConvertible else {
            throw CheckpointError(file: origin, reason: "tensor '\(key)' has dtype \(info.dtype.rawValue), expected F32, F16 or BF16")
        }
        return info
    }

    public func unusedKeys(used: Set<String>) -> [String] {
        file.tensors.keys.filter { !used.contains($0) }.sorted()
    }
}

/// Reads weights by model-relative key (`prefix` + key in the source), records what was used and
/// enforces strictness at the end. Weights prepared at load (`memory`, `derived`: packed panels,
/// transforms, copies) come from `packedReader` when set (a weight cache file) instead of the
/// checkpoint, and are handed to `packedRecorder` when set (to write such a file).
public final class WeightLoader: ParameterLoader {
    public let source: WeightSource
    /// Prepended to every key (e.g. the Hub checkpoints' `model.`).
    public let prefix: String
    private(set) var used: Set<String> = []
    let packedReader: PackedWeightReader?
    let packedRecorder: PackedWeightRecorder?

    public init(source: WeightSource, prefix: String = "", packedReader: PackedWeightReader? = nil,
                packedRecorder: PackedWeightRecorder? = nil) {
        self.source = source
        self.prefix = prefix
        self.packedReader = packedReader
        self.packedRecorder = packedRecorder
    }

    public var origin: String { source.origin }

    public func tensor(_ key: String, _ shape: [Int]) throws -> [Float] {
        let full = prefix + key
        used.insert(full)
        return try source.load(full, shape: shape)
    }

    /// The tensor without a copy where the source allows (see `WeightSource.withFloats`).
    func withTensor(_ key: String, _ shape: [Int], _ body: (UnsafeBufferPointer<Float>) throws -> Void) throws {
        let full = prefix + key
        used.insert(full)
        try source.withFloats(full, shape: shape, body)
    }

    /// Checks that the tensor exists with `shape` and marks it used, without reading it (its packed
    /// form comes from `packedReader`).
    func checkTensor(_ key: String, _ shape: [Int]) throws {
        let full = prefix + key
        used.insert(full)
        try source.check(full, shape: shape)
    }

    /// The tensor as read-only memory: mapped from the weight cache file when one is read, else
    /// copied from the source (and recorded for the cache).
    public func memory(_ key: String, _ shape: [Int]) throws -> WeightMemory<Float> {
        let count = shape.reduce(1, *)
        return try derived(from: key, shape, name: key, count: count) { w in
            WeightMemory(count: count) { $0.baseAddress!.update(from: w.baseAddress!, count: count) }
        }
    }

    /// Weights computed at load from the tensor `key` (its packed panels, a transform), stored in
    /// the weight cache as `name`: mapped from the cache file when one is read (the tensor is then
    /// only checked, not read), else made by `make` from the tensor's values (and recorded).
    public func derived<Element: BitwiseCopyable>(
        from key: String, _ shape: [Int], name: String, count: Int,
        make: (UnsafeBufferPointer<Float>) -> WeightMemory<Element>
    ) throws -> WeightMemory<Element> {
        if let packedReader {
            try checkTensor(key, shape)
            return try packedReader.next(name, count: count, as: Element.self)
        }
        var made: WeightMemory<Element>?
        try withTensor(key, shape) { made = make($0) }
        precondition(made!.count == count, "derived weights '\(name)' have \(made!.count) elements, expected \(count)")
        packedRecorder?.record(name, made!)
        return made!
    }

    /// Fails on any tensor that is neither used nor under one of `ignoredPrefixes` (model-relative),
    /// and on a weight cache file with regions left over.
    public func finish(ignoring ignoredPrefixes: [String]) throws {
        let ignored = ignoredPrefixes.map { prefix + $0 }
        let unexpected = source.unusedKeys(used: used).filter { key in !ignored.contains { key.hasPrefix($0) } }
        if let first = unexpected.first {
            let more = unexpected.count > 1 ? " (and \(unexpected.count - 1) more)" : ""
            throw CheckpointError(file: source.origin, reason: "unexpected tensor '\(first)'\(more)")
        }
        if let packedReader, !packedReader.isExhausted {
            throw CheckpointError(file: source.origin, reason: "the packed weight cache holds more regions than the model uses")
        }
    }
}
