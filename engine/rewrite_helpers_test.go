package engine

import (
	"context"
	"math/rand"
	"testing"

	"github.com/fmixzoo/zoo/internal/arena"
	"github.com/fmixzoo/zoo/internal/onnxpb"
	"github.com/stretchr/testify/require"
)

// Helpers of the tests of the plan's rewrites (Concat parts, pools first,
// BatchNormalization inside a pool), which compare a graph the engine
// rewrites with one it cannot.

// imageModel is a model of the nodes with one input x, batch×c×hw×hw
// (the batch dynamic), and float outputs named outs.
func imageModel(c, hw int64, nodes []onnxpb.Node, inits []onnxpb.Tensor, outs ...string) []byte {
	m := &onnxpb.Model{
		Opsets: map[string]int64{"": 13},
		Graph: onnxpb.Graph{
			Nodes: nodes, Initializers: inits,
			Inputs: []onnxpb.ValueInfo{{Name: "x", ElemType: onnxpb.Float, Dims: []int64{-1, c, hw, hw},
				Params: []string{"batch", "", "", ""}}},
		},
	}
	for _, o := range outs {
		m.Graph.Outputs = append(m.Graph.Outputs, onnxpb.ValueInfo{Name: o, ElemType: onnxpb.Float})
	}
	return m.Marshal()
}

// randFloats is a float initializer, uniform in [lo, hi).
func randFloats(rng *rand.Rand, name string, lo, hi float32, dims ...int64) onnxpb.Tensor {
	f := make([]float32, shapeSize(ints(dims)))
	for i := range f {
		f[i] = lo + (hi-lo)*rng.Float32()
	}
	return onnxpb.Tensor{Name: name, Dims: dims, DataType: onnxpb.Float, Floats: f}
}

// bnNodes is a BatchNormalization of in with random statistics for c
// channels, and a Relu after it, giving out.
func bnNodes(rng *rand.Rand, in, out string, c int64) ([]onnxpb.Node, []onnxpb.Tensor) {
	p := func(s string) string { return out + "." + s }
	return []onnxpb.Node{
			node("BatchNormalization", []string{in, p("gamma"), p("beta"), p("mean"), p("var")}, []string{p("bn")}),
			node("Relu", []string{p("bn")}, []string{out})},
		[]onnxpb.Tensor{randFloats(rng, p("gamma"), 0.5, 1.5, c), randFloats(rng, p("beta"), -1, 1, c),
			randFloats(rng, p("mean"), -1, 1, c), randFloats(rng, p("var"), 0.1, 2, c)}
}

// planSteps lists the steps of m's plans, plan after plan.
func planSteps(m *Model) []string {
	var names []string
	for _, p := range m.plans {
		for _, s := range p.steps {
			names = append(names, s.name)
		}
	}
	return names
}

// compareRuns runs m and ref on one input, batch×c×hw×hw, at batches 1
// and 3, twice each (the second on recycled buffers, NaN-poisoned), and
// gives check the first outputs of each.
func compareRuns(t *testing.T, m, ref *Model, c, hw int, check func(want, got Tensor)) {
	arena.Poison = true
	t.Cleanup(func() { arena.Poison = false })
	for _, n := range []int{1, 3} {
		x := Tensor{Shape: []int{n, c, hw, hw}, Data: make([]float32, n*c*hw*hw)}
		for i := range x.Data {
			x.Data[i] = float32(i%11)/5 - 1
		}
		for range 2 {
			got, err := m.Run(context.Background(), x)
			require.NoError(t, err)
			want, err := ref.Run(context.Background(), x)
			require.NoError(t, err)
			check(want[0], got[0])
		}
	}
}

// poolAttrs are an AveragePool's window and strides, and more.
func poolAttrs(kh, kw, sh, sw int64, more ...onnxpb.Attr) []onnxpb.Attr {
	return append([]onnxpb.Attr{onnxpb.IntsAttr("kernel_shape", kh, kw), onnxpb.IntsAttr("strides", sh, sw)}, more...)
}
