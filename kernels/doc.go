// Package kernels holds the CPU compute kernels of the model zoo: SGEMM,
// 2-D convolution (forward, data gradient and filter gradient; im2col, 1×1
// and grouped/depthwise paths) and the small per-layer kernels around them.
//
// Every kernel works on plain []float32 slices in row-major order; tensors
// are NCHW and convolution weights K×(C/Group)×R×S. Kernels never keep
// references to their arguments. Scratch space (packing panels, patch
// matrices) comes from a free list that survives garbage collections, so
// steady-state calls allocate no buffers; what remains per call is a few
// hundred bytes for starting worker goroutines.
//
// On amd64, Sgemm and the convolutions run register-blocked microkernels in
// assembly (AVX-512 12×32 or AVX2+FMA 6×16, chosen at start-up with
// golang.org/x/sys/cpu) over packed panels; Conv2D then packs patches
// straight from the image (implicit GEMM) and batches images whose feature
// maps are small. Elsewhere, and with -tags purego, a pure-Go path computes
// the same results. Work is spread over GOMAXPROCS goroutines: over images
// for batches, over rows of the product otherwise.
//
// Kernels check the sizes of their slices against their parameters and
// panic with a message naming the kernel when they disagree: a mismatch is
// a programming error of the caller (the ONNX engine validates untrusted
// models before it reaches here), in the manner of gonum's BLAS.
package kernels
