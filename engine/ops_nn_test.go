package engine

import (
	"context"
	"testing"

	"github.com/fmixzoo/zoo/internal/onnxpb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// convOfConstant runs y = x + reshape(act(Conv(e, w, b)), [1, 4]) with e
// and w zeros of shapes xs and ws, b = {bias}, act a Relu when relu is set.
func convOfConstant(t *testing.T, xs, ws, pads []int64, bias float32, relu bool) []float32 {
	inits := []onnxpb.Tensor{i64s("xs", xs...), i64s("ws", ws...), i64s("flat", 1, 4),
		{Name: "b", Dims: []int64{1}, DataType: onnxpb.Float, Floats: []float32{bias}}}
	conv := "f0"
	nodes := []onnxpb.Node{
		node("ConstantOfShape", []string{"xs"}, []string{"e"}),
		node("ConstantOfShape", []string{"ws"}, []string{"w"}),
		node("Conv", []string{"e", "w", "b"}, []string{conv}, onnxpb.IntsAttr("pads", pads...)),
	}
	if relu {
		nodes = append(nodes, node("Relu", []string{conv}, []string{"r"}))
		conv = "r"
	}
	nodes = append(nodes, node("Reshape", []string{conv, "flat"}, []string{"f"}), node("Add", []string{"x", "f"}, []string{"y"}))
	m, err := Read(graphModel(13, inits, nodes...))
	require.NoError(t, err)
	out, err := m.Run(context.Background(), Tensor{Shape: []int{1, 4}, Data: []float32{1, 2, 3, 4}})
	require.NoError(t, err)
	return out[0].Data
}

// TestConvOfEmptyInput covers the convolutions the kernels do not take:
// no input channels, or an input of height 0 padded to a window. Their
// output is the bias alone (through a fused Relu when one follows).
func TestConvOfEmptyInput(t *testing.T) {
	noPads := []int64{0, 0, 0, 0}
	assert.Equal(t, []float32{2.5, 3.5, 4.5, 5.5}, convOfConstant(t, []int64{1, 0, 2, 2}, []int64{1, 0, 1, 1}, noPads, 1.5, false), "no channels")
	assert.Equal(t, []float32{-0.5, 0.5, 1.5, 2.5}, convOfConstant(t, []int64{1, 1, 0, 2}, []int64{1, 1, 1, 1}, []int64{1, 0, 1, 0}, -1.5, false), "height 0, padded")
	assert.Equal(t, []float32{1, 2, 3, 4}, convOfConstant(t, []int64{1, 0, 2, 2}, []int64{1, 0, 1, 1}, noPads, -1.5, true), "relu")
}
