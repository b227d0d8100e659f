package hub

import (
	"context"
	"io"
	"testing"

	"github.com/fmixzoo/zoo/engine"
	"github.com/fmixzoo/zoo/internal/onnxpb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileClassifier is an image classifier x [N,1,2,2] → y [N,4] whose
// graph is crafted: opset, initializers and nodes as given, then
// y = Flatten(x) + c where the nodes compute c.
func hostileClassifier(opset int64, inits []onnxpb.Tensor, nodes ...onnxpb.Node) []byte {
	nodes = append([]onnxpb.Node{{OpType: "Flatten", Inputs: []string{"x"}, Outputs: []string{"f"}}}, nodes...)
	nodes = append(nodes, onnxpb.Node{OpType: "Add", Inputs: []string{"f", "c"}, Outputs: []string{"y"}})
	m := &onnxpb.Model{
		Opsets: map[string]int64{"": opset},
		Graph: onnxpb.Graph{
			Nodes: nodes, Initializers: inits,
			Inputs:  []onnxpb.ValueInfo{{Name: "x", ElemType: onnxpb.Float, Dims: []int64{-1, 1, 2, 2}, Params: []string{"N", "", "", ""}}},
			Outputs: []onnxpb.ValueInfo{{Name: "y", ElemType: onnxpb.Float, Dims: []int64{-1, 4}, Params: []string{"N", ""}}},
		},
	}
	return m.Marshal()
}

// TestReadONNXHostile: crafted models through hub.ReadONNX and a first
// Run are errors (typed where callers branch on them), never a crash.
func TestReadONNXHostile(t *testing.T) {
	shape := func(name string, v ...int64) onnxpb.Tensor {
		return onnxpb.Tensor{Name: name, Dims: []int64{int64(len(v))}, DataType: onnxpb.Int64, Int64s: v}
	}
	// c = mean(ConstantOfShape([2^15,1]) + ConstantOfShape([1,2^15])):
	// the sum would be 2^30 floats (4 GiB, a fatal out-of-memory).
	bomb := hostileClassifier(13, []onnxpb.Tensor{shape("s1", 1<<15, 1), shape("s2", 1, 1<<15)},
		onnxpb.Node{OpType: "ConstantOfShape", Inputs: []string{"s1"}, Outputs: []string{"a"}},
		onnxpb.Node{OpType: "ConstantOfShape", Inputs: []string{"s2"}, Outputs: []string{"b"}},
		onnxpb.Node{OpType: "Add", Inputs: []string{"a", "b"}, Outputs: []string{"ab"}},
		onnxpb.Node{OpType: "ReduceMean", Inputs: []string{"ab"}, Outputs: []string{"c"}, Attrs: []onnxpb.Attr{onnxpb.IntAttr("keepdims", 0)}})
	m, err := ReadONNX(bomb)
	require.NoError(t, err, "the bomb is only found when planned")
	_, err = m.Run(context.Background(), Tensor{Shape: []int{1, 1, 2, 2}, Data: make([]float32, 4)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "holds more than 268435456 values")

	_, err = ReadONNX(hostileClassifier(99, []onnxpb.Tensor{{Name: "c", Dims: []int64{4}, DataType: onnxpb.Float, Floats: make([]float32, 4)}}))
	var u *engine.UnsupportedOpError
	require.ErrorAs(t, err, &u)
	assert.Equal(t, int64(99), u.Opset)

	_, err = ReadONNX(hostileClassifier(13, []onnxpb.Tensor{{Name: "c", Dims: []int64{1 << 20, 1 << 20}, DataType: onnxpb.Float, Floats: make([]float32, 4)}}))
	require.ErrorIs(t, err, engine.ErrMalformed)
	assert.Contains(t, err.Error(), "hub: read onnx")
}

// TestReadONNXHugeInput: an entry in a model's metadata claiming a
// 30000×30000 input (zoo-serve's warm-up would allocate a 10.8 GB image of
// it) is refused.
func TestReadONNXHugeInput(t *testing.T) {
	m := &onnxpb.Model{
		Opsets:   map[string]int64{"": 13},
		Metadata: map[string]string{MetadataEntryKey: `{"name":"huge","arch":"x","dataset":"d","input":{"shape":[3,30000,30000],"mean":[0,0,0],"std":[1,1,1],"scale":255,"interpolation":"bilinear"},"accuracy":{"source":"none"}}`},
		Graph: onnxpb.Graph{
			Nodes:   []onnxpb.Node{{OpType: "Flatten", Inputs: []string{"x"}, Outputs: []string{"y"}}},
			Inputs:  []onnxpb.ValueInfo{{Name: "x", ElemType: onnxpb.Float, Dims: []int64{-1, 3, -1, -1}, Params: []string{"N", "", "H", "W"}}},
			Outputs: []onnxpb.ValueInfo{{Name: "y", ElemType: onnxpb.Float, Dims: []int64{-1, -1}, Params: []string{"N", "K"}}},
		},
	}
	_, err := ReadONNX(m.Marshal())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "at most 4096×4096 pixels")
}

// panickyStore panics on Get, standing in for a bug on hostile input
// anywhere under Load.
type panickyStore struct{ Store }

func (panickyStore) Get(context.Context, string) (io.ReadCloser, ObjectInfo, error) {
	panic("planted: store bug")
}

// TestLoadRecovers: a panic under Load is its error, not the caller's.
func TestLoadRecovers(t *testing.T) {
	e := testEntry("m", "m.onnx", []byte("weights"), 1, 2, 2, []string{"a", "b"})
	_, err := Load("m", WithManifest(manifestOf(t, e)), WithStore(panickyStore{}), WithCache(t.TempDir()), WithProgress(nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `hub: load "m": internal error: planted: store bug`)
}
