package fmix

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFastMaskMatchesBinarise checks the sampler's path (histogram on the
// raw image, closed-form extremes, normalising only near the cut) against
// Binarise of LowFreqImage for the same draws, value for value.
func TestFastMaskMatchesBinarise(t *testing.T) {
	t.Run("estimated", func(t *testing.T) { fastMaskMatches(t) })
	// A margin far too small (even negative) must take the fallback.
	defer func(m func(int, int) int) { closedMargin = m }(closedMargin)
	closedMargin = func(n, _ int) int { return -n / 4 }
	t.Run("fallback", func(t *testing.T) { fastMaskMatches(t) })
}

func fastMaskMatches(t *testing.T) {
	shapes := [][]int{{32, 32}, {31, 33}, {7, 2}, {2, 2}, {64}, {33}, {3}, {8, 9, 10}, {5, 2, 3}, {16, 16, 16}, {96, 20}, {70, 3}}
	r := rand.New(rand.NewPCG(9, 9))
	for _, v := range []Variant{Official, Isotropic} {
		for _, shape := range shapes {
			t.Run(fmt.Sprintf("%v_%v", v, shape), func(t *testing.T) {
				for _, decay := range []float64{1, 3} {
					p, err := newPlan(shape, decay, v)
					require.NoError(t, err)
					var b binariser
					for draw := 0; draw < 10; draw++ {
						normals := make([]float64, p.nNormals)
						for i := range normals {
							normals[i] = r.NormFloat64()
						}
						low, err := LowFreqImage(shape, decay, normals, v)
						require.NoError(t, err)
						for _, tc := range []struct {
							lam, soft float64
							up        bool
						}{{0.5, 0, true}, {0.137, 0, false}, {0.9, 0.2, true}, {0.3, 0.5, false}, {0, 0, true}, {1, 0, false}, {1, 0.1, true}} {
							want := Binarise(low, tc.lam, tc.up, tc.soft)
							got := make([]float64, p.n)
							p.load(func(t *term) complex128 { return complex(t.sre*normals[t.re], t.sim*normals[t.im]) })
							lo, hi := cut(p.n, tc.lam, tc.up, tc.soft)
							require.True(t, p.mask(got, &b, lo, hi))
							require.Equal(t, want, got, "decay %v draw %d %+v", decay, draw, tc)
						}
					}
				}
			})
		}
	}
}

// TestClosedMinMax checks the closed-form extremes against a full scan.
func TestClosedMinMax(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, shape := range [][]int{{64, 64}, {9, 2}, {5, 3}, {100}, {8, 9, 17}} {
		p, err := newPlan(shape, 3, Official)
		require.NoError(t, err)
		require.Nil(t, p.rfft, "Official uses the closed form")
		for draw := 0; draw < 50; draw++ {
			p.load(func(*term) complex128 { return complex(r.NormFloat64(), r.NormFloat64()) })
			p.inverseLeading()
			mn, mx := p.closedMinMax()
			smn, smx := p.inverseLast()
			assert.Equal(t, smn, mn, "%v min", shape)
			assert.Equal(t, smx, mx, "%v max", shape)
		}
	}
}

// TestEstimateRarelyFallsBack checks that the quarter-row histogram's
// margin is wide enough that large masks seldom need the full histogram
// (a fallback costs a second pass, never correctness).
func TestEstimateRarelyFallsBack(t *testing.T) {
	for _, shape := range [][]int{{224, 224}, {64, 64, 64}, {256, 128}} {
		for _, soft := range []float64{0, 0.1} {
			o := DefaultOptions(shape...)
			o.MaxSoft, o.Seed = soft, 1
			s, err := NewSampler(o)
			require.NoError(t, err)
			before := closedFallbacks
			for i := 0; i < 40; i++ {
				s.Mask()
			}
			assert.LessOrEqual(t, closedFallbacks-before, 2, "%v soft %v", shape, soft)
		}
	}
}
