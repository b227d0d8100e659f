package engine

import (
	"context"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/fmixzoo/zoo/internal/onnxpb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tinyModel(op string, domain string) []byte {
	m := &onnxpb.Model{
		Opsets: map[string]int64{"": 13},
		Graph: onnxpb.Graph{
			Nodes:   []onnxpb.Node{{OpType: op, Domain: domain, Inputs: []string{"x"}, Outputs: []string{"y"}}},
			Inputs:  []onnxpb.ValueInfo{{Name: "x", ElemType: onnxpb.Float, Dims: []int64{-1, 3}, Params: []string{"batch", ""}}},
			Outputs: []onnxpb.ValueInfo{{Name: "y", ElemType: onnxpb.Float, Dims: []int64{-1, 3}, Params: []string{"batch", ""}}},
		},
	}
	return m.Marshal()
}

func TestUnsupportedOperatorNamesOpDomainOpset(t *testing.T) {
	for _, tc := range []struct{ op, domain string }{{"Celu", ""}, {"Relu", "com.example"}} {
		_, err := Read(tinyModel(tc.op, tc.domain))
		var u *UnsupportedOpError
		require.ErrorAs(t, err, &u)
		assert.Equal(t, tc.op, u.Op)
		assert.Equal(t, tc.domain, u.Domain)
		assert.Contains(t, err.Error(), tc.op)
	}
}

func TestRunValidatesInputs(t *testing.T) {
	m, err := Read(tinyModel("Relu", ""))
	require.NoError(t, err)
	assert.Equal(t, []ValueInfo{{Name: "x", Shape: []int{-1, 3}}}, m.Inputs())
	out, err := m.Run(context.Background(), Tensor{Shape: []int{2, 3}, Data: []float32{-1, 2, -3, 4, -5, 6}})
	require.NoError(t, err)
	assert.Equal(t, []float32{0, 2, 0, 4, 0, 6}, out[0].Data)

	for _, bad := range [][]Tensor{
		{},
		{{Shape: []int{2, 3}, Data: []float32{1}}},
		{{Shape: []int{2, 4}, Data: make([]float32, 8)}},
		{{Shape: []int{6}, Data: make([]float32, 6)}},
		{{Shape: []int{2, 3}, Data: make([]float32, 6)}, {Shape: []int{1}, Data: []float32{1}}},
	} {
		_, err := m.Run(context.Background(), bad...)
		assert.ErrorIs(t, err, ErrInput, "%v", bad)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = m.Run(ctx, Tensor{Shape: []int{1, 3}, Data: make([]float32, 3)})
	assert.True(t, errors.Is(err, context.Canceled))
}

func TestMalformedModels(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(torchDir, "lenet.onnx"))
	require.NoError(t, err)
	for name, data := range map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("not an onnx model at all"),
		"truncated": good[:len(good)/2],
		"no graph":  (&onnxpb.Model{Opsets: map[string]int64{"": 13}}).Marshal(),
	} {
		_, err := Read(data)
		assert.Error(t, err, name)
	}
	// A node reading a value nobody provides fails at compile time.
	m := &onnxpb.Model{Opsets: map[string]int64{"": 13}, Graph: onnxpb.Graph{
		Nodes:   []onnxpb.Node{{OpType: "Add", Inputs: []string{"x", "missing"}, Outputs: []string{"y"}}},
		Inputs:  []onnxpb.ValueInfo{{Name: "x", ElemType: onnxpb.Float, Dims: []int64{1}}},
		Outputs: []onnxpb.ValueInfo{{Name: "y", ElemType: onnxpb.Float, Dims: []int64{1}}},
	}}
	model, err := Read(m.Marshal())
	if err == nil {
		_, err = model.Run(context.Background(), Tensor{Shape: []int{1}, Data: []float32{1}})
	}
	assert.Error(t, err)
}

// FuzzRead: no input makes Read or a first Run panic or hang.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"lenet.onnx", "densenet_bc.onnx"} {
		if b, err := os.ReadFile(filepath.Join(torchDir, name)); err == nil {
			f.Add(b)
		}
	}
	f.Add(tinyModel("Relu", ""))
	f.Add(convBNReluModel(rand.New(rand.NewSource(1)), 2, true, nil))
	f.Add(convBNReluModel(rand.New(rand.NewSource(1)), 1, false, []int64{6, 1, 1}))
	f.Add(residualModel(rand.New(rand.NewSource(1)), []int64{-1, 4, 1, 5}))
	f.Add([]byte{0x3a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Read(data)
		if err != nil {
			return
		}
		var in []Tensor
		for _, vi := range m.Inputs() {
			shape := make([]int, len(vi.Shape))
			for i, d := range vi.Shape {
				shape[i] = max(1, min(d, 64))
			}
			if shapeSize(shape) > 1<<20 {
				return
			}
			in = append(in, Tensor{Shape: shape, Data: make([]float32, shapeSize(shape))})
		}
		_, _ = m.Run(context.Background(), in...)
	})
}
