package onnxpb

import (
	"testing"

	"github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"
)

func reluModel() *Model {
	return &Model{
		ProducerName: "onnxpb-test",
		Opsets:       map[string]int64{"": 13},
		Metadata:     map[string]string{"arch": "relu", "labels": `["a","b"]`},
		Graph: Graph{
			Name: "g",
			Nodes: []Node{
				{Name: "add", OpType: "Add", Inputs: []string{"input", "bias"}, Outputs: []string{"sum"}},
				{Name: "relu", OpType: "Relu", Inputs: []string{"sum"}, Outputs: []string{"logits"}},
			},
			Initializers: []Tensor{{Name: "bias", Dims: []int64{1, 3}, DataType: Float, Floats: []float32{-1, 0, 1}}},
			Inputs:       []ValueInfo{{Name: "input", ElemType: Float, Dims: []int64{1, 3}}},
			Outputs:      []ValueInfo{{Name: "logits", ElemType: Float, Dims: []int64{1, 3}}},
		},
	}
}

// onnx-go (a decoder nobody here wrote) must accept what Marshal writes.
func TestMarshalDecodesWithOnnxGo(t *testing.T) {
	data := reluModel().Marshal()
	backend := gorgonnx.NewGraph()
	m := onnx.NewModel(backend)
	require.NoError(t, m.UnmarshalBinary(data))
	require.NoError(t, m.SetInput(0, tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float32{0.5, -2, 3}))))
	require.NoError(t, backend.Run())
	out, err := m.GetOutputTensors()
	require.NoError(t, err)
	assert.Equal(t, []float32{0, 0, 4}, out[0].Data())
}

func TestReadMetadata(t *testing.T) {
	meta, opsets, err := ReadMetadata(reluModel().Marshal())
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"arch": "relu", "labels": `["a","b"]`}, meta)
	assert.Equal(t, map[string]int64{"": 13}, opsets)

	_, _, err = ReadMetadata([]byte{0x0a, 0xff, 0xff})
	assert.ErrorIs(t, err, ErrMalformed)
}
