package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refPool computes pooling the slow way: every window tap checked against
// the image bounds.
func refPool(p PoolParams, x []float32, isMax bool) []float32 {
	oh, ow := p.OutHW()
	sh, sw := max(p.StrideH, 1), max(p.StrideW, 1)
	y := make([]float32, p.N*p.C*oh*ow)
	for nc := 0; nc < p.N*p.C; nc++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				best, sum, cnt := math.Inf(-1), 0.0, 0
				for r := 0; r < p.R; r++ {
					for s := 0; s < p.S; s++ {
						iy, ix := oy*sh-p.PadT+r, ox*sw-p.PadL+s
						if iy < 0 || iy >= p.H || ix < 0 || ix >= p.W {
							continue
						}
						v := float64(x[(nc*p.H+iy)*p.W+ix])
						best = math.Max(best, v)
						sum += v
						cnt++
					}
				}
				if p.CountIncludePad {
					cnt = p.R * p.S
				}
				o := (nc*oh+oy)*ow + ox
				if isMax {
					y[o] = float32(best)
				} else {
					y[o] = float32(sum / float64(max(cnt, 1)))
				}
			}
		}
	}
	return y
}

func poolCases(rng *rand.Rand) []PoolParams {
	cases := []PoolParams{
		{N: 1, C: 2, H: 4, W: 4, R: 2, S: 2, StrideH: 2, StrideW: 2},
		{N: 2, C: 3, H: 5, W: 7, R: 3, S: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 1, C: 4, H: 4, W: 4, R: 4, S: 4}, // global average pool of PreAct-ResNet18
		{N: 1, C: 1, H: 6, W: 5, R: 3, S: 2, StrideH: 1, StrideW: 3, PadT: 2, PadR: 1, CountIncludePad: true},
	}
	for len(cases) < 25 {
		p := PoolParams{N: 1 + rng.IntN(2), C: 1 + rng.IntN(3), H: 1 + rng.IntN(9), W: 1 + rng.IntN(9),
			R: 1 + rng.IntN(3), S: 1 + rng.IntN(3), StrideH: 1 + rng.IntN(3), StrideW: 1 + rng.IntN(3),
			CountIncludePad: rng.IntN(2) == 0}
		p.PadT, p.PadB = rng.IntN(p.R), rng.IntN(p.R)
		p.PadL, p.PadR = rng.IntN(p.S), rng.IntN(p.S)
		if oh, ow := p.OutHW(); oh < 1 || ow < 1 {
			continue
		}
		cases = append(cases, p)
	}
	return cases
}

func TestPoolingMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, p := range poolCases(rng) {
		t.Run(fmt.Sprintf("%+v", p), func(t *testing.T) {
			oh, ow := p.OutHW()
			x := randSlice(rng, p.N*p.C*p.H*p.W)
			y := make([]float32, p.N*p.C*oh*ow)
			MaxPool2D(p, x, y)
			assert.Equal(t, refPool(p, x, true), y, "max")
			AvgPool2D(p, x, y)
			requireClose(t, refPool(p, x, false), y, p.R*p.S, "avg")

			// Backward passes are the adjoints of the forward passes (max
			// pooling is linear once the winning taps are fixed).
			dy := randSlice(rng, len(y))
			dx := randSlice(rng, len(x))
			AvgPool2DBackward(p, dy, dx)
			AvgPool2D(p, x, y)
			assert.InDelta(t, dot64(y, dy), dot64(x, dx), 1e-4*float64(len(x)+1))
			MaxPool2DBackward(p, x, dy, dx)
			MaxPool2D(p, x, y)
			assert.InDelta(t, dot64(y, dy), dot64(x, dx), 1e-4*float64(len(x)+1))
		})
	}
}

func dot64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// numGrad returns the central-difference gradient of f at v.
func numGrad(v []float32, f func() float64) []float64 {
	g := make([]float64, len(v))
	const h = 1e-2
	for i := range v {
		old := v[i]
		v[i] = old + h
		up := f()
		v[i] = old - h
		down := f()
		v[i] = old
		g[i] = (up - down) / (2 * h)
	}
	return g
}

func requireGrad(t *testing.T, want []float64, got []float32, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	for i := range want {
		require.InDelta(t, want[i], float64(got[i]), 2e-2*(1+math.Abs(want[i])), "%s[%d]", msg, i)
	}
}

func TestBatchNormTrainGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	for _, sh := range [][3]int{{2, 3, 5}, {1, 2, 9}, {4, 1, 1}} {
		n, c, hw := sh[0], sh[1], sh[2]
		t.Run(fmt.Sprint(sh), func(t *testing.T) {
			x, r := randSlice(rng, n*c*hw), randSlice(rng, n*c*hw)
			gamma, beta := randSlice(rng, c), randSlice(rng, c)
			y := make([]float32, len(x))
			mean, vr, is := make([]float32, c), make([]float32, c), make([]float32, c)
			const eps = 1e-3
			loss := func() float64 { // L = Σ r·y
				BatchNormTrainForward(n, c, hw, x, gamma, beta, eps, y, mean, vr, is)
				return dot64(y, r)
			}
			loss()
			// The output has zero mean and gamma²·var/(var+eps) variance per channel.
			for ch := 0; ch < c; ch++ {
				var s float64
				for b := 0; b < n; b++ {
					for j := 0; j < hw; j++ {
						s += float64(y[(b*c+ch)*hw+j])
					}
				}
				assert.InDelta(t, float64(beta[ch]), s/float64(n*hw), 1e-5)
			}
			dx, dg, db := make([]float32, len(x)), make([]float32, c), make([]float32, c)
			BatchNormTrainBackward(n, c, hw, x, r, gamma, mean, is, dx, dg, db)
			requireGrad(t, numGrad(x, loss), dx, "dx")
			requireGrad(t, numGrad(gamma, loss), dg, "dgamma")
			requireGrad(t, numGrad(beta, loss), db, "dbeta")
		})
	}
}

func TestScaleShiftIsBatchNormInference(t *testing.T) {
	gamma, beta := []float32{2, -1}, []float32{0.5, 3}
	mean, vr := []float32{1, -2}, []float32{4, 0.25}
	scale, shift := make([]float32, 2), make([]float32, 2)
	BatchNormFold(gamma, beta, mean, vr, 0, scale, shift)
	x := []float32{1, 3, -2, 0} // n=1, c=2, hw=2
	y := make([]float32, 4)
	ScaleShift(1, 2, 2, x, scale, shift, y, ActNone)
	assert.InDeltaSlice(t, []float32{0.5, 2.5, 3, -1}, y, 1e-6)
	ScaleShift(1, 2, 2, x, scale, shift, y, ActReLU)
	assert.InDeltaSlice(t, []float32{0.5, 2.5, 3, 0}, y, 1e-6)
}

func TestSoftmaxCrossEntropy(t *testing.T) {
	// One-hot target on uniform logits: log(classes).
	l := SoftmaxCrossEntropy(1, 4, []float32{1, 1, 1, 1}, []float32{0, 0, 1, 0}, nil)
	assert.InDelta(t, math.Log(4), float64(l), 1e-6)
	// Huge logits stay finite.
	l = SoftmaxCrossEntropy(1, 2, []float32{1000, -1000}, []float32{1, 0}, nil)
	assert.InDelta(t, 0, float64(l), 1e-6)

	rng := rand.New(rand.NewPCG(11, 11))
	n, k := 3, 5
	logits := randSlice(rng, n*k)
	targets := make([]float32, n*k)
	for i := 0; i < n; i++ { // mixed labels, as FMix produces
		lam := rng.Float32()
		targets[i*k+rng.IntN(k)] += lam
		targets[i*k+rng.IntN(k)] += 1 - lam
	}
	d := make([]float32, n*k)
	SoftmaxCrossEntropy(n, k, logits, targets, d)
	requireGrad(t, numGrad(logits, func() float64 {
		return float64(SoftmaxCrossEntropy(n, k, logits, targets, nil))
	}), d, "dlogits")
}
