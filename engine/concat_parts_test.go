package engine

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"testing"

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
	var inits []onnxpb.Tensor
	var nodes []onnxpb.Node
	add := func(n []onnxpb.Node, i []onnxpb.Tensor) {
		nodes, inits = append(nodes, n...), append(inits, i...)
	}
	cat, c := "x", int64(3)
	for i := range 3 {
		l := fmt.Sprintf("l%d", i)
		add(bnNodes(rng, cat, l+".a", c))
		add([]onnxpb.Node{
			node("Conv", []string{l + ".a", l + ".w"}, []string{l + ".c"}, onnxpb.IntsAttr("pads", 1, 1, 1, 1)),
			node("Concat", []string{cat, l + ".c"}, []string{fmt.Sprintf("cat%d", i)}, onnxpb.IntAttr("axis", 1)),
		}, []onnxpb.Tensor{randFloats(rng, l+".w", -1, 1, 2, c, 3, 3)})
		cat, c = fmt.Sprintf("cat%d", i), c+2
		if copies {
			add([]onnxpb.Node{node("Identity", []string{cat}, []string{cat + ".copy"})}, nil)
			cat += ".copy"
		}
	}
	add(bnNodes(rng, cat, "y", c))
	if slices.Contains(extra, "relu") {
		add([]onnxpb.Node{node("Relu", []string{"cat1"}, []string{"relu"})}, nil)
	}
	return imageModel(3, 4, nodes, inits, append([]string{"y"}, extra...)...)
}

// A BatchNormalization of a channel Concat reads the Concat's parts, and
// a Concat nothing else reads is never run: the outputs are those of the
// same graph with every concatenation written out, exactly, at batch 1 and
// 3, whether or not a Concat is also a graph output or read by another
// operation.
func TestConcatReadThroughParts(t *testing.T) {
	for _, tc := range []struct {
		extra   []string
		concats int // Concat steps left in each plan
	}{{nil, 0}, {[]string{"cat1"}, 1}, {[]string{"relu"}, 1}} {
		t.Run(fmt.Sprint(tc.extra), func(t *testing.T) {
			parts, err := Read(denseBlockModel(rand.New(rand.NewSource(1)), false, tc.extra...))
			require.NoError(t, err)
			copies, err := Read(denseBlockModel(rand.New(rand.NewSource(1)), true, tc.extra...))
			require.NoError(t, err)
			compareRuns(t, parts, copies, 3, 4, func(want, got Tensor) { require.Equal(t, want, got) })
			concats := 0
			for _, s := range planSteps(parts) {
				if s == "Concat" {
					concats++
				}
			}
			require.Equal(t, 2*tc.concats, concats, "Concat steps of the plans for batches 1 and 3")
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
	require.Empty(t, planSteps(m))
}
