// Package data is what zoo-train reads and feeds to a network: the
// datasets (Fashion-MNIST and MNIST as IDX files, CIFAR-10/100 in their
// binary format, ImageNet-style image folders, and ImageNet's validation
// set labelled by a synset list), where each is found by default, the
// published transforms (the random training augmentations, and the test
// transform, which runs internal/vision's preprocessing so that accuracy
// measured in training is measured on the inputs hub serves), and a
// parallel prefetching loader of mini-batches.
//
// Every dataset records the files it was read from with their SHA-256, for
// the provenance of the accuracies measured on it. Every random choice
// (order, crops, flips) derives from a seed, the epoch and the batch
// index, so a run is reproducible whatever the goroutine scheduling.
package data
