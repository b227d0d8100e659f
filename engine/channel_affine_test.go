package engine

import (
	"math/rand"
	"testing"

	"github.com/fmixzoo/zoo/internal/onnxpb"
	"github.com/stretchr/testify/require"
)

// bnPoolModel is BatchNormalization, Relu and an AveragePool with
// attributes pool on N×6×4×4: of x, or with concat of Concat(x, Neg(x))
// (x then N×3×4×4). bnOut also makes the Relu's output a graph output.
func bnPoolModel(rng *rand.Rand, concat, bnOut bool, pool []onnxpb.Attr) []byte {
	x, c := "x", int64(6)
	var nodes []onnxpb.Node
	if concat {
		x, c = "cat", 3
		nodes = append(nodes, node("Neg", []string{"x"}, []string{"neg"}),
			node("Concat", []string{"x", "neg"}, []string{"cat"}, onnxpb.IntAttr("axis", 1)))
	}
	bn, inits := bnNodes(rng, x, "r", 6)
	nodes = append(append(nodes, bn...), node("AveragePool", []string{"r"}, []string{"y"}, pool...))
	outs := []string{"y"}
	if bnOut {
		outs = append(outs, "r")
	}
	return imageModel(c, 4, nodes, inits, outs...)
}

// An average pool that tiles its input and alone reads a
// BatchNormalization (of a Concat's parts or of one value) maps and pools
// in one step, with exactly the results of the two; a pool that does not
// tile, or whose input is read elsewhere, leaves the BatchNormalization
// to run.
func TestBatchNormInAveragePool(t *testing.T) {
	for _, tc := range []struct {
		name   string
		concat bool
		pool   []onnxpb.Attr
		fused  bool
	}{
		{"2x2", false, poolAttrs(2, 2, 2, 2), true},
		{"concat 2x2", true, poolAttrs(2, 2, 2, 2), true},
		{"concat 2x1", true, poolAttrs(2, 1, 2, 1), true},
		{"3x3 stride 1", false, poolAttrs(3, 3, 1, 1), false},
		{"padded", true, poolAttrs(2, 2, 2, 2, onnxpb.IntsAttr("pads", 1, 1, 1, 1)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Read(bnPoolModel(rand.New(rand.NewSource(3)), tc.concat, false, tc.pool))
			require.NoError(t, err)
			ref, err := Read(bnPoolModel(rand.New(rand.NewSource(3)), tc.concat, true, tc.pool))
			require.NoError(t, err)
			c := 6
			if tc.concat {
				c = 3
			}
			compareRuns(t, m, ref, c, 4, func(want, got Tensor) { require.Equal(t, want, got) })
			names := planSteps(m)
			if tc.fused {
				require.Equal(t, "BatchNormalization+AveragePool", names[len(names)-1])
				require.NotContains(t, names, "BatchNormalization")
				require.NotContains(t, names, "Concat")
			} else {
				require.Equal(t, "AveragePool", names[len(names)-1])
			}
			require.NotContains(t, planSteps(ref), "BatchNormalization+AveragePool")
		})
	}
}
