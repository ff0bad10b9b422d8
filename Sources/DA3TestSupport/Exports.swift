// Synthetic weights and images live on the product side (DA3Weights, also used by da3-bench).
@_exported import DA3Weights
