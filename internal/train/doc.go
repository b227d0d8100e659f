// Package train is zoo-train's library: datasets (IDX, CIFAR binary,
// image folders), the published transforms, a parallel prefetching loader,
// SGD with the published schedules, mixed-sample data augmentation through
// package fmix, checkpoints and resume, progress and training curves, the
// publish step (ONNX export, store upload, weights.json entry) and verify.
//
// Everything random is driven by explicit seeds: a run with the same seed,
// data and flags on the same machine produces the same weights.
package train
