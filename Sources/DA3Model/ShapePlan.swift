import DA3Kernels

/// Everything that depends only on the input size, computed once per size and reused for every
/// image of that size: position embedding, RoPE tables and positions.
struct ShapePlan {
    let height: Int, width: Int
    let gridHeight: Int, gridWidth: Int
    var patchCount: Int { gridHeight * gridWidth }
    /// (1 + N) x D position embedding for this grid.
    let posEmbed: [Float]
    /// RoPE (y, x) per token for local blocks: special token (0, 0), patch (row + 1, col + 1).
    let localPositions: [(Int, Int)]
    /// RoPE positions for global blocks (`pos_nodiff`): special (0, 0), every patch (1, 1).
    let globalPositions: [(Int, Int)]
    let rope: RoPE2D

    init<B>(height: Int, width: Int, backbone: VisionTransformer<B>) {
        let p = backbone.config.patchSize
        self.height = height
        self.width = width
        gridHeight = height / p
        gridWidth = width / p
        posEmbed = backbone.interpolatedPosEmbed(gridHeight: gridHeight, gridWidth: gridWidth, square: height == width)
        var local: [(Int, Int)] = [(0, 0)]
        for y in 0..<gridHeight { for x in 0..<gridWidth { local.append((y + 1, x + 1)) } }
        localPositions = local
        globalPositions = [(0, 0)] + Array(repeating: (1, 1), count: gridHeight * gridWidth)
        rope = RoPE2D(headDim: backbone.config.headDim, maxPosition: max(gridHeight, gridWidth) + 1,
                      frequency: backbone.config.ropeFrequency)
    }
}

/// Receives intermediate tensors by stage name (for tests and debugging), e.g. "block.3".
public typealias StageObserver = (String, Tensor) -> Void
