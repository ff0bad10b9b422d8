/// Rows of a product split into parts for the engine's threads: whole 8-row blocks (the
/// micro-kernels' row count), about `target` rows each, in a multiple of the worker count and
/// differing by at most one block, so that no worker is left with a lone extra part (721 tokens in
/// parts of 64 would give one worker 6 full parts and the other 5 and a bit: 6% of the time idle).
public struct RowParts: Sendable {
    public let rows: Int
    /// Number of parts.
    public let count: Int
    /// Rows of the largest part (buffer size per worker).
    public let maxRows: Int
    private let blocks: Int

    public init(rows: Int, target: Int, workers: Int) {
        self.rows = rows
        blocks = rows / 8
        var parts = max(1, (rows + target - 1) / target)
        if parts >= workers { parts = (parts + workers - 1) / workers * workers }
        count = max(1, min(parts, blocks))
        maxRows = 8 * ((blocks + count - 1) / count) + rows % 8
    }

    /// The rows of part `i`: (first row, row count); the last part also takes the rows past the
    /// last whole block.
    public func range(_ i: Int) -> (start: Int, count: Int) {
        let base = blocks / count, extra = blocks % count
        let start = 8 * (i * base + min(i, extra))
        let end = i == count - 1 ? rows : 8 * ((i + 1) * base + min(i + 1, extra))
        return (start, end - start)
    }
}
