package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refPool computes pooling the slow way: every tap of every window checked
// against the input and the padded input, in float64.
func refPool(p PoolParams, x []float32, isMax bool) []float32 {
	oh, ow := p.OutHW()
	q := p.norm()
	y := make([]float32, p.N*p.C*oh*ow)
	for nc := 0; nc < p.N*p.C; nc++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				best, sum, cnt, padded := math.Inf(-1), 0.0, 0, 0
				for r := 0; r < p.R; r++ {
					for s := 0; s < p.S; s++ {
						iy, ix := oy*q.StrideH-p.PadT+r*q.DilH, ox*q.StrideW-p.PadL+s*q.DilW
						if iy < p.H+p.PadB && ix < p.W+p.PadR {
							padded++
						}
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
					cnt = padded
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
		// ceil mode: the last window reaches past the padding, which then
		// counts only as far as it goes
		{N: 1, C: 2, H: 6, W: 6, R: 3, S: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Ceil: true, CountIncludePad: true},
		{N: 1, C: 1, H: 7, W: 5, R: 2, S: 3, StrideH: 2, StrideW: 2, DilH: 3, DilW: 2, PadT: 2, PadB: 1, Ceil: true},
		{N: 1, C: 1, H: 1, W: 1, R: 1, S: 1, PadB: 3, PadR: 2}, // windows wholly in the padding
		{N: 1, C: 2, H: 3, W: 3, R: 2, S: 2, PadT: 2, PadL: 3, PadB: 3, PadR: 3},
	}
	for len(cases) < 40 {
		p := PoolParams{N: 1 + rng.IntN(2), C: 1 + rng.IntN(3), H: 1 + rng.IntN(9), W: 1 + rng.IntN(9),
			R: 1 + rng.IntN(3), S: 1 + rng.IntN(3), StrideH: 1 + rng.IntN(3), StrideW: 1 + rng.IntN(3),
			DilH: 1 + rng.IntN(2), DilW: 1 + rng.IntN(2), Ceil: rng.IntN(2) == 0, CountIncludePad: rng.IntN(2) == 0}
		p.PadT, p.PadB = rng.IntN(p.R), rng.IntN(p.R)
		p.PadL, p.PadR = rng.IntN(p.S), rng.IntN(p.S)
		if oh, ow := p.OutHW(); oh < 1 || ow < 1 {
			continue
		}
		cases = append(cases, p)
	}
	return cases
}

func TestPoolOutHW(t *testing.T) {
	for _, tc := range []struct {
		p      PoolParams
		oh, ow int
	}{
		{PoolParams{H: 112, W: 112, R: 3, S: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1}, 56, 56},
		{PoolParams{H: 5, W: 6, R: 2, S: 2, StrideH: 2, StrideW: 2, Ceil: true}, 3, 3},
		// ceil mode drops a last window that would start in the bottom padding
		{PoolParams{H: 5, W: 5, R: 2, S: 2, StrideH: 2, StrideW: 2, PadT: 1, PadB: 1, PadL: 1, PadR: 1, Ceil: true}, 3, 3},
		{PoolParams{H: 7, W: 7, R: 3, S: 3, DilH: 3, DilW: 2}, 1, 3},
		{PoolParams{H: 2, W: 2, R: 3, S: 3}, 0, 0},
	} {
		oh, ow := tc.p.OutHW()
		assert.Equal(t, [2]int{tc.oh, tc.ow}, [2]int{oh, ow}, "%+v", tc.p)
	}
}

func TestPoolingMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, p := range poolCases(rng) {
		t.Run(fmt.Sprintf("%+v", p), func(t *testing.T) {
			oh, ow := p.OutHW()
			x := randSlice(rng, p.N*p.C*p.H*p.W)
			y := make([]float32, p.N*p.C*oh*ow)
			arg := make([]int32, len(y))
			MaxPool2D(p, x, y, arg)
			assert.Equal(t, refPool(p, x, true), y, "max")
			y2 := randSlice(rng, len(y))
			MaxPool2D(p, x, y2, nil) // maxPoolRows, where it applies
			assert.Equal(t, y, y2, "max without arg")
			for o, at := range arg {
				if at >= 0 {
					assert.Equal(t, y[o], x[o/(oh*ow)*p.H*p.W+int(at)], "arg %d", o)
				} else {
					assert.True(t, math.IsInf(float64(y[o]), -1), "a window without taps is -Inf")
				}
			}
			AvgPool2D(p, x, y)
			requireClose(t, refPool(p, x, false), y, p.R*p.S, "avg")

			// Backward passes are the adjoints of the forward passes (max
			// pooling is linear once the winning taps are fixed).
			dy := randSlice(rng, len(y))
			dx := randSlice(rng, len(x))
			AvgPool2DBackward(p, dy, dx)
			AvgPool2D(p, x, y)
			assert.InDelta(t, dot64(y, dy), dot64(x, dx), 1e-4*float64(len(x)+1))
			MaxPool2D(p, x, y, arg)
			MaxPool2DBackward(p, dy, arg, dx)
			for i, v := range y {
				if math.IsInf(float64(v), -1) {
					y[i] = 0 // a window without taps passes no gradient
				}
			}
			assert.InDelta(t, dot64(y, dy), dot64(x, dx), 1e-4*float64(len(x)+1))
		})
	}
}

func TestMaxPoolNaNAndTies(t *testing.T) {
	p := PoolParams{N: 1, C: 1, H: 1, W: 4, R: 1, S: 2, StrideW: 2}
	x := []float32{3, 3, 1, float32(math.NaN())}
	y, arg := make([]float32, 2), make([]int32, 2)
	MaxPool2D(p, x, y, arg)
	assert.Equal(t, float32(3), y[0])
	assert.Equal(t, int32(0), arg[0], "the first of equal maxima takes the gradient")
	assert.True(t, math.IsNaN(float64(y[1])), "NaN propagates")
	// The same down a window's rows (maxPoolRows): NaN in the first row
	// of one window, the second of another, and −0 against +0.
	nz := float32(math.Copysign(0, -1))
	p = PoolParams{N: 1, C: 1, H: 2, W: 4, R: 2, S: 2, StrideH: 2, StrideW: 2}
	x = []float32{float32(math.NaN()), 1, nz, 5, 2, 3, 0, -1}
	y = make([]float32, 2)
	MaxPool2D(p, x, y, nil)
	assert.True(t, math.IsNaN(float64(y[0])), "NaN propagates")
	assert.Equal(t, float32(5), y[1])
	x = []float32{1, 2, nz, nz, 3, float32(math.NaN()), 0, nz}
	MaxPool2D(p, x, y, nil)
	assert.True(t, math.IsNaN(float64(y[0])), "NaN propagates")
	assert.False(t, math.Signbit(float64(y[1])), "+0 is above −0")
}

func TestGlobalPools(t *testing.T) {
	x := []float32{1, 2, 3, 4, -1, -5, 0, 2}
	y, dx := make([]float32, 2), make([]float32, len(x))
	GlobalAvgPool(2, 4, x, y)
	assert.Equal(t, []float32{2.5, -1}, y)
	GlobalMaxPool(2, 4, x, y)
	assert.Equal(t, []float32{4, 2}, y)
	GlobalAvgPoolBackward(2, 4, []float32{4, -8}, dx)
	assert.Equal(t, []float32{1, 1, 1, 1, -2, -2, -2, -2}, dx)
	GlobalAvgPool(1, 0, nil, y)
	assert.True(t, math.IsNaN(float64(y[0])), "the mean of nothing")
	GlobalMaxPool(1, 0, nil, y)
	assert.True(t, math.IsInf(float64(y[0]), -1), "the max of nothing")
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
	for _, sh := range [][3]int{{2, 3, 5}, {1, 2, 9}, {4, 1, 1}, {2, 2, 40}} {
		for _, act := range []Activation{ActNone, ActReLU} {
			n, c, hw := sh[0], sh[1], sh[2]
			t.Run(fmt.Sprint(sh, act), func(t *testing.T) {
				x, r := randSlice(rng, n*c*hw), randSlice(rng, n*c*hw)
				gamma, beta := randSlice(rng, c), randSlice(rng, c)
				y := make([]float32, len(x))
				bn := &BatchNormTrain{N: n, C: c, HW: hw, Eps: 1e-3, Momentum: 0.1, Act: act,
					RunMean: make([]float32, c), RunVar: make([]float32, c), XHat: make([]float32, len(x)), InvStd: make([]float32, c)}
				loss := func() float64 { // L = Σ r·y
					bn.Forward(x, gamma, beta, y)
					return dot64(y, r)
				}
				loss()
				for ch := 0; ch < c; ch++ {
					var s, ss float64
					for b := 0; b < n; b++ {
						for _, v := range x[(b*c+ch)*hw : (b*c+ch+1)*hw] {
							s += float64(v)
							ss += float64(v) * float64(v)
						}
					}
					m := float64(n * hw)
					mean, vr := s/m, ss/m-(s/m)*(s/m)
					assert.InDelta(t, 0.1*mean, float64(bn.RunMean[ch]), 1e-6, "running mean")
					assert.InDelta(t, 0.1*vr*m/(m-1), float64(bn.RunVar[ch]), 1e-5, "running variance, unbiased")
					assert.InDelta(t, 1/math.Sqrt(vr+1e-3), float64(bn.InvStd[ch]), 1e-4)
					if act == ActNone {
						// The output has mean beta per channel.
						var sy float64
						for b := 0; b < n; b++ {
							for _, v := range y[(b*c+ch)*hw : (b*c+ch+1)*hw] {
								sy += float64(v)
							}
						}
						assert.InDelta(t, float64(beta[ch]), sy/m, 1e-5)
					}
				}
				dx, dg, db := make([]float32, len(x)), make([]float32, c), make([]float32, c)
				bn.Backward(y, r, gamma, dx, dg, db)
				requireGrad(t, numGrad(x, loss), dx, "dx")
				requireGrad(t, numGrad(gamma, loss), dg, "dgamma")
				requireGrad(t, numGrad(beta, loss), db, "dbeta")
			})
		}
	}
}

func TestScaleShiftIsBatchNormInference(t *testing.T) {
	gamma, beta := []float32{2, -1}, []float32{0.5, 3}
	mean, vr := []float32{1, -2}, []float32{4, 0.25}
	scale, shift := make([]float32, 2), make([]float32, 2)
	BatchNormFold(gamma, beta, mean, vr, 0, scale, shift)
	assert.Equal(t, []float32{1, -2}, scale)
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

// TestMaxPoolRowsSpecialValues compares max pooling without arg (the
// row-wise and AVX-512 forms) with the per-window form bit for bit on
// inputs full of NaNs, ±0 and ±Inf, for the 3×3 stride-2 window and
// others.
func TestMaxPoolRowsSpecialValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	special := []float32{float32(math.NaN()), 0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), 1, -1}
	for _, p := range []PoolParams{
		{N: 1, C: 3, H: 9, W: 37, R: 3, S: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 2, C: 2, H: 8, W: 66, R: 3, S: 3, StrideH: 2, StrideW: 2, PadL: 2, PadR: 2},
		{N: 1, C: 2, H: 6, W: 40, R: 2, S: 3, StrideH: 1, StrideW: 2},
		{N: 1, C: 2, H: 5, W: 19, R: 3, S: 2, StrideH: 2, StrideW: 1, PadT: 1, PadL: 1},
	} {
		oh, ow := p.OutHW()
		x := randSlice(rng, p.N*p.C*p.H*p.W)
		for i := range x {
			if rng.IntN(3) == 0 {
				x[i] = special[rng.IntN(len(special))]
			}
		}
		want, got := make([]float32, p.N*p.C*oh*ow), make([]float32, p.N*p.C*oh*ow)
		MaxPool2D(p, x, want, make([]int32, len(want)))
		MaxPool2D(p, x, got, nil)
		for i := range want {
			require.Equal(t, math.Float32bits(want[i]) == math.Float32bits(got[i]) || (want[i] != want[i] && got[i] != got[i]), true,
				"%+v: output %d: want %v, got %v", p, i, want[i], got[i])
		}
	}
}
