// DA3Kernels placeholder
