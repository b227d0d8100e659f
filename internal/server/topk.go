package server

import (
	"math"
	"sort"
	"strconv"
)

// Prediction is one class of a classification result.
type Prediction struct {
	Label       string  `json:"label"`
	Index       int     `json:"index"`
	Probability float64 `json:"probability"`
}

// topK returns the k most probable classes of one row of logits, by softmax,
// most probable first; ties go to the lower index. labels may be shorter
// than logits: missing labels are the class index in decimal.
func topK(logits []float32, labels []string, k int) []Prediction {
	if k > len(logits) {
		k = len(logits)
	}
	if k <= 0 {
		return []Prediction{}
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
	}
	sort.SliceStable(idx, func(a, b int) bool { return probs[idx[a]] > probs[idx[b]] })
	out := make([]Prediction, k)
	for i := range out {
		j := idx[i]
		out[i] = Prediction{Label: label(labels, j), Index: j, Probability: probs[j] / sum}
	}
	return out
}

func label(labels []string, i int) string {
	if i < len(labels) {
		return labels[i]
	}
	return strconv.Itoa(i)
}
