// Package fmixzoo holds the files every fmixzoo binary embeds: the model
// manifest (weights.json) and the default weights store (weights/). It lives
// at the repository root because go:embed cannot reach parent directories;
// package hub is the only intended reader.
package fmixzoo

import "embed"

// Manifest is the repository's weights.json, the default model manifest.
// See the README for its schema.
//
//go:embed weights.json
var Manifest []byte

// Weights is the repository's weights/ directory, the default read-only
// store. Paths inside it start with "weights/".
//
//go:embed weights
var Weights embed.FS
