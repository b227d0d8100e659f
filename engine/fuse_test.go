package engine

import (
	"context"
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/fmixzoo/zoo/internal/onnxpb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// convBNReluModel is Conv → BatchNormalization → Relu on N×4×5×5 with random
// weights and BN statistics; extra names intermediate values ("c" after the
// Conv, "bn" after the BN) as graph outputs too, which must stop the engine
// from fusing them away. A non-nil addShape replaces the BN by an Add of a
// random constant of that shape (CNTK's way of writing a conv bias).
func convBNReluModel(rng *rand.Rand, group int64, bias bool, addShape []int64, extra ...string) []byte {
	randT := func(name string, lo, hi float32, dims ...int64) onnxpb.Tensor {
		return randomTensor(rng, name, lo, hi, dims...)
	}
	convIn := []string{"x", "w"}
	inits := []onnxpb.Tensor{
		randT("w", -1, 1, 6, 4/group, 3, 3),
		randT("gamma", 0.5, 1.5, 6), randT("beta", -1, 1, 6),
		randT("mean", -1, 1, 6), randT("var", 0.1, 2, 6),
	}
	if bias {
		convIn = append(convIn, "b")
		inits = append(inits, randT("b", -1, 1, 6))
	}
	mid := onnxpb.Node{OpType: "BatchNormalization", Inputs: []string{"c", "gamma", "beta", "mean", "var"}, Outputs: []string{"bn"},
		Attrs: []onnxpb.Attr{onnxpb.FloatAttr("epsilon", 1e-3)}}
	if addShape != nil {
		inits = append(inits, randT("k", -1, 1, addShape...))
		mid = onnxpb.Node{OpType: "Add", Inputs: []string{"k", "c"}, Outputs: []string{"bn"}}
	}
	vi := func(name string, c int64, hw int64) onnxpb.ValueInfo {
		return onnxpb.ValueInfo{Name: name, ElemType: onnxpb.Float, Dims: []int64{-1, c, hw, hw}, Params: []string{"batch", "", "", ""}}
	}
	outs := []onnxpb.ValueInfo{vi("y", 6, 5)}
	for _, e := range extra {
		outs = append(outs, vi(e, 6, 5))
	}
	m := &onnxpb.Model{
		Opsets: map[string]int64{"": 13},
		Graph: onnxpb.Graph{
			Nodes: []onnxpb.Node{
				{OpType: "Conv", Inputs: convIn, Outputs: []string{"c"}, Attrs: []onnxpb.Attr{
					onnxpb.IntsAttr("pads", 1, 1, 1, 1), onnxpb.IntAttr("group", group)}},
				mid,
				{OpType: "Relu", Inputs: []string{"bn"}, Outputs: []string{"y"}},
			},
			Initializers: inits,
			Inputs:       []onnxpb.ValueInfo{vi("x", 4, 5)},
			Outputs:      outs,
		},
	}
	return m.Marshal()
}

// Folding BatchNormalization (or a per-channel Add) into Conv and fusing
// the Relu leaves one Conv that computes what the three separate operations
// compute; an Add that broadcasts over space is left alone.
func TestFuseConvBatchNormRelu(t *testing.T) {
	for _, tc := range []struct {
		name     string
		group    int64
		bias     bool
		addShape []int64
		fusedOps int
	}{
		{"bias", 1, true, nil, 1},
		{"no bias", 1, false, nil, 1},
		{"grouped", 2, true, nil, 1},
		{"add per channel", 1, true, []int64{6, 1, 1}, 1},
		{"add per channel 4-D", 1, false, []int64{1, 6, 1, 1}, 1},
		{"add over width", 1, true, []int64{1, 1, 5}, 3}, // not a bias: nothing fuses
	} {
		t.Run(tc.name, func(t *testing.T) {
			fused, err := Read(convBNReluModel(rand.New(rand.NewSource(1)), tc.group, tc.bias, tc.addShape))
			require.NoError(t, err)
			plain, err := Read(convBNReluModel(rand.New(rand.NewSource(1)), tc.group, tc.bias, tc.addShape, "c", "bn"))
			require.NoError(t, err)
			require.Len(t, fused.g.ops, tc.fusedOps)
			assert.Equal(t, tc.fusedOps == 1, fused.g.ops[0].relu)
			require.Len(t, plain.g.ops, 3, "graph outputs are never fused away")

			rng := rand.New(rand.NewSource(2))
			x := Tensor{Shape: []int{2, 4, 5, 5}, Data: make([]float32, 200)}
			for i := range x.Data {
				x.Data[i] = rng.Float32()*2 - 1
			}
			got, err := fused.Run(context.Background(), x)
			require.NoError(t, err)
			want, err := plain.Run(context.Background(), x)
			require.NoError(t, err)
			require.Len(t, want, 3)
			require.Equal(t, want[0].Shape, got[0].Shape)
			negative := 0
			for i, w := range want[0].Data {
				assert.InDelta(t, w, got[0].Data[i], 1e-5*math.Max(1, math.Abs(float64(w))), "element %d", i)
				if want[2].Data[i] < 0 {
					negative++
				}
			}
			assert.Positive(t, negative, "the Relu must have something to clip")
		})
	}
}

// residualModel is y = Relu(Conv(x) + r) with x N×4×5×5 and r a second
// graph input of rShape (broadcast when it is not N×4×5×5).
func residualModel(rng *rand.Rand, rShape []int64, extra ...string) []byte {
	w := onnxpb.Tensor{Name: "w", Dims: []int64{4, 4, 3, 3}, DataType: onnxpb.Float, Floats: make([]float32, 144)}
	for i := range w.Floats {
		w.Floats[i] = rng.Float32()*2 - 1
	}
	vi := func(name string, dims ...int64) onnxpb.ValueInfo {
		p := make([]string, len(dims))
		p[0] = "batch"
		return onnxpb.ValueInfo{Name: name, ElemType: onnxpb.Float, Dims: dims, Params: p}
	}
	outs := []onnxpb.ValueInfo{vi("y", -1, 4, 5, 5)}
	for _, e := range extra {
		outs = append(outs, vi(e, -1, 4, 5, 5))
	}
	m := &onnxpb.Model{
		Opsets: map[string]int64{"": 13},
		Graph: onnxpb.Graph{
			Nodes: []onnxpb.Node{
				{OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"c"}, Attrs: []onnxpb.Attr{onnxpb.IntsAttr("pads", 1, 1, 1, 1)}},
				{OpType: "Add", Inputs: []string{"r", "c"}, Outputs: []string{"s"}},
				{OpType: "Relu", Inputs: []string{"s"}, Outputs: []string{"y"}},
			},
			Initializers: []onnxpb.Tensor{w},
			Inputs:       []onnxpb.ValueInfo{vi("x", -1, 4, 5, 5), vi("r", rShape...)},
			Outputs:      outs,
		},
	}
	return m.Marshal()
}

// A residual Add after a Conv is added in the Conv's output pass (or, when
// it broadcasts, by a separate Add), with the same results as unfused.
func TestFuseResidual(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rShape []int64
	}{{"same shape", []int64{-1, 4, 5, 5}}, {"broadcast", []int64{-1, 4, 1, 5}}} {
		t.Run(tc.name, func(t *testing.T) {
			fused, err := Read(residualModel(rand.New(rand.NewSource(3)), tc.rShape))
			require.NoError(t, err)
			plain, err := Read(residualModel(rand.New(rand.NewSource(3)), tc.rShape, "c", "s"))
			require.NoError(t, err)
			require.Len(t, fused.g.ops, 1)
			assert.True(t, fused.g.ops[0].residual)
			assert.True(t, fused.g.ops[0].relu)
			require.Len(t, plain.g.ops, 3)

			rng := rand.New(rand.NewSource(4))
			random := func(shape ...int) Tensor {
				x := Tensor{Shape: shape, Data: make([]float32, shapeSize(shape))}
				for i := range x.Data {
					x.Data[i] = rng.Float32()*4 - 2
				}
				return x
			}
			rs := []int{2}
			for _, d := range tc.rShape[1:] {
				rs = append(rs, int(d))
			}
			x, r := random(2, 4, 5, 5), random(rs...)
			got, err := fused.Run(context.Background(), x, r)
			require.NoError(t, err)
			want, err := plain.Run(context.Background(), x, r)
			require.NoError(t, err)
			require.Equal(t, want[0].Shape, got[0].Shape)
			for i, w := range want[0].Data {
				assert.InDelta(t, w, got[0].Data[i], 1e-5*math.Max(1, math.Abs(float64(w))), "element %d", i)
			}
		})
	}
}

// A BatchNormalization that follows no Conv (PreAct's BN after the residual
// Add) takes its Relu into the same pass.
func TestFuseBatchNormRelu(t *testing.T) {
	build := func(extra ...string) []byte {
		rng := rand.New(rand.NewSource(5))
		var inits []onnxpb.Tensor
		for _, name := range []string{"gamma", "beta", "mean", "var"} {
			tt := onnxpb.Tensor{Name: name, Dims: []int64{3}, DataType: onnxpb.Float, Floats: make([]float32, 3)}
			for i := range tt.Floats {
				tt.Floats[i] = rng.Float32() + 0.1
			}
			inits = append(inits, tt)
		}
		vi := func(name string) onnxpb.ValueInfo {
			return onnxpb.ValueInfo{Name: name, ElemType: onnxpb.Float, Dims: []int64{-1, 3, 2, 2}, Params: []string{"batch", "", "", ""}}
		}
		outs := []onnxpb.ValueInfo{vi("y")}
		for _, e := range extra {
			outs = append(outs, vi(e))
		}
		return (&onnxpb.Model{Opsets: map[string]int64{"": 13}, Graph: onnxpb.Graph{
			Nodes: []onnxpb.Node{
				{OpType: "BatchNormalization", Inputs: []string{"x", "gamma", "beta", "mean", "var"}, Outputs: []string{"bn"}},
				{OpType: "Relu", Inputs: []string{"bn"}, Outputs: []string{"y"}},
			},
			Initializers: inits, Inputs: []onnxpb.ValueInfo{vi("x")}, Outputs: outs,
		}}).Marshal()
	}
	fused, err := Read(build())
	require.NoError(t, err)
	plain, err := Read(build("bn"))
	require.NoError(t, err)
	require.Len(t, fused.g.ops, 1)
	assert.True(t, fused.g.ops[0].relu)
	require.Len(t, plain.g.ops, 2)
	x := Tensor{Shape: []int{2, 3, 2, 2}, Data: make([]float32, 24)}
	for i := range x.Data {
		x.Data[i] = float32(i%7) - 3
	}
	got, err := fused.Run(context.Background(), x)
	require.NoError(t, err)
	want, err := plain.Run(context.Background(), x)
	require.NoError(t, err)
	assert.Equal(t, want[0], got[0])
	assert.Contains(t, want[0].Data, float32(0), "the Relu must clip something")
	assert.Less(t, slices.Min(want[1].Data), float32(0))
}

// sharedWeightModel has two 1×1 Convs reading one weight initializer: the
// first after a BatchNormalization of x and before a Mul by a constant,
// the second before a BatchNormalization. Folds rewrite a Conv's weights in
// place only when that Conv alone reads them; here the shared weights must
// stay intact for the other Conv. extra names values to keep as graph
// outputs (which stops the folds).
func sharedWeightModel(rng *rand.Rand, extra ...string) []byte {
	const c, m = 4, 6
	bn := func(in, out string) (onnxpb.Node, []onnxpb.Tensor) {
		p := func(s string) string { return out + "." + s }
		return node("BatchNormalization", []string{in, p("gamma"), p("beta"), p("mean"), p("var")}, []string{out}),
			[]onnxpb.Tensor{randFloats(rng, p("gamma"), 0.5, 1.5, m), randFloats(rng, p("beta"), -1, 1, m),
				randFloats(rng, p("mean"), -1, 1, m), randFloats(rng, p("var"), 0.1, 2, m)}
	}
	inBN, inInits := bn("x", "xb")
	for i := range inInits { // the input BatchNormalization has c channels
		inInits[i] = randFloats(rng, inInits[i].Name, 0.5, 1.5, c)
	}
	outBN, outInits := bn("cb", "yb")
	nodes := []onnxpb.Node{
		inBN,
		node("Conv", []string{"xb", "w"}, []string{"ca"}),
		node("Mul", []string{"ca", "k"}, []string{"ya"}),
		node("Conv", []string{"x", "w", "bias"}, []string{"cb"}),
		outBN,
	}
	inits := append(append(inInits, outInits...), randFloats(rng, "w", -1, 1, m, c, 1, 1),
		randFloats(rng, "bias", -1, 1, m), randFloats(rng, "k", 0.5, 1.5, m, 1, 1))
	return imageModel(c, 5, nodes, inits, append([]string{"ya", "yb"}, extra...)...)
}

// A weight two Convs read is folded for each into a copy, never in place.
func TestFoldSharedWeights(t *testing.T) {
	fused, err := Read(sharedWeightModel(rand.New(rand.NewSource(3))))
	require.NoError(t, err)
	plain, err := Read(sharedWeightModel(rand.New(rand.NewSource(3)), "xb", "ca", "cb"))
	require.NoError(t, err)
	x := Tensor{Shape: []int{2, 4, 5, 5}, Data: make([]float32, 200)}
	for i := range x.Data {
		x.Data[i] = float32(i%13)/6 - 1
	}
	assert.Equal(t, []string{"Conv", "Conv"}, stepNames(t, fused, x), "every BatchNormalization and the Mul folded")
	got, err := fused.Run(context.Background(), x)
	require.NoError(t, err)
	want, err := plain.Run(context.Background(), x)
	require.NoError(t, err)
	for o := range 2 {
		for i, w := range want[o].Data {
			assert.InDelta(t, w, got[o].Data[i], 1e-5*math.Max(1, math.Abs(float64(w))), "output %d element %d", o, i)
		}
	}
}
