package engine

import (
	"context"
	"fmt"
	"math/rand"
	"testing"

	"github.com/fmixzoo/zoo/internal/arena"
	"github.com/fmixzoo/zoo/internal/onnxpb"
	"github.com/stretchr/testify/require"
)

// denseBlockModel is a small DenseNet block on N×3×4×4: each of three
// layers is BatchNormalization, Relu and a 3×3 Conv of 2 channels whose
// output is concatenated onto the growing map, which a last
// BatchNormalization and Relu give as y. copies puts an Identity after
// every Concat, which makes the engine write each concatenation out;
// extra names further graph outputs ("cat1", the second layer's map, or
// "relu", a Relu of it beside the BatchNormalization).
func denseBlockModel(rng *rand.Rand, copies bool, extra ...string) []byte {
	randT := func(name string, lo, hi float32, dims ...int64) onnxpb.Tensor {
		f := make([]float32, shapeSize(ints(dims)))
		for i := range f {
			f[i] = lo + (hi-lo)*rng.Float32()
		}
		return onnxpb.Tensor{Name: name, Dims: dims, DataType: onnxpb.Float, Floats: f}
	}
	var inits []onnxpb.Tensor
	var nodes []onnxpb.Node
	bnRelu := func(in, out string, c int64) {
		p := func(s string) string { return out + "." + s }
		inits = append(inits, randT(p("gamma"), 0.5, 1.5, c), randT(p("beta"), -1, 1, c),
			randT(p("mean"), -1, 1, c), randT(p("var"), 0.1, 2, c))
		nodes = append(nodes,
			node("BatchNormalization", []string{in, p("gamma"), p("beta"), p("mean"), p("var")}, []string{p("bn")}),
			node("Relu", []string{p("bn")}, []string{out}))
	}
	cat, c := "x", int64(3)
	for i := range 3 {
		l := fmt.Sprintf("l%d", i)
		bnRelu(cat, l+".a", c)
		inits = append(inits, randT(l+".w", -1, 1, 2, c, 3, 3))
		nodes = append(nodes,
			node("Conv", []string{l + ".a", l + ".w"}, []string{l + ".c"}, onnxpb.IntsAttr("pads", 1, 1, 1, 1)),
			node("Concat", []string{cat, l + ".c"}, []string{fmt.Sprintf("cat%d", i)}, onnxpb.IntAttr("axis", 1)))
		cat, c = fmt.Sprintf("cat%d", i), c+2
		if copies {
			nodes = append(nodes, node("Identity", []string{cat}, []string{cat + ".copy"}))
			cat += ".copy"
		}
	}
	bnRelu(cat, "y", c)
	vi := func(name string, c int64) onnxpb.ValueInfo {
		return onnxpb.ValueInfo{Name: name, ElemType: onnxpb.Float, Dims: []int64{-1, c, 4, 4}, Params: []string{"batch", "", "", ""}}
	}
	outs := []onnxpb.ValueInfo{vi("y", c)}
	for _, e := range extra {
		if e == "relu" {
			nodes = append(nodes, node("Relu", []string{"cat1"}, []string{"relu"}))
		}
		outs = append(outs, vi(e, 7))
	}
	m := &onnxpb.Model{
		Opsets: map[string]int64{"": 13},
		Graph: onnxpb.Graph{
			Nodes: nodes, Initializers: inits,
			Inputs: []onnxpb.ValueInfo{vi("x", 3)}, Outputs: outs,
		},
	}
	return m.Marshal()
}

// A BatchNormalization of a channel Concat reads the Concat's parts, and
// a Concat nothing else reads is never run: the outputs are those of the
// same graph with every concatenation written out, exactly, at batch 1 and
// 3, whether or not a Concat is also a graph output or read by another
// operation.
func TestConcatReadThroughParts(t *testing.T) {
	arena.Poison = true
	t.Cleanup(func() { arena.Poison = false })
	for _, tc := range []struct {
		extra   []string
		concats int // Concat steps left in the plan
	}{{nil, 0}, {[]string{"cat1"}, 1}, {[]string{"relu"}, 1}} {
		t.Run(fmt.Sprint(tc.extra), func(t *testing.T) {
			parts, err := Read(denseBlockModel(rand.New(rand.NewSource(1)), false, tc.extra...))
			require.NoError(t, err)
			copies, err := Read(denseBlockModel(rand.New(rand.NewSource(1)), true, tc.extra...))
			require.NoError(t, err)
			for _, n := range []int{1, 3} {
				x := Tensor{Shape: []int{n, 3, 4, 4}, Data: make([]float32, n*3*16)}
				for i := range x.Data {
					x.Data[i] = float32(i%11)/5 - 1
				}
				for range 2 { // the second run on recycled buffers
					got, err := parts.Run(context.Background(), x)
					require.NoError(t, err)
					want, err := copies.Run(context.Background(), x)
					require.NoError(t, err)
					require.Equal(t, want, got)
				}
			}
			for _, p := range parts.plans {
				count := 0
				for _, s := range p.steps {
					if s.name == "Concat" {
						count++
					}
				}
				require.Equal(t, tc.concats, count, "Concat steps")
			}
		})
	}
}

// A Pad of zeros everywhere (PyTorch's export of avg_pool2d) is its input:
// no step copies it.
func TestPadOfZerosIsItsInput(t *testing.T) {
	m, err := Read(graphModel(13, []onnxpb.Tensor{i64s("p", 0, 0, 0, 0)}, node("Pad", []string{"x", "p"}, []string{"y"})))
	require.NoError(t, err)
	x := Tensor{Shape: []int{1, 4}, Data: []float32{1, -2, 3, -4}}
	out, err := m.Run(context.Background(), x)
	require.NoError(t, err)
	require.Equal(t, []Tensor{x}, out)
	for _, p := range m.plans {
		require.Empty(t, p.steps)
	}
}
