package fmix

import (
	"fmt"
	"math"
)

// checkLogits validates an n × classes logits matrix against n labels.
func checkLogits(logits []float32, classes int, labels []int) error {
	if classes < 1 {
		return fmt.Errorf("fmix: loss over %d classes: %w", classes, ErrInvalid)
	}
	if len(labels) == 0 || len(logits) != len(labels)*classes {
		return fmt.Errorf("fmix: loss: %d logits for %d labels × %d classes: %w", len(logits), len(labels), classes, ErrInvalid)
	}
	for i, y := range labels {
		if y < 0 || y >= classes {
			return fmt.Errorf("fmix: loss: label %d of example %d outside %d classes: %w", y, i, classes, ErrInvalid)
		}
	}
	return nil
}

func checkResult(r Result, n int) error {
	if len(r.Perm) != n || len(r.Lams) != n {
		return fmt.Errorf("fmix: loss: mix result for %d examples (perm %d, lams %d): %w", n, len(r.Perm), len(r.Lams), ErrInvalid)
	}
	for _, p := range r.Perm {
		if p < 0 || p >= n {
			return fmt.Errorf("fmix: loss: permutation entry %d outside the batch of %d: %w", p, n, ErrInvalid)
		}
	}
	return nil
}

// logSumExp of one row of logits.
func logSumExp(z []float32) float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = math.Max(mx, float64(v))
	}
	s := 0.0
	for _, v := range z {
		s += math.Exp(float64(v) - mx)
	}
	return mx + math.Log(s)
}

// CrossEntropy returns the mean softmax cross-entropy of logits
// (n × classes, row-major) against labels.
func CrossEntropy(logits []float32, classes int, labels []int) (float64, error) {
	if err := checkLogits(logits, classes, labels); err != nil {
		return 0, err
	}
	total := 0.0
	for i, y := range labels {
		z := logits[i*classes : (i+1)*classes]
		total += logSumExp(z) - float64(z[y])
	}
	return total / float64(len(labels)), nil
}

// MixedCrossEntropy returns the mean over examples of
// λᵢ·CE(yᵢ) + (1-λᵢ)·CE(y[perm[i]]), the loss of a mixed batch.
func MixedCrossEntropy(logits []float32, classes int, labels []int, r Result) (float64, error) {
	if err := checkLogits(logits, classes, labels); err != nil {
		return 0, err
	}
	if err := checkResult(r, len(labels)); err != nil {
		return 0, err
	}
	total := 0.0
	for i, y := range labels {
		z := logits[i*classes : (i+1)*classes]
		lse := logSumExp(z)
		lam := r.Lams[i]
		total += lam*(lse-float64(z[y])) + (1-lam)*(lse-float64(z[labels[r.Perm[i]]]))
	}
	return total / float64(len(labels)), nil
}

// MixedBCE returns binary cross-entropy with logits against the mixed
// one-hot targets λᵢ·onehot(yᵢ) + (1-λᵢ)·onehot(y[perm[i]]), averaged over
// all n × classes outputs (PyTorch's BCEWithLogitsLoss, mean reduction).
// A nil-Perm Result (or λ = 1) gives plain BCE against onehot(y).
func MixedBCE(logits []float32, classes int, labels []int, r Result) (float64, error) {
	if err := checkLogits(logits, classes, labels); err != nil {
		return 0, err
	}
	plain := r.Perm == nil
	if !plain {
		if err := checkResult(r, len(labels)); err != nil {
			return 0, err
		}
	}
	total := 0.0
	for i, y := range labels {
		for k := 0; k < classes; k++ {
			t := 0.0
			if plain {
				if k == y {
					t = 1
				}
			} else {
				if k == y {
					t += r.Lams[i]
				}
				if k == labels[r.Perm[i]] {
					t += 1 - r.Lams[i]
				}
			}
			z := float64(logits[i*classes+k])
			total += math.Max(z, 0) - z*t + math.Log1p(math.Exp(-math.Abs(z)))
		}
	}
	return total / float64(len(logits)), nil
}

// Loss is the published FMix loss: the mixed cross-entropy while training,
// plain cross-entropy against the original labels in evaluation or when λ
// was reformulated.
func Loss(logits []float32, classes int, labels []int, r Result, train bool) (float64, error) {
	if !train || r.Reformulated || r.Perm == nil {
		return CrossEntropy(logits, classes, labels)
	}
	return MixedCrossEntropy(logits, classes, labels, r)
}

// SoftTargets writes the n × classes training targets matching Loss:
// λᵢ·onehot(yᵢ) + (1-λᵢ)·onehot(y[perm[i]]), or onehot(yᵢ) when r was
// reformulated or is the zero Result.
func SoftTargets(dst []float32, classes int, labels []int, r Result) error {
	if classes < 1 || len(dst) != len(labels)*classes {
		return fmt.Errorf("fmix: soft targets: %d values for %d labels × %d classes: %w", len(dst), len(labels), classes, ErrInvalid)
	}
	plain := r.Reformulated || r.Perm == nil
	if !plain {
		if err := checkResult(r, len(labels)); err != nil {
			return err
		}
	}
	clear(dst)
	for i, y := range labels {
		if y < 0 || y >= classes {
			return fmt.Errorf("fmix: soft targets: label %d of example %d outside %d classes: %w", y, i, classes, ErrInvalid)
		}
		row := dst[i*classes : (i+1)*classes]
		if plain {
			row[y] = 1
			continue
		}
		row[y] += float32(r.Lams[i])
		row[labels[r.Perm[i]]] += float32(1 - r.Lams[i])
	}
	return nil
}
