package server

import (
	"context"
	"errors"
	"image"
)

// ErrUnknownModel is what a Catalog returns (wrapped) for a name it lacks;
// the server answers 404.
var ErrUnknownModel = errors.New("unknown model")

// ErrModelUnavailable is what a Catalog's Load returns (wrapped) when a
// known model cannot be loaded now, for instance because its weights are not
// published or their store is unreachable; the server answers 503 with the
// error's message, and with Retry-After when an error in the chain has a
// RetryAfter() time.Duration method.
var ErrModelUnavailable = errors.New("model unavailable")

// Model is what the server needs of a loaded model.
type Model interface {
	// Preprocess turns an image into the model's input layout, C*H*W
	// float32 values, applying the model's own preprocessing.
	Preprocess(img image.Image) ([]float32, error)
	// Run runs a batch of n inputs laid out back to back (n*C*H*W values)
	// and returns n rows of logits (n*classes values). It must be safe for
	// concurrent use.
	Run(ctx context.Context, x []float32, n int) ([]float32, error)
}

// Catalog names the models the server may serve and loads them.
type Catalog interface {
	// List returns the sorted names matching a path.Match pattern ("" or
	// "*" for all).
	List(pattern string) []string
	// Info describes a model without loading it; it wraps ErrUnknownModel
	// for a name the catalog lacks.
	Info(name string) (ModelInfo, error)
	// Load builds a runnable model; the server calls it at most once per
	// name while the model stays loaded.
	Load(ctx context.Context, name string) (Model, error)
}

// ModelInfo describes a model: what /v1/models/{name} reports and what the
// server checks tensors against.
type ModelInfo struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Arch        string   `json:"arch"`
	Dataset     string   `json:"dataset"`
	MSDA        string   `json:"msda,omitempty"`
	Input       []int    `json:"input"` // C, H, W
	Labels      []string `json:"labels"`
	Accuracy    Accuracy `json:"accuracy"`
	// InputName and OutputName name the tensors in the Open Inference
	// Protocol; empty means "input" and "logits".
	InputName  string `json:"-"`
	OutputName string `json:"-"`
	// Resize is the shorter side images are resized to before the centre
	// crop to H×W; 0: straight to H×W. The server bounds preprocessing's
	// memory with it.
	Resize int `json:"-"`
	// Mean and Std are the per-channel normalisation the model's
	// preprocessing applies to pixels scaled to [0, 1]; the explain
	// endpoint inverts them to draw its overlays (nil: each channel is
	// stretched to its range instead).
	Mean []float64 `json:"-"`
	Std  []float64 `json:"-"`
}

// Accuracy is a model's reported accuracy, in percent, and its source.
type Accuracy struct {
	Top1       *float64 `json:"top1,omitempty"`
	Top5       *float64 `json:"top5,omitempty"`
	Source     string   `json:"source,omitempty"`
	Provenance string   `json:"provenance,omitempty"`
}

func (m ModelInfo) inputName() string {
	if m.InputName == "" {
		return "input"
	}
	return m.InputName
}

func (m ModelInfo) outputName() string {
	if m.OutputName == "" {
		return "logits"
	}
	return m.OutputName
}

// inputSize is C*H*W.
func (m ModelInfo) inputSize() int {
	n := 1
	for _, d := range m.Input {
		n *= d
	}
	return n
}
