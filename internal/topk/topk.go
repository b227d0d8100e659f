// Package topk turns a row of logits into the most probable classes with
// their softmax probabilities: the one implementation behind hub.TopK and
// zoo-serve's answers.
package topk

import (
	"math"
	"sort"
	"strconv"
)

// Prediction is one class of a classification, with its softmax probability.
type Prediction struct {
	Label       string  `json:"label"`
	Index       int     `json:"index"`
	Probability float64 `json:"probability"`
}

// TopK returns the k most probable classes of one row of logits, most
// probable first (ties by lower index), with softmax probabilities over all
// classes. k <= 0 or k > len(logits) means all. labels[i] names class i;
// a class without a label is named by its index.
func TopK(logits []float32, labels []string, k int) []Prediction {
	if len(logits) == 0 {
		return nil
	}
	if k <= 0 || k > len(logits) {
		k = len(logits)
	}
	maxv := math.Inf(-1)
	for _, v := range logits {
		maxv = math.Max(maxv, float64(v))
	}
	probs := make([]float64, len(logits))
	var sum float64
	for i, v := range logits {
		probs[i] = math.Exp(float64(v) - maxv)
		sum += probs[i]
	}
	idx := make([]int, len(logits))
	for i := range idx {
		idx[i] = i
		probs[i] /= sum
	}
	sort.SliceStable(idx, func(a, b int) bool { return probs[idx[a]] > probs[idx[b]] })
	out := make([]Prediction, k)
	for j := range out {
		i := idx[j]
		label := strconv.Itoa(i)
		if i < len(labels) && labels[i] != "" {
			label = labels[i]
		}
		out[j] = Prediction{Label: label, Index: i, Probability: probs[i]}
	}
	return out
}
