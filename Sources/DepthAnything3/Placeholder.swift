// DepthAnything3 placeholder
