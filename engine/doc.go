// Package engine evaluates ONNX models on Gorgonia.
//
// onnx-go decodes the protobuf and drives the engine's onnx.Backend, which
// records the graph's values and operations. Read then rewrites the graph
// once (fuse.go): a BatchNormalization after a Conv is folded into the
// Conv's weights and bias, a per-channel constant Add becomes the Conv's
// bias, a residual Add and a following Relu run in the Conv's output pass
// (kernels.Conv2DOpts), a Mul by a scalar or per-channel constant after a
// Conv is folded into its weights, a zero-padded shortcut (Add of a Concat
// of a value and zeros, PyramidNet's) is added into the Conv's leading
// channels, a BatchNormalization read only by an unpadded Conv is folded
// into that Conv, and a Relu after any other BatchNormalization joins its
// scale/shift pass. On the first Run with a given
// set of input shapes the engine compiles the graph for those shapes:
// every shape is inferred, everything that does not depend on the inputs
// (initializer arithmetic and the Shape/Gather/Concat/Unsqueeze chains of
// PyTorch exports) is folded to constants, and the remaining operations
// become Gorgonia ops (package internal/funcop) over the project's kernels in
// one gorgonia.ExprGraph run by a TapeMachine. Compiling also rewrites
// what the shapes and readers allow: a BatchNormalization or Concat of a
// channel Concat reads the Concat's parts (DenseNet's growing maps are
// never copied), an average pool that alone reads a 1×1 Conv runs before
// it, one that tiles its input and alone reads a BatchNormalization applies
// it itself, and steps nothing reads are dropped. Compiled graphs are kept
// per input-shape signature and pooled, so concurrent callers never share
// a VM and a new batch size costs one compilation.
//
// Models are untrusted input, and no model can crash the process or
// allocate without bound: Read, compilation and Run recover panics and
// return them as errors; Read refuses more than 32768 nodes, a
// default-domain opset outside [MinOpset, MaxOpset] (*UnsupportedOpError
// with Op empty), and initializers or constants whose dimensions are
// negative, hold more than 2^28 elements or disagree with their data, all
// before onnx-go decodes a tensor. Every shape product is formed with
// overflow checks, and every tensor of a plan (at most 2^28 values, 1 GiB)
// is sized before it is allocated, including constant results folded at
// compile time; folding MatMul, Gemm, Conv or pooling on constants stops
// at 2^32 multiply-adds. A plan has at most 4096 runtime operations
// (building its Gorgonia graph takes time quadratic in them). Compilation
// checks the context between nodes and a run before each step, so a first
// Run stops at its deadline.
//
// The package knows nothing of model names, stores or HTTP: package hub
// builds on it.
package engine
