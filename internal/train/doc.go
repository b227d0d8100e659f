// Package train is zoo-train's library: the training loop over package
// data's batches, SGD with the published schedules, mixed-sample data
// augmentation through package fmix, checkpoints and resume, progress and
// training curves, evaluation (of the training graph, and of an exported
// model through hub as users run it), the publish step (ONNX export, store
// upload, weights.json entry) and verify.
//
// Everything random is driven by explicit seeds: a run with the same seed,
// data and flags on the same machine produces the same weights.
package train
