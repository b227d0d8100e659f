package fmix

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"
)

func TestLambdaMatchesBeta(t *testing.T) {
	const draws = 20000
	for _, tc := range []struct {
		alpha       float64
		reformulate bool
		a, b        float64
	}{
		{1, false, 1, 1},
		{0.2, false, 0.2, 0.2},
		{0.5, false, 0.5, 0.5},
		{2, false, 2, 2},
		{1, true, 2, 1},
		{0.3, true, 1.3, 0.3},
	} {
		t.Run(fmt.Sprintf("alpha%g_reformulate%v", tc.alpha, tc.reformulate), func(t *testing.T) {
			o := DefaultOptions(8, 8)
			o.Alpha, o.Reformulate, o.Seed = tc.alpha, tc.reformulate, 7
			s, err := NewSampler(o)
			require.NoError(t, err)
			xs := make([]float64, draws)
			for i := range xs {
				xs[i] = s.Lambda()
				require.True(t, xs[i] >= 0 && xs[i] <= 1, "λ = %v", xs[i])
			}
			want := distuv.Beta{Alpha: tc.a, Beta: tc.b}

			// Kolmogorov–Smirnov: the critical value at the 0.1% level is
			// 1.95/sqrt(n).
			slices.Sort(xs)
			d := 0.0
			for i, x := range xs {
				f := want.CDF(x)
				d = max(d, math.Abs(f-float64(i)/draws), math.Abs(float64(i+1)/draws-f))
			}
			assert.Less(t, d, 1.95/math.Sqrt(draws), "KS statistic")

			mean, variance := 0.0, 0.0
			for _, x := range xs {
				mean += x
			}
			mean /= draws
			for _, x := range xs {
				variance += (x - mean) * (x - mean)
			}
			variance /= draws - 1
			se := math.Sqrt(want.Variance() / draws)
			assert.InDelta(t, want.Mean(), mean, 5*se, "mean")
			assert.InDelta(t, want.Variance(), variance, 0.05*want.Variance(), "variance")
		})
	}
}

func TestSamplerDeterministic(t *testing.T) {
	for _, v := range []Variant{Official, Isotropic} {
		o := DefaultOptions(16, 12)
		o.Variant, o.Seed = v, 42
		a, err := NewSampler(o)
		require.NoError(t, err)
		b, err := NewSampler(o)
		require.NoError(t, err)
		o.Seed = 43
		c, err := NewSampler(o)
		require.NoError(t, err)
		for i := 0; i < 5; i++ {
			la, ma := a.Mask()
			lb, mb := b.Mask()
			lc, mc := c.Mask()
			assert.Equal(t, la, lb, "%v: same seed, same λ", v)
			assert.Equal(t, ma, mb, "%v: same seed, same mask", v)
			assert.NotEqual(t, la, lc, "%v: another seed, another λ", v)
			assert.NotEqual(t, ma, mc, "%v: another seed, another mask", v)
		}
	}
}

// TestMaskProperties checks every sampled mask: its sum is the number of
// ones binarise_mask chose (the ramp sums to half its length, so softening
// keeps it), its ramp has the published length, and Official 2D masks are
// one cyclic run per row along the last axis.
func TestMaskProperties(t *testing.T) {
	for _, tc := range []struct {
		shape   []int
		v       Variant
		maxSoft float64
	}{
		{[]int{32, 32}, Official, 0},
		{[]int{32, 32}, Official, 0.1},
		{[]int{28, 28}, Isotropic, 0},
		{[]int{31, 33}, Isotropic, 0.3},
		{[]int{64}, Official, 0},
		{[]int{33}, Isotropic, 0.05},
		{[]int{8, 9, 10}, Official, 0.2},
		{[]int{6, 10, 7}, Isotropic, 0},
	} {
		t.Run(fmt.Sprintf("%v_%v_soft%g", tc.shape, tc.v, tc.maxSoft), func(t *testing.T) {
			o := DefaultOptions(tc.shape...)
			o.Variant, o.MaxSoft, o.Seed = tc.v, tc.maxSoft, 3
			s, err := NewSampler(o)
			require.NoError(t, err)
			n := s.Size()
			for draw := 0; draw < 200; draw++ {
				lam, mask := s.Mask()
				require.Len(t, mask, n)
				sum, between := 0.0, 0
				for _, m := range mask {
					require.True(t, m >= 0 && m <= 1, "mask value %v", m)
					sum += m
					if m > 0 && m < 1 {
						between++
					}
				}
				lo, hi := math.Floor(lam*float64(n)), math.Ceil(lam*float64(n))
				assert.True(t, math.Abs(sum-lo) < 1e-9 || math.Abs(sum-hi) < 1e-9,
					"mask sum %v, want floor or ceil of λN = %v", sum, lam*float64(n))

				eff := tc.maxSoft
				if eff > lam || eff > 1-lam {
					eff = min(lam, 1-lam)
				}
				soft := int(float64(n) * eff)
				assert.Equal(t, max(2*soft-2, 0), between, "ramp values strictly inside (0, 1), λ %v", lam)

				if tc.v == Official && len(tc.shape) == 2 && tc.maxSoft == 0 {
					w := tc.shape[1]
					for row := 0; row < tc.shape[0]; row++ {
						r := mask[row*w : (row+1)*w]
						changes := 0
						for k := range r {
							if r[k] != r[(k+1)%w] {
								changes++
							}
						}
						require.LessOrEqual(t, changes, 2, "row %d of an Official mask is more than one cyclic run: %v", row, r)
					}
				}
			}
		})
	}
}

// TestIsotropicRowsHaveMoreRuns guards the Official row test above: the
// isotropic spectrum does produce rows with several runs.
func TestIsotropicRowsHaveMoreRuns(t *testing.T) {
	o := DefaultOptions(32, 32)
	o.Variant, o.DecayPower, o.Seed = Isotropic, 1, 5
	s, err := NewSampler(o)
	require.NoError(t, err)
	most := 0
	for draw := 0; draw < 20; draw++ {
		_, mask := s.Mask()
		for row := 0; row < 32; row++ {
			changes := 0
			for k := 0; k < 32; k++ {
				if mask[row*32+k] != mask[row*32+(k+1)%32] {
					changes++
				}
			}
			most = max(most, changes)
		}
	}
	assert.Greater(t, most, 2)
}

func TestSamplerAllocatesNothing(t *testing.T) {
	for _, v := range []Variant{Official, Isotropic} {
		for _, shape := range [][]int{{32, 32}, {8, 9, 10}, {50}} {
			o := DefaultOptions(shape...)
			o.Variant, o.MaxSoft = v, 0.1
			s, err := NewSampler(o)
			require.NoError(t, err)
			s.Mask()
			allocs := testing.AllocsPerRun(20, func() { s.Mask() })
			assert.Zero(t, allocs, "%v %v", v, shape)
		}
	}
}

func TestLowFreqNormalised(t *testing.T) {
	o := DefaultOptions(20, 30)
	s, err := NewSampler(o)
	require.NoError(t, err)
	low := s.LowFreq()
	assert.Equal(t, 0.0, slices.Min(low))
	assert.Equal(t, 1.0, slices.Max(low))
}
