package engine

import (
	"context"
	"math"
	"math/rand"
	"testing"

	"github.com/fmixzoo/zoo/internal/onnxpb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blockOpts vary pyramidBlockModel.
type blockOpts struct {
	op        string  // "Mul" (default) or "Div": the ShakeDrop scale after conv3
	scale     []int64 // the scale's shape; nil: a scalar Constant node
	fill      float32 // ConstantOfShape's value (0: PyramidNet's zeros)
	relu      bool    // a Relu after the residual Add
	conv1Pads bool    // conv1 is 3×3 with padding, so BN1 cannot fold into it
	sameWidth bool    // conv3 has as many channels as x: the pad is empty
	zeroVar   bool    // BN1's first variance is −ε: its scale is infinite
}

// pyramidBlockModel is PyramidNet's bottleneck as PyTorch exports it, on an
// N×4×5×5 input x: y = k·conv3(relu(conv1(bn1(x)))) + Concat(x, zeros)
// along the channels, the zeros' shape computed from the Shapes of both
// terms. extra names intermediate values as graph outputs too, which stops
// their fusion.
func pyramidBlockModel(rng *rand.Rand, o blockOpts, extra ...string) []byte {
	randT := func(name string, lo, hi float32, dims ...int64) onnxpb.Tensor {
		return randomTensor(rng, name, lo, hi, dims...)
	}
	width := int64(6)
	if o.sameWidth {
		width = 4
	}
	k1 := int64(1)
	conv1Attrs := []onnxpb.Attr(nil)
	if o.conv1Pads {
		k1, conv1Attrs = 3, []onnxpb.Attr{onnxpb.IntsAttr("pads", 1, 1, 1, 1)}
	}
	inits := []onnxpb.Tensor{
		randT("gamma", 0.5, 1.5, 4), randT("beta", -1, 1, 4), randT("mean", -1, 1, 4), randT("var", 0.1, 2, 4),
		randT("w1", -1, 1, 3, 4, k1, k1), randT("b1", -1, 1, 3),
		randT("w3", -1, 1, width, 3, 3, 3), randT("b3", -1, 1, width),
		{Name: "channels", Dims: []int64{4}, DataType: onnxpb.Int64, Int64s: []int64{0, 1, 0, 0}},
	}
	if o.zeroVar {
		inits[3].Floats[0] = -1e-5
	}
	op := o.op
	if op == "" {
		op = "Mul"
	}
	nodes := []onnxpb.Node{
		{OpType: "BatchNormalization", Inputs: []string{"x", "gamma", "beta", "mean", "var"}, Outputs: []string{"bn"}},
		{OpType: "Conv", Inputs: []string{"bn", "w1", "b1"}, Outputs: []string{"c1"}, Attrs: conv1Attrs},
		{OpType: "Relu", Inputs: []string{"c1"}, Outputs: []string{"r1"}},
		{OpType: "Conv", Inputs: []string{"r1", "w3", "b3"}, Outputs: []string{"c3"}, Attrs: []onnxpb.Attr{onnxpb.IntsAttr("pads", 1, 1, 1, 1)}},
	}
	if o.scale == nil {
		k := onnxpb.Tensor{Dims: []int64{}, DataType: onnxpb.Float, Floats: []float32{0.7}}
		nodes = append(nodes, onnxpb.Node{OpType: "Constant", Outputs: []string{"k"}, Attrs: []onnxpb.Attr{onnxpb.TensorAttr("value", &k)}})
	} else {
		inits = append(inits, randT("k", 0.5, 1.5, o.scale...))
	}
	fill := onnxpb.Tensor{Dims: []int64{1}, DataType: onnxpb.Float, Floats: []float32{o.fill}}
	sum := "y"
	if o.relu {
		sum = "s"
	}
	nodes = append(nodes,
		onnxpb.Node{OpType: op, Inputs: []string{"c3", "k"}, Outputs: []string{"m"}},
		onnxpb.Node{OpType: "Shape", Inputs: []string{"m"}, Outputs: []string{"sm"}},
		onnxpb.Node{OpType: "Shape", Inputs: []string{"x"}, Outputs: []string{"sx"}},
		onnxpb.Node{OpType: "Mul", Inputs: []string{"sx", "channels"}, Outputs: []string{"sxc"}},
		onnxpb.Node{OpType: "Sub", Inputs: []string{"sm", "sxc"}, Outputs: []string{"zs"}},
		onnxpb.Node{OpType: "ConstantOfShape", Inputs: []string{"zs"}, Outputs: []string{"z"}, Attrs: []onnxpb.Attr{onnxpb.TensorAttr("value", &fill)}},
		onnxpb.Node{OpType: "Concat", Inputs: []string{"x", "z"}, Outputs: []string{"cat"}, Attrs: []onnxpb.Attr{onnxpb.IntAttr("axis", 1)}},
		onnxpb.Node{OpType: "Add", Inputs: []string{"m", "cat"}, Outputs: []string{sum}},
	)
	if o.relu {
		nodes = append(nodes, onnxpb.Node{OpType: "Relu", Inputs: []string{"s"}, Outputs: []string{"y"}})
	}
	vi := func(name string, c int64) onnxpb.ValueInfo {
		return onnxpb.ValueInfo{Name: name, ElemType: onnxpb.Float, Dims: []int64{-1, c, 5, 5}, Params: []string{"batch", "", "", ""}}
	}
	channels := map[string]int64{"bn": 4, "c1": 3, "c3": width, "m": width, "cat": width, "s": width}
	outs := []onnxpb.ValueInfo{vi("y", width)}
	for _, e := range extra {
		outs = append(outs, vi(e, channels[e]))
	}
	return (&onnxpb.Model{Opsets: map[string]int64{"": 13}, Graph: onnxpb.Graph{
		Nodes: nodes, Initializers: inits, Inputs: []onnxpb.ValueInfo{vi("x", 4)}, Outputs: outs,
	}}).Marshal()
}

// stepNames are the names of the runtime steps of m's plan for x.
func stepNames(t *testing.T, m *Model, x Tensor) []string {
	p, err := m.plan(context.Background(), "steps", []Tensor{x})
	require.NoError(t, err)
	var names []string
	for _, s := range p.steps {
		names = append(names, s.name)
	}
	return names
}

// PyramidNet's block runs as its two Convs alone: BN1 folded into the 1×1
// conv1, the ShakeDrop scale into conv3's weights, and the zero-padded
// shortcut added into conv3's leading channels; the results are those of
// the unfused graph. Where a rewrite does not apply (conv1 padded, a scale
// that broadcasts over space, a pad of ones), the graph keeps that
// operation and still computes the same.
func TestFusePyramidBlock(t *testing.T) {
	conv, bn, add, concat := "Conv", "BatchNormalization", "Add", "Concat"
	for _, tc := range []struct {
		name  string
		o     blockOpts
		steps []string
	}{
		{"pyramidnet", blockOpts{}, []string{conv, conv}},
		{"relu after add", blockOpts{relu: true}, []string{conv, conv}},
		{"same width", blockOpts{sameWidth: true}, []string{conv, conv}},
		{"per-channel scale", blockOpts{scale: []int64{6, 1, 1}}, []string{conv, conv}},
		{"4-D scalar scale", blockOpts{scale: []int64{1, 1, 1, 1}}, []string{conv, conv}},
		{"div", blockOpts{op: "Div"}, []string{conv, conv}},
		{"scale over width", blockOpts{scale: []int64{1, 1, 5}}, []string{conv, conv, "Mul", concat, add}},
		{"pad of ones", blockOpts{fill: 1}, []string{conv, concat, conv}}, // a full residual
		{"padded conv1", blockOpts{conv1Pads: true}, []string{bn, conv, conv}},
		{"infinite BN scale", blockOpts{zeroVar: true}, []string{bn, conv, conv}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fused, err := Read(pyramidBlockModel(rand.New(rand.NewSource(7)), tc.o))
			require.NoError(t, err)
			extra := []string{"bn", "c1", "c3", "m", "cat"}
			if tc.o.relu {
				extra = append(extra, "s")
			}
			plain, err := Read(pyramidBlockModel(rand.New(rand.NewSource(7)), tc.o, extra...))
			require.NoError(t, err)
			rng := rand.New(rand.NewSource(8))
			x := Tensor{Shape: []int{3, 4, 5, 5}, Data: make([]float32, 300)}
			for i := range x.Data {
				x.Data[i] = rng.Float32()*4 - 2
			}
			assert.Equal(t, tc.steps, stepNames(t, fused, x))
			assert.Len(t, stepNames(t, plain, x), 6+len(extra)-4, "graph outputs are never fused away")

			got, err := fused.Run(context.Background(), x)
			require.NoError(t, err)
			want, err := plain.Run(context.Background(), x)
			require.NoError(t, err)
			require.Equal(t, want[0].Shape, got[0].Shape)
			for i, w := range want[0].Data {
				if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
					assert.Equal(t, math.IsNaN(float64(w)), math.IsNaN(float64(got[0].Data[i])), "element %d", i)
					assert.Equal(t, math.IsInf(float64(w), 0), math.IsInf(float64(got[0].Data[i]), 0), "element %d", i)
					continue
				}
				assert.InDelta(t, w, got[0].Data[i], 1e-5*math.Max(1, math.Abs(float64(w))), "element %d", i)
			}
		})
	}
}

// randomTensor is a float initializer of the given shape, uniform in [lo, hi).
func randomTensor(rng *rand.Rand, name string, lo, hi float32, dims ...int64) onnxpb.Tensor {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	t := onnxpb.Tensor{Name: name, Dims: dims, DataType: onnxpb.Float, Floats: make([]float32, n)}
	for i := range t.Floats {
		t.Floats[i] = lo + (hi-lo)*rng.Float32()
	}
	return t
}
