package engine

import (
	"math/rand"
	"testing"

	"github.com/fmixzoo/zoo/internal/onnxpb"
	"github.com/stretchr/testify/require"
)

// transitionModel is a DenseNet transition on N×6×5×5 as PyTorch exports
// it: a 1×1 Conv with bias (Relu after it when relu), a Pad of zeros and
// an AveragePool with attributes pool, giving y. convOut also makes the
// Conv's output a graph output.
func transitionModel(rng *rand.Rand, relu, convOut bool, pool []onnxpb.Attr) []byte {
	nodes := []onnxpb.Node{node("Conv", []string{"x", "w", "b"}, []string{"c"})}
	padIn := "c"
	if relu {
		nodes = append(nodes, node("Relu", []string{"c"}, []string{"r"}))
		padIn = "r"
	}
	nodes = append(nodes, node("Pad", []string{padIn, "pads"}, []string{"p"}),
		node("AveragePool", []string{"p"}, []string{"y"}, pool...))
	outs := []string{"y"}
	if convOut {
		outs = append(outs, "c")
	}
	inits := []onnxpb.Tensor{randFloats(rng, "w", -1, 1, 4, 6, 1, 1), randFloats(rng, "b", -1, 1, 4),
		i64s("pads", 0, 0, 0, 0, 0, 0, 0, 0)}
	return imageModel(6, 5, nodes, inits, outs...)
}

// An average pool that alone reads a 1×1 Conv runs before it, on the
// Conv's input, and gives what pooling the Conv's output gives (up to
// rounding); it does not where the Conv's output is read elsewhere, has
// a Relu fused, or where the pool pads or rounds up.
func TestPoolBeforePointwiseConv(t *testing.T) {
	k2 := poolAttrs(2, 2, 2, 2)
	for _, tc := range []struct {
		name  string
		relu  bool
		pool  []onnxpb.Attr
		first bool // the pool runs first
	}{
		{"2x2", false, k2, true},
		{"3x3 strides 1,2", false, poolAttrs(3, 3, 1, 2), true},
		{"relu", true, k2, false},
		{"padded", false, poolAttrs(2, 2, 2, 2, onnxpb.IntsAttr("pads", 1, 1, 1, 1)), false},
		{"ceil", false, poolAttrs(2, 2, 2, 2, onnxpb.IntAttr("ceil_mode", 1)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Read(transitionModel(rand.New(rand.NewSource(2)), tc.relu, false, tc.pool))
			require.NoError(t, err)
			ref, err := Read(transitionModel(rand.New(rand.NewSource(2)), tc.relu, true, tc.pool))
			require.NoError(t, err)
			compareRuns(t, m, ref, 6, 5, func(want, got Tensor) {
				require.Equal(t, want.Shape, got.Shape)
				require.InDeltaSlice(t, want.Data, got.Data, 1e-5)
			})
			convFirst := []string{"Conv", "AveragePool", "Conv", "AveragePool"} // plans for two batches
			refSteps := convFirst
			if tc.relu { // not fused into the Conv whose output is read
				refSteps = []string{"Conv", "Relu", "AveragePool", "Conv", "Relu", "AveragePool"}
			}
			require.Equal(t, refSteps, planSteps(ref), "steps where the Conv is a graph output")
			if tc.first {
				require.Equal(t, []string{"AveragePool", "Conv", "AveragePool", "Conv"}, planSteps(m))
			} else {
				require.Equal(t, convFirst, planSteps(m))
			}
		})
	}
}
