package fmix

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// referenceBinarise is binarise_mask written the obvious way: a stable
// ascending argsort reversed (equal values: later index first), then the
// three slice assignments.
func referenceBinarise(y []float64, lam float64, up bool, maxSoft float64) []float64 {
	n := len(y)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case y[a] < y[b]:
			return -1
		case y[a] > y[b]:
			return 1
		}
		return 0
	})
	slices.Reverse(idx)
	lo, hi := cut(n, lam, up, maxSoft)
	out := make([]float64, n)
	for r, i := range idx {
		switch {
		case r < lo:
			out[i] = 1
		case r >= hi:
			out[i] = 0
		case r == hi-1:
			out[i] = 0
		default:
			out[i] = float64(r-lo)*(-1/float64(hi-lo-1)) + 1
		}
	}
	return out
}

// TestBinariseMatchesReference compares the histogram ranking with the
// reference on random images, many with ties, at many sizes and cuts.
func TestBinariseMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for trial := 0; trial < 400; trial++ {
		n := 1 + r.IntN(3000)
		if trial%10 == 0 {
			n = 1 + r.IntN(40000)
		}
		y := make([]float64, n)
		levels := 1 + r.IntN(50)
		for i := range y {
			switch trial % 3 {
			case 0:
				y[i] = r.Float64()
			case 1:
				y[i] = float64(r.IntN(levels)) // heavy ties
			default:
				y[i] = math.Pow(r.Float64(), 8) * 1e-3 // skewed, crowded near 0
			}
		}
		lam := r.Float64()
		if trial%7 == 0 {
			lam = float64(r.IntN(3)) / 2
		}
		soft := []float64{0, 0, 0.05, 0.2, 0.5}[r.IntN(5)]
		up := r.IntN(2) == 0
		want := referenceBinarise(y, lam, up, soft)
		got := Binarise(y, lam, up, soft)
		require.Equal(t, want, got, "trial %d: n %d λ %v soft %v up %v", trial, n, lam, soft, up)
	}
}

// FuzzBinarise: any finite values match the reference.
func FuzzBinarise(f *testing.F) {
	f.Add([]byte{1, 2, 3, 3, 2, 1}, 0.5, true, 0.1)
	f.Add([]byte{0, 0, 0, 0}, 0.25, false, 0.0)
	f.Fuzz(func(t *testing.T, data []byte, lam float64, up bool, soft float64) {
		if len(data) == 0 || !(lam >= 0 && lam <= 1) || !(soft >= 0 && soft <= 0.5) {
			return
		}
		y := make([]float64, len(data))
		for i, b := range data {
			y[i] = float64(b % 17)
		}
		require.Equal(t, referenceBinarise(y, lam, up, soft), Binarise(y, lam, up, soft))
	})
}
