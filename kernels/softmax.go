package kernels

import (
	"fmt"
	"math"
)

// SoftmaxCrossEntropy returns the mean over n rows of the cross-entropy
// −Σ target·log softmax(logits) for n×classes logits and target
// distributions (rows of targets sum to 1; mixed labels such as FMix's are
// fine). When dlogits is not nil it receives the gradient of that mean,
// (softmax − target)/n.
func SoftmaxCrossEntropy(n, classes int, logits, targets, dlogits []float32) float32 {
	if n < 0 || classes <= 0 || len(logits) < n*classes || len(targets) < n*classes ||
		(dlogits != nil && len(dlogits) < n*classes) {
		panic(fmt.Sprintf("kernels: SoftmaxCrossEntropy: bad sizes n=%d classes=%d", n, classes))
	}
	if n == 0 {
		return 0
	}
	var loss float64
	for i := 0; i < n; i++ {
		z := logits[i*classes : (i+1)*classes]
		t := targets[i*classes : (i+1)*classes]
		mx := z[0]
		for _, v := range z {
			mx = max(mx, v)
		}
		var s float64
		for _, v := range z {
			s += math.Exp(float64(v - mx))
		}
		lse := float64(mx) + math.Log(s)
		for j, v := range z {
			if t[j] != 0 {
				loss -= float64(t[j]) * (float64(v) - lse)
			}
		}
		if dlogits != nil {
			d := dlogits[i*classes : (i+1)*classes]
			for j, v := range z {
				d[j] = float32((math.Exp(float64(v)-lse) - float64(t[j])) / float64(n))
			}
		}
	}
	return float32(loss / float64(n))
}

// Argmax is the index of the largest value of v, the first of ties (the
// predicted class of a row of logits); 0 for an empty v.
func Argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
