package fmix

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCrossEntropy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		logits  []float32
		classes int
		labels  []int
		want    float64
	}{
		{"uniform", []float32{0, 0, 0, 0}, 4, []int{2}, math.Log(4)},
		{"two rows", []float32{2, 0, 0, 3}, 2, []int{0, 0}, (math.Log(1+math.Exp(-2)) + math.Log(1+math.Exp(3))) / 2},
		{"large logits stay finite", []float32{1000, 0}, 2, []int{1}, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CrossEntropy(tc.logits, tc.classes, tc.labels)
			require.NoError(t, err)
			assert.InDelta(t, tc.want, got, 1e-9)
		})
	}
}

func TestMixedLosses(t *testing.T) {
	logits := []float32{1, 2, 0.5, -1, 0, 3}
	labels := []int{0, 2}
	r := Result{Perm: []int{1, 0}, Lams: []float64{0.3, 0.8}, Lam: 0.55}
	ce := func(row []float32, y int) float64 {
		s := 0.0
		for _, v := range row {
			s += math.Exp(float64(v))
		}
		return math.Log(s) - float64(row[y])
	}
	want := (0.3*ce(logits[:3], 0) + 0.7*ce(logits[:3], 2) + 0.8*ce(logits[3:], 2) + 0.2*ce(logits[3:], 0)) / 2
	got, err := MixedCrossEntropy(logits, 3, labels, r)
	require.NoError(t, err)
	assert.InDelta(t, want, got, 1e-9)

	train, err := Loss(logits, 3, labels, r, true)
	require.NoError(t, err)
	assert.InDelta(t, want, train, 1e-12)
	plain, err := CrossEntropy(logits, 3, labels)
	require.NoError(t, err)
	eval, err := Loss(logits, 3, labels, r, false)
	require.NoError(t, err)
	assert.Equal(t, plain, eval, "evaluation is plain cross-entropy")
	r2 := r
	r2.Reformulated = true
	ref, err := Loss(logits, 3, labels, r2, true)
	require.NoError(t, err)
	assert.Equal(t, plain, ref, "reformulation trains on plain cross-entropy")

	// BCE against the mixed one-hot targets, mean over all outputs.
	targets := make([]float32, 6)
	require.NoError(t, SoftTargets(targets, 3, labels, r))
	assert.InDeltaSlice(t, []float32{0.3, 0, 0.7, 0.2, 0, 0.8}, targets, 1e-7)
	bce := 0.0
	for i, z := range logits {
		p := 1 / (1 + math.Exp(-float64(z)))
		tt := float64(targets[i])
		bce += -(tt*math.Log(p) + (1-tt)*math.Log(1-p))
	}
	gotBCE, err := MixedBCE(logits, 3, labels, r)
	require.NoError(t, err)
	assert.InDelta(t, bce/6, gotBCE, 1e-6)

	require.NoError(t, SoftTargets(targets, 3, labels, r2))
	assert.Equal(t, []float32{1, 0, 0, 0, 0, 1}, targets)
}

func TestLossRejects(t *testing.T) {
	r := Result{Perm: []int{0}, Lams: []float64{1}}
	_, err := CrossEntropy([]float32{1, 2}, 2, []int{2})
	assert.ErrorIs(t, err, ErrInvalid)
	_, err = CrossEntropy([]float32{1, 2, 3}, 2, []int{0})
	assert.ErrorIs(t, err, ErrInvalid)
	_, err = MixedCrossEntropy([]float32{1, 2, 3, 4}, 2, []int{0, 1}, r)
	assert.ErrorIs(t, err, ErrInvalid)
	_, err = MixedBCE([]float32{1, 2}, 2, []int{0}, Result{Perm: []int{3}, Lams: []float64{1}})
	assert.ErrorIs(t, err, ErrInvalid)
	assert.ErrorIs(t, SoftTargets(make([]float32, 3), 2, []int{0}, r), ErrInvalid)
}
