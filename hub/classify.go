package hub

import (
	"context"
	"fmt"
	"image"

	"github.com/fmixzoo/zoo/internal/topk"
)

// Prediction is one class of a classification, with its softmax probability.
type Prediction = topk.Prediction

// TopK returns the k most probable classes of one row of logits, most
// probable first (ties by lower index), with softmax probabilities over all
// classes. k <= 0 or k > len(logits) means all. labels[i] names class i;
// a class without a label is named by its index.
func TopK(logits []float32, labels []string, k int) []Prediction {
	return topk.TopK(logits, labels, k)
}

// Classify preprocesses img, runs the model and returns the top k classes
// (k <= 0: all).
func (m *Model) Classify(ctx context.Context, img image.Image, k int) ([]Prediction, error) {
	res, err := m.Predict(ctx, []image.Image{img}, k)
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// Predict classifies a batch of images in one run of the model and
// returns the top k classes of each, in order.
func (m *Model) Predict(ctx context.Context, imgs []image.Image, k int) ([][]Prediction, error) {
	if len(imgs) == 0 {
		return nil, nil
	}
	shape := m.entry.Input.Shape
	per := shape[0] * shape[1] * shape[2]
	x := make([]float32, len(imgs)*per)
	for i, img := range imgs {
		if _, err := preprocess(img, m.entry.Input, x[i*per:(i+1)*per:(i+1)*per]); err != nil {
			return nil, fmt.Errorf("hub: predict: image %d: %w", i, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("hub: predict: %w", err)
		}
	}
	outs, err := m.Run(ctx, Tensor{Shape: []int{len(imgs), shape[0], shape[1], shape[2]}, Data: x})
	if err != nil {
		return nil, fmt.Errorf("hub: predict %q: %w", m.entry.Name, err)
	}
	if len(outs) == 0 {
		return nil, fmt.Errorf("hub: predict %q: model returned no output", m.entry.Name)
	}
	y := outs[0]
	if len(y.Shape) != 2 || y.Shape[0] != len(imgs) || y.Shape[1] <= 0 || len(y.Data) != y.Shape[0]*y.Shape[1] {
		return nil, fmt.Errorf("hub: predict %q: output shape %v (%d values), want %d×classes", m.entry.Name, y.Shape, len(y.Data), len(imgs))
	}
	res := make([][]Prediction, len(imgs))
	nc := y.Shape[1]
	for i := range res {
		res[i] = TopK(y.Data[i*nc:(i+1)*nc], m.entry.Labels, k)
	}
	return res, nil
}
