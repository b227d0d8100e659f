package zoo

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
	"github.com/fmixzoo/zoo/kernels"
)

// randomizeBN gives BatchNorm non-trivial statistics and affine parameters,
// so that eval mode is not close to the identity.
func randomizeBN(n *Net, rng *rand.Rand) {
	for _, l := range n.layers {
		if l.Kind != BatchNorm {
			continue
		}
		for i := 0; i < l.InC; i++ {
			n.byName[l.Name+".weight"].Value[i] = float32(0.5 + rng.Float64())
			n.byName[l.Name+".bias"].Value[i] = float32(0.2 * rng.NormFloat64())
			n.byName[l.Name+".running_mean"].Value[i] = float32(0.2 * rng.NormFloat64())
			n.byName[l.Name+".running_var"].Value[i] = float32(0.5 + rng.Float64())
		}
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// objective recomputes GradOptions' objective from Forward's logits.
func objective(logits []float32, classes int, o GradOptions) float64 {
	var sum float64
	for b := 0; b < len(logits)/classes; b++ {
		row := logits[b*classes : (b+1)*classes]
		switch {
		case o.CrossEntropy:
			mx := math.Inf(-1)
			for _, v := range row {
				mx = math.Max(mx, float64(v))
			}
			var se float64
			for _, v := range row {
				se += math.Exp(float64(v) - mx)
			}
			sum += mx + math.Log(se) - float64(row[o.Classes[b]])
		case o.Classes != nil:
			sum += float64(row[o.Classes[b]])
		default:
			for c, v := range row {
				sum += float64(o.Seed[b*classes+c]) * float64(v)
			}
		}
	}
	return sum
}

// The input gradient agrees with central differences of Forward for every
// objective, and Gradients' logits are Forward's. (TestGradCAMMatchesPyTorch
// checks the class score's gradient exactly against autograd for every
// architecture; here the objectives, on the architectures whose random
// initialisations keep logits small enough for float32 differences.)
func TestGradientsInputMatchesFiniteDifferences(t *testing.T) {
	for _, tc := range smallNets {
		switch tc.arch {
		case "lenet", "pyramidnet", "wrn", "densenet_bc":
		default:
			continue
		}
		t.Run(tc.arch, func(t *testing.T) {
			n := tc.build(t)
			rng := rand.New(rand.NewPCG(7, uint64(len(tc.arch))))
			randomizeBN(n, rng)
			const batch = 2
			classes := n.args.NumClasses
			x := randSlice(rng, batch*shapeSize(n.input))
			want, err := n.Forward(x, batch)
			require.NoError(t, err)
			seed := randSlice(rng, batch*classes)
			for _, o := range []GradOptions{
				{Classes: []int{3, 7}, Input: true},
				{Classes: []int{1, 0}, CrossEntropy: true, Input: true},
				{Top1: true, CrossEntropy: true, Input: true},
				{Seed: seed, Input: true, Layer: n.CAMLayer()},
			} {
				g, err := n.Gradients(x, batch, o)
				require.NoError(t, err)
				testutil.AssertLogits(t, want, g.Logits)
				if o.Top1 {
					require.Equal(t, []int{kernels.Argmax(want[:classes]), kernels.Argmax(want[classes:])}, g.Classes)
					o.Classes = g.Classes // the objective at x, for the differences
				}
				require.Len(t, g.Input, len(x))
				// Central differences along single coordinates (steps of
				// 1e-2: float32 logits reach ~100 in the deeper random
				// nets). A step may cross a ReLU or max-pool kink, where
				// the difference is not the derivative: 4 of 5 must agree.
				const h, trials = 1e-2, 5
				agree := 0
				for trial := 0; trial < trials; trial++ {
					j := rng.IntN(len(x))
					xp := append([]float32(nil), x...)
					xp[j] += h
					lp, err := n.Forward(xp, batch)
					require.NoError(t, err)
					xp[j] -= 2 * h
					lm, err := n.Forward(xp, batch)
					require.NoError(t, err)
					numeric := (objective(lp, classes, o) - objective(lm, classes, o)) / (2 * h)
					if math.Abs(numeric-float64(g.Input[j])) <= 0.02*math.Max(0.05, math.Abs(numeric)) {
						agree++
					} else {
						t.Logf("%+v: coordinate %d: numeric %g, analytic %g", o, j, numeric, g.Input[j])
					}
				}
				assert.GreaterOrEqual(t, agree, trials-1, "%+v", o)
			}
		})
	}
}

// Gradients at each architecture's CAMLayer: the activation and its
// gradient have the layer's shape, the class score depends on the layer,
// and an unknown name is an ErrUnknownLayer that lists the stages.
func TestGradientsLayer(t *testing.T) {
	for _, tc := range smallNets {
		t.Run(tc.arch, func(t *testing.T) {
			n := tc.build(t)
			names := n.LayerNames()
			require.Contains(t, names, n.CAMLayer())
			rng := rand.New(rand.NewPCG(9, 1))
			randomizeBN(n, rng)
			x := randSlice(rng, shapeSize(n.input))
			g, err := n.Gradients(x, 1, GradOptions{Classes: []int{2}, Layer: n.CAMLayer()})
			require.NoError(t, err)
			assert.Nil(t, g.Input)
			require.Len(t, g.ActShape, 4)
			assert.Equal(t, 1, g.ActShape[0])
			assert.Len(t, g.Act, shapeSize(g.ActShape))
			assert.Len(t, g.ActGrad, len(g.Act))
			var nonzero int
			for _, v := range g.ActGrad {
				if v != 0 {
					nonzero++
				}
			}
			assert.Positive(t, nonzero, "the class score depends on %s", n.CAMLayer())

			_, err = n.Gradients(x, 1, GradOptions{Classes: []int{2}, Layer: "nope"})
			require.ErrorIs(t, err, ErrUnknownLayer)
			assert.Contains(t, err.Error(), n.CAMLayer())
		})
	}
}

// A layer's activation gradient, checked by perturbing the activation
// itself: for a conv layer with a bias (lenet's conv2), adding h·d to the
// bias of channel k adds h to every pixel of channel k of its output, so
// the objective moves by h·Σ_pixels ∂/∂A_k.
func TestGradientsLayerMatchesBiasPerturbation(t *testing.T) {
	n, err := Build("lenet", Args{Width: 4})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(3, 3))
	const batch = 2
	x := randSlice(rng, batch*shapeSize(n.input))
	o := GradOptions{Classes: []int{4, 5}, Layer: "conv2"}
	g, err := n.Gradients(x, batch, o)
	require.NoError(t, err)
	require.Equal(t, []int{batch, 8, 8, 8}, g.ActShape)
	bias, _ := n.Param("conv2.bias")
	for k := 0; k < 8; k++ {
		var analytic float64
		for b := 0; b < batch; b++ {
			for _, v := range g.ActGrad[(b*8+k)*64 : (b*8+k+1)*64] {
				analytic += float64(v)
			}
		}
		const h = 1e-2
		old := bias.Value[k]
		bias.Value[k] = old + h
		lp, err := n.Forward(x, batch)
		require.NoError(t, err)
		bias.Value[k] = old - h
		lm, err := n.Forward(x, batch)
		require.NoError(t, err)
		bias.Value[k] = old
		numeric := (objective(lp, 10, o) - objective(lm, 10, o)) / (2 * h)
		assert.InDelta(t, numeric, analytic, 0.02*math.Max(1, math.Abs(numeric)), "channel %d", k)
	}
}

func TestGradientsErrors(t *testing.T) {
	n, err := Build("lenet", Args{Width: 2})
	require.NoError(t, err)
	x := make([]float32, 2*28*28)
	for _, tc := range []struct {
		name string
		o    GradOptions
		want string
	}{
		{"class out of range", GradOptions{Classes: []int{0, 10}, Input: true}, "outside"},
		{"negative class", GradOptions{Classes: []int{-1, 0}, Input: true}, "outside"},
		{"classes for another batch", GradOptions{Classes: []int{0}, Input: true}, "classes for a batch"},
		{"cross-entropy without classes", GradOptions{CrossEntropy: true, Input: true}, "needs Classes or Top1"},
		{"short seed", GradOptions{Seed: make([]float32, 3), Input: true}, "seed"},
		{"nothing asked", GradOptions{Classes: []int{0, 0}}, "nothing to differentiate"},
		{"no objective", GradOptions{Input: true}, "no objective"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := n.Gradients(x, 2, tc.o)
			require.ErrorIs(t, err, ErrInput)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err = n.Gradients(x[:10], 2, GradOptions{Classes: []int{0, 0}, Input: true})
	require.ErrorIs(t, err, ErrInput)
}

// Gradients leaves the training state alone: no parameter gradient and no
// BatchNorm statistic changes.
func TestGradientsLeaveParamsAlone(t *testing.T) {
	n, err := Build("preact_resnet18", Args{Width: 2, InputSize: 8})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	randomizeBN(n, rng)
	before := map[string][]float32{}
	for _, p := range append(n.Params(), n.Buffers()...) {
		before[p.Name] = append([]float32(nil), p.Value...)
	}
	_, err = n.Gradients(randSlice(rng, 3*8*8), 1, GradOptions{Classes: []int{1}, Input: true, Layer: "layer3"})
	require.NoError(t, err)
	for _, p := range append(n.Params(), n.Buffers()...) {
		assert.Equal(t, before[p.Name], p.Value, p.Name)
		for _, v := range p.Grad {
			require.Zero(t, v, p.Name)
		}
	}
	assert.True(t, strings.HasPrefix(n.LayerNames()[0], "conv1"))
}
