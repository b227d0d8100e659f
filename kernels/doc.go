// Package kernels holds the CPU compute kernels of the model zoo: SGEMM,
// 2-D convolution (forward, data gradient and filter gradient; im2col, 1×1
// and grouped/depthwise paths) and the small per-layer kernels around them.
//
// Every kernel works on plain []float32 slices in row-major order; tensors
// are NCHW and convolution weights K×(C/Group)×R×S. Kernels never keep
// references to their arguments. Scratch space comes from internal pools,
// so steady-state calls do not allocate per call beyond what the Go runtime
// needs to start worker goroutines.
//
// Kernels check the sizes of their slices against their parameters and
// panic with a message naming the kernel when they disagree: a mismatch is
// a programming error of the caller (the ONNX engine validates untrusted
// models before it reaches here), in the manner of gonum's BLAS.
package kernels
