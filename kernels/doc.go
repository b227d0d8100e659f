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
// assembly over packed panels (AVX-512 12×32, AVX-512 16×16 for products 16
// or fewer columns wide, AVX2+FMA 6×16; chosen at start-up with
// golang.org/x/sys/cpu). Conv2D is an implicit GEMM: patches are packed
// straight from the image (with AVX-512 masked loads for column strides 1
// and 2), images whose feature maps are small share one product, and
// PackedConv packs constant weights once. Pointwise convolutions of small
// maps (one image a product) read their input as it lies, the 12×32
// kernel's masked form taking B's rows at any stride, and the last,
// partial panel of a product runs masked (half width for 16 columns or
// fewer) instead of through a scratch tile, as does its last strip when 4
// or 8 rows (on 4- and 8-row forms of the 12×32 kernel). 3×3 stride-1 convolutions with
// 16 or more channels in and out take Winograd F(2×2, 3×3) instead
// (winograd.go): 16 GEMMs over transformed filters (on the 16×16
// microkernel; a block's last panel, when it holds four tiles or fewer,
// on a column kernel four strips at a time), 2.25 times fewer
// multiply-adds, the input and output transforms read and write the NCHW
// tensors directly with AVX-512; results differ from the direct sum by
// rounding only. Bias, residual add and ReLU are applied to each block of
// the output while it is still in cache (the Winograd output transform, or
// the direct product's finished row blocks), and the first k block of a
// product writes C instead of adding to it, so no pass clears or revisits
// y. The data gradient of a stride-1 convolution is the forward
// convolution of dy with the flipped filters (so it takes Winograd too).
// The filter gradient of wide Winograd-eligible layers (256 channels and
// more) is Winograd too, over NHWC copies of x and dy
// (winograd_filter.go); elsewhere it writes an explicit im2col matrix and
// reduces over output positions with a 4×6 AVX-512 dot-product kernel,
// which reads both operands' rows as they lie.
// Elsewhere, and with -tags purego, a pure-Go path computes the same
// results.
//
// Work is spread over GOMAXPROCS goroutines: over images (or Winograd
// tile blocks) for batches, taken dynamically so that a core slowed by
// another process does less of it, over columns of wide products and over
// rows otherwise. Parallel sections run their first worker on the calling
// goroutine and the others on helper goroutines that spin between tasks
// before parking (300 µs, or 50 µs in zoo-serve and zoo-train, whose other
// goroutines need the processors: SetHelperSpin), because waking a parked
// thread costs tens of microseconds and at batch 1 every layer forks. Reductions that must
// not vary from run to run (the filter gradient) keep a fixed assignment.
// The row kernels (SumRow, AffineRow, ReLURow, …) are the branch-free
// elementwise passes of batch norm and ReLU.
//
// Kernels check the sizes of their slices against their parameters and
// panic with a message naming the kernel when they disagree: a mismatch is
// a programming error of the caller (the ONNX engine validates untrusted
// models before it reaches here), in the manner of gonum's BLAS.
package kernels
