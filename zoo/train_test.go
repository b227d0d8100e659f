package zoo

import (
	"github.com/fmixzoo/zoo/internal/arena"
	"github.com/fmixzoo/zoo/internal/testutil"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Forward (the Gorgonia eval graph) reproduces PyTorch's logits for every
// fixture, after importing the fixture's state dict.
func TestForwardMatchesPyTorch(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		t.Run(fx.Name, func(t *testing.T) {
			n := importFixture(t, fx, fx.PT)
			x, want := readF32(t, fx.Input), readF32(t, fx.Logits)
			got, err := n.Forward(x, fx.InputShape[0])
			require.NoError(t, err)
			testutil.AssertLogits(t, want, got)
		})
	}
}

func randomBatch(rng *rand.Rand, n *Net, batch int) (x, targets []float32) {
	x = make([]float32, batch*shapeSize(n.InputShape()))
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	k := n.Args().NumClasses
	targets = make([]float32, batch*k)
	for b := 0; b < batch; b++ {
		targets[b*k+rng.IntN(k)] += 0.7
		targets[b*k+rng.IntN(k)] += 0.3
	}
	return x, targets
}

// Every architecture trains: a few SGD steps on one fixed batch lower the loss.
func TestTrainStepLowersLoss(t *testing.T) {
	for _, tc := range smallNets {
		t.Run(tc.arch, func(t *testing.T) {
			n := tc.build(t)
			rng := rand.New(rand.NewPCG(1, 2))
			x, targets := randomBatch(rng, n, 6)
			first, err := n.TrainStep(x, 6, targets)
			require.NoError(t, err)
			require.False(t, math.IsNaN(float64(first)))
			nonZero := 0
			for _, p := range n.Params() {
				for _, g := range p.Grad {
					if g != 0 {
						nonZero++
						break
					}
				}
			}
			assert.Greater(t, nonZero, len(n.Params())/2, "most parameters get a gradient")
			loss := first
			for i := 0; i < 15; i++ {
				for _, p := range n.Params() {
					for j, g := range p.Grad {
						p.Value[j] -= 0.05 * g
					}
				}
				loss, err = n.TrainStep(x, 6, targets)
				require.NoError(t, err)
			}
			assert.Less(t, loss, first, "loss falls on a fixed batch")
			_, err = n.Forward(x, 6)
			require.NoError(t, err)
		})
	}
}

// tinyNet builds small layer graphs that together use every layer kind, so
// that a finite-difference check stays away from the ReLU kinks that make
// deep nets' numeric derivatives meaningless.
func tinyNet(kind string) *Net {
	n := &Net{arch: "tiny-" + kind, args: Args{NumClasses: 3, NC: 2}, byName: map[string]*Param{}}
	b := &builder{n: n}
	x := b.input(2, 6, 6)
	c := 3
	switch kind {
	case "conv-bn-relu":
		x = b.relu(b.bn("bn", b.conv("conv", x, 2, 3, 3, 2, 1, true), 3))
	case "residual":
		a := b.relu(b.conv("conv", x, 2, 3, 3, 1, 1, false))
		x = b.sum(a, b.conv("conv2", a, 3, 3, 3, 1, 1, false))
	case "pools":
		x = b.maxPool(b.conv("conv", x, 2, 3, 3, 1, 1, true), 3, 2, 1)
		x = b.avgPool(x, 2, 2, true)
	case "pad-concat":
		a := b.conv("conv", x, 2, 2, 1, 1, 0, false)
		x = b.padChannels(b.concat(x, a), 5)
		c = 5
	}
	x = b.flatten(b.globalAvgPool(b.bn("bn_final", x, c)))
	b.linear("fc", x, c, 3)
	n.Init(5)
	return n
}

// The analytic gradients of the training graph agree with central
// differences of the loss, for every layer kind.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	for _, kind := range []string{"conv-bn-relu", "residual", "pools", "pad-concat"} {
		t.Run(kind, func(t *testing.T) {
			n := tinyNet(kind)
			rng := rand.New(rand.NewPCG(3, 4))
			x, targets := randomBatch(rng, n, 4)
			_, err := n.TrainStep(x, 4, targets)
			require.NoError(t, err)
			bufs := map[string][]float32{}
			for _, b := range n.Buffers() {
				bufs[b.Name] = append([]float32(nil), b.Value...)
			}
			lossAt := func() float64 {
				l, err := n.TrainStep(x, 4, targets)
				require.NoError(t, err)
				for _, b := range n.Buffers() {
					copy(b.Value, bufs[b.Name])
				}
				return float64(l)
			}
			lossAt()
			grads := map[string][]float32{}
			for _, p := range n.Params() {
				grads[p.Name] = append([]float32(nil), p.Grad...)
			}
			for _, p := range n.Params() {
				for i := range min(len(p.Value), 4) {
					old := p.Value[i]
					const h = 1e-3
					p.Value[i] = old + h
					up := lossAt()
					p.Value[i] = old - h
					down := lossAt()
					p.Value[i] = old
					num := (up - down) / (2 * h)
					assert.InDelta(t, num, float64(grads[p.Name][i]), 3e-4+0.02*math.Abs(num), "%s[%d]", p.Name, i)
				}
			}
		})
	}
}

// A step on a graph that has already run (its recycled buffers holding the
// previous batch's activations and gradients) gives bit-for-bit the loss
// and gradients of the same step on a fresh graph; so does eval mode.
func TestRepeatedStepsMatchFreshGraph(t *testing.T) {
	arena.Poison = true
	t.Cleanup(func() { arena.Poison = false })
	for _, tc := range smallNets {
		if tc.arch == "pyramidnet" {
			continue // ShakeDrop draws new gates every training step, so a used graph's step differs by design
		}
		t.Run(tc.arch, func(t *testing.T) {
			build := func() *Net {
				n := tc.build(t)
				n.Init(11)
				return n
			}
			rng := rand.New(rand.NewPCG(5, 6))
			used, fresh := build(), build()
			x1, t1 := randomBatch(rng, used, 5)
			x2, t2 := randomBatch(rng, used, 5)
			_, err := used.TrainStep(x1, 5, t1)
			require.NoError(t, err)
			_, err = used.Forward(x1, 5)
			require.NoError(t, err)
			_, err = used.Forward(x2, 5)
			require.NoError(t, err)
			want, err := fresh.TrainStep(x2, 5, t2)
			require.NoError(t, err)
			got, err := used.TrainStep(x2, 5, t2)
			require.NoError(t, err)
			assert.Equal(t, want, got, "loss")
			for i, p := range used.Params() {
				require.Equal(t, fresh.Params()[i].Grad, p.Grad, "gradient of %s", p.Name)
			}
		})
	}
}
