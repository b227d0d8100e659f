// Package fmix samples FMix masks and mixes batches with FMix, MixUp and
// CutMix (Harris et al., "FMix: Enhancing Mixed Sample Data Augmentation",
// arXiv 2002.12047).
//
// The package reproduces the published numpy implementation (ecs-vlc/FMix,
// fmix.py) exactly where that is checkable: FreqGrid, LowFreqImage and
// Binarise take explicit draws and return the same numbers as the published
// code (low-frequency images to within floating-point rounding, masks
// bit-exactly). Two spectra are offered:
//
//   - Official is what fmix.py computes. Its complex spectrum is built with
//     numpy's spectrum[:, 0] + 1j*spectrum[:, 1], which indexes the first
//     grid axis instead of the real/imaginary axis, so along the last mask
//     axis only harmonics 0 and 1 survive: every row of a 2D mask is one
//     cyclic run.
//   - Isotropic is what the paper describes: the real and imaginary parts are
//     the last axis of the draws and every frequency of the grid contributes.
//
// Sampler draws λ and masks with its own seeded generator and reuses its
// buffers and FFT plans, so a mask costs no allocation in steady state.
// Mixer applies FMix, MixUp, CutMix or the FMix+MixUp alternation to float32
// batches laid out N·C·L, N·C·H·W or N·C·D·H·W, and the loss functions
// combine cross-entropy (or binary cross-entropy) on plain float32 logits
// the way the published training code does.
//
// Speed: for the Official variant every row along the last axis is
// a + p·cos(2πk/s) + q·sin(2πk/s), so after two small inverse FFTs (one
// per surviving harmonic) a mask costs two passes over its values: a
// histogram (of every fourth row on large masks, checked exactly
// afterwards) and a classifying pass; only the values next to the cut are
// normalised and sorted. `make bench` (testdata/bench.sh) compares this
// with the published numpy code on 32×32, 224×224 and 64³ masks.
//
// Nothing in the package does I/O. Samplers and Mixers are not safe for
// concurrent use: give each goroutine its own.
package fmix
