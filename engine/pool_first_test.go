package engine

import (
	"context"
	"math/rand"
	"testing"

	"github.com/fmixzoo/zoo/internal/arena"
	"github.com/fmixzoo/zoo/internal/onnxpb"
	"github.com/stretchr/testify/require"
)

// transitionModel is a DenseNet transition on N×6×5×5 as PyTorch exports
// it: a 1×1 Conv with bias (Relu after it when relu), a Pad of zeros and
// an AveragePool with attributes pool, giving y. convOut also makes the
// Conv's output a graph output.
func transitionModel(rng *rand.Rand, relu, convOut bool, pool ...onnxpb.Attr) []byte {
	randT := func(name string, dims ...int64) onnxpb.Tensor {
		f := make([]float32, shapeSize(ints(dims)))
		for i := range f {
			f[i] = 2*rng.Float32() - 1
		}
		return onnxpb.Tensor{Name: name, Dims: dims, DataType: onnxpb.Float, Floats: f}
	}
	nodes := []onnxpb.Node{node("Conv", []string{"x", "w", "b"}, []string{"c"})}
	padIn := "c"
	if relu {
		nodes = append(nodes, node("Relu", []string{"c"}, []string{"r"}))
		padIn = "r"
	}
	nodes = append(nodes, node("Pad", []string{padIn, "pads"}, []string{"p"}),
		node("AveragePool", []string{"p"}, []string{"y"}, pool...))
	outs := []onnxpb.ValueInfo{{Name: "y", ElemType: onnxpb.Float}}
	if convOut {
		outs = append(outs, onnxpb.ValueInfo{Name: "c", ElemType: onnxpb.Float})
	}
	m := &onnxpb.Model{
		Opsets: map[string]int64{"": 13},
		Graph: onnxpb.Graph{
			Nodes:        nodes,
			Initializers: []onnxpb.Tensor{randT("w", 4, 6, 1, 1), randT("b", 4), i64s("pads", 0, 0, 0, 0, 0, 0, 0, 0)},
			Inputs: []onnxpb.ValueInfo{{Name: "x", ElemType: onnxpb.Float, Dims: []int64{-1, 6, 5, 5},
				Params: []string{"batch", "", "", ""}}},
			Outputs: outs,
		},
	}
	return m.Marshal()
}

// An average pool that alone reads a 1×1 Conv runs before it, on the
// Conv's input, and gives what pooling the Conv's output gives (up to
// rounding); it does not where the Conv's output is read elsewhere, has
// a Relu fused, or where the pool pads or rounds up.
func TestPoolBeforePointwiseConv(t *testing.T) {
	arena.Poison = true
	t.Cleanup(func() { arena.Poison = false })
	k2 := []onnxpb.Attr{onnxpb.IntsAttr("kernel_shape", 2, 2), onnxpb.IntsAttr("strides", 2, 2)}
	k3 := []onnxpb.Attr{onnxpb.IntsAttr("kernel_shape", 3, 3), onnxpb.IntsAttr("strides", 1, 2)}
	for _, tc := range []struct {
		name  string
		relu  bool
		pool  []onnxpb.Attr
		first bool // the pool runs first
	}{
		{"2x2", false, k2, true},
		{"3x3 strides 1,2", false, k3, true},
		{"relu", true, k2, false},
		{"padded", false, append(k2, onnxpb.IntsAttr("pads", 1, 1, 1, 1)), false},
		{"ceil", false, append(k2, onnxpb.IntAttr("ceil_mode", 1)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Read(transitionModel(rand.New(rand.NewSource(2)), tc.relu, false, tc.pool...))
			require.NoError(t, err)
			ref, err := Read(transitionModel(rand.New(rand.NewSource(2)), tc.relu, true, tc.pool...))
			require.NoError(t, err)
			for _, n := range []int{1, 3} {
				x := Tensor{Shape: []int{n, 6, 5, 5}, Data: make([]float32, n*6*25)}
				for i := range x.Data {
					x.Data[i] = float32(i%13)/6 - 1
				}
				got, err := m.Run(context.Background(), x)
				require.NoError(t, err)
				want, err := ref.Run(context.Background(), x)
				require.NoError(t, err)
				require.Equal(t, want[0].Shape, got[0].Shape)
				require.InDeltaSlice(t, want[0].Data, got[0].Data, 1e-5)
			}
			steps := func(m *Model) (names []string) {
				for _, p := range m.plans {
					for _, s := range p.steps {
						names = append(names, s.name)
					}
				}
				return names
			}
			convFirst := []string{"Conv", "AveragePool", "Conv", "AveragePool"} // two batch sizes
			refSteps := convFirst
			if tc.relu { // not fused into the Conv whose output is read
				refSteps = []string{"Conv", "Relu", "AveragePool", "Conv", "Relu", "AveragePool"}
			}
			require.Equal(t, refSteps, steps(ref), "steps where the Conv is a graph output")
			if tc.first {
				require.Equal(t, []string{"AveragePool", "Conv", "AveragePool", "Conv"}, steps(m))
			} else {
				require.Equal(t, convFirst, steps(m))
			}
		})
	}
}
