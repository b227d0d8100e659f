package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRowKernels(t *testing.T) {
	saved := hasMaskedCopy
	t.Cleanup(func() { hasMaskedCopy = saved })
	for _, asm := range []bool{saved, false} {
		hasMaskedCopy = asm
		t.Run(map[bool]string{true: "avx512", false: "go"}[asm], testRowKernels)
	}
}

func testRowKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1024, 1031} {
		x, z, dy := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
		var sum, dev, sdy, sdyx float64
		mean := float32(0.1)
		for i := range x {
			sum += float64(x[i])
			d := float64(x[i]) - float64(mean)
			dev += d * d
			sdy += float64(dy[i])
			sdyx += float64(dy[i]) * float64(x[i])
		}
		tol := 1e-5 * float64(n+1)
		assert.InDelta(t, sum, SumRow(x), tol, "SumRow n=%d", n)
		assert.InDelta(t, dev, SumSqDevRow(x, mean), tol, "SumSqDevRow n=%d", n)
		gs, gx := DotSumRow(dy, x)
		assert.InDelta(t, sdy, gs, tol, "DotSumRow Σdy n=%d", n)
		assert.InDelta(t, sdyx, gx, tol, "DotSumRow Σdy·x n=%d", n)

		y := make([]float32, n)
		AffineRow(y, x, 1.5, -0.25, ActNone)
		for i := range x {
			require.Equal(t, 1.5*x[i]-0.25, y[i])
		}
		AffineRow(y, x, 1.5, -0.25, ActReLU)
		for i := range x {
			require.Equal(t, max(1.5*x[i]-0.25, 0), y[i])
		}
		BiasAddRow(y, x, z, 0.5, ActNone)
		for i := range x {
			require.Equal(t, x[i]+0.5+z[i], y[i])
		}
		BiasAddRow(y, x, z, 0.5, ActReLU)
		for i := range x {
			require.Equal(t, max(x[i]+0.5+z[i], 0), y[i])
		}
		BiasAddRow(y, x, nil, 0.5, ActReLU)
		for i := range x {
			require.Equal(t, max(x[i]+0.5, 0), y[i])
		}
		Affine2Row(y, x, z, 2, -3, 0.5)
		for i := range x {
			require.Equal(t, 2*x[i]+(-3)*z[i]+0.5, y[i])
		}
		gs, gx = MaskedDotSumRow(dy, z, x)
		var msdy, msdyx float64
		for i := range x {
			if x[i] > 0 {
				msdy += float64(dy[i])
				msdyx += float64(dy[i]) * float64(z[i])
			}
		}
		assert.InDelta(t, msdy, gs, tol, "MaskedDotSumRow Σdy n=%d", n)
		assert.InDelta(t, msdyx, gx, tol, "MaskedDotSumRow Σdy·z n=%d", n)
		Affine2MaskRow(y, dy, z, x, 2, -3, 0.5)
		for i := range x {
			g := float32(0)
			if x[i] > 0 {
				g = dy[i]
			}
			require.Equal(t, 2*g+(-3)*z[i]+0.5, y[i])
		}
		ReLURow(y, x)
		for i := range x {
			require.Equal(t, max(x[i], 0), y[i])
		}
		ReLUGradRow(y, x, dy)
		for i := range x {
			want := float32(0)
			if x[i] > 0 {
				want = dy[i]
			}
			require.Equal(t, want, y[i])
		}
	}
	// Signed zeros and NaN: ReLU gives +0 for ±0 and keeps NaN, in the
	// 16-float blocks and in the tail.
	nan := float32(math.NaN())
	var in []float32
	for range 7 {
		in = append(in, float32(math.Copysign(0, -1)), 0, nan, -1, 2)
	}
	out := make([]float32, len(in))
	for name, f := range map[string]func(){
		"ReLURow":   func() { ReLURow(out, in) },
		"AffineRow": func() { AffineRow(out, in, 1, 0, ActReLU) },
	} {
		f()
		for i := 0; i < len(in); i += 5 {
			assert.Equal(t, uint32(0), math.Float32bits(out[i]), "%s[%d] of -0", name, i)
			assert.Equal(t, uint32(0), math.Float32bits(out[i+1]), "%s[%d] of 0", name, i+1)
			assert.True(t, math.IsNaN(float64(out[i+2])), "%s[%d] of NaN", name, i+2)
			assert.Equal(t, []float32{0, 2}, out[i+3:i+5], name)
		}
	}
}

func TestArgmax(t *testing.T) {
	for _, c := range []struct {
		v    []float32
		want int
	}{
		{nil, 0},
		{[]float32{-1}, 0},
		{[]float32{1, 3, 2}, 1},
		{[]float32{5, 5, 1}, 0},        // the first of ties
		{[]float32{-3, -2, -2, -9}, 1}, // negatives
		{[]float32{0, float32(math.Inf(1)), 1}, 1},
	} {
		if got := Argmax(c.v); got != c.want {
			t.Errorf("Argmax(%v) = %d, want %d", c.v, got, c.want)
		}
	}
}
