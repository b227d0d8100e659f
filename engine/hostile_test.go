package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fmixzoo/zoo/internal/onnxpb"
	"github.com/fmixzoo/zoo/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile models: each is a few hundred bytes and once crashed the process
// (a fatal out-of-memory recover cannot catch, or a panic outside Run's
// recover) or ran far past its deadline. Each must now be a clear error,
// allocating little.

func i64s(name string, v ...int64) onnxpb.Tensor {
	return onnxpb.Tensor{Name: name, Dims: []int64{int64(len(v))}, DataType: onnxpb.Int64, Int64s: v}
}

// graphModel is a model of one float input x [1, 4] and output y.
func graphModel(opset int64, inits []onnxpb.Tensor, nodes ...onnxpb.Node) []byte {
	m := &onnxpb.Model{
		Opsets: map[string]int64{"": opset},
		Graph: onnxpb.Graph{
			Nodes:        nodes,
			Initializers: inits,
			Inputs:       []onnxpb.ValueInfo{{Name: "x", ElemType: onnxpb.Float, Dims: []int64{1, 4}}},
			Outputs:      []onnxpb.ValueInfo{{Name: "y", ElemType: onnxpb.Float}},
		},
	}
	return m.Marshal()
}

func node(op string, in, out []string, attrs ...onnxpb.Attr) onnxpb.Node {
	return onnxpb.Node{OpType: op, Inputs: in, Outputs: out, Attrs: attrs}
}

func TestHostileModels(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name    string
		model   []byte
		readErr string // error of Read, or "" if Read accepts the model
		runErr  string // error of the first Run
	}{
		{
			// Two small constants broadcast to 2^30 values: the sum was
			// allocated (4 GiB, fatal) before its size was checked.
			name: "constant broadcast",
			model: graphModel(13, []onnxpb.Tensor{i64s("s1", 1<<15, 1), i64s("s2", 1, 1<<15)},
				node("ConstantOfShape", []string{"s1"}, []string{"a"}),
				node("ConstantOfShape", []string{"s2"}, []string{"b"}),
				node("Add", []string{"a", "b"}, []string{"c"}),
				node("Add", []string{"x", "c"}, []string{"y"})),
			runErr: "holds more than 268435456 values",
		},
		{
			// 2^62+1 × 4 wraps to 4 in int64: Reshape once accepted it, so
			// shape and data disagreed and MatMul panicked.
			name: "reshape product overflow",
			model: graphModel(13, []onnxpb.Tensor{i64s("s", 1<<62+1, 4)},
				node("Reshape", []string{"x", "s"}, []string{"r"}),
				node("MatMul", []string{"r", "x"}, []string{"y"})),
			runErr: "too large",
		},
		{
			name: "reshape product overflow with -1",
			model: graphModel(13, []onnxpb.Tensor{i64s("s", -1, 1<<28, 1<<28, 1<<28)},
				node("Reshape", []string{"x", "s"}, []string{"y"})),
			runErr: "overflows",
		},
		{
			// 2^20·2^20·2^24 wraps to 0: the size check passed.
			name:   "constant of shape overflow",
			model:  graphModel(13, []onnxpb.Tensor{i64s("s", 1<<20, 1<<20, 1<<24)}, node("ConstantOfShape", []string{"s"}, []string{"c"}), node("Add", []string{"x", "c"}, []string{"y"})),
			runErr: "holds more than",
		},
		{
			name: "pad to 2^40",
			model: graphModel(13, []onnxpb.Tensor{i64s("p", 0, 0, 1<<20, 1<<20)},
				node("Pad", []string{"x", "p"}, []string{"y"})),
			runErr: "holds more than",
		},
		{
			// 2^33 multiply-adds at compile time, holding the model's lock.
			name: "constant matmul",
			model: graphModel(13, []onnxpb.Tensor{i64s("s", 1<<11, 1<<11)},
				node("ConstantOfShape", []string{"s"}, []string{"a"}),
				node("MatMul", []string{"a", "a"}, []string{"c"}),
				node("Add", []string{"x", "c"}, []string{"y"})),
			runErr: "folding this operation on constants takes 8.59e+09 multiply-adds",
		},
		{
			name:    "opset 99",
			model:   graphModel(99, nil, node("Relu", []string{"x"}, []string{"y"})),
			readErr: "unsupported operator set ai.onnx version 99",
		},
		{
			name: "initializer dims lie",
			model: graphModel(13, []onnxpb.Tensor{{Name: "w", Dims: []int64{1 << 40}, DataType: onnxpb.Float, Floats: []float32{1}}},
				node("Add", []string{"x", "w"}, []string{"y"})),
			readErr: "more than 268435456 elements",
		},
		{
			name: "initializer negative dim",
			model: graphModel(13, []onnxpb.Tensor{{Name: "w", Dims: []int64{-1}, DataType: onnxpb.Float}},
				node("Add", []string{"x", "w"}, []string{"y"})),
			readErr: "negative dimension",
		},
		{
			name: "constant attribute dims lie",
			model: graphModel(13, nil,
				node("Constant", nil, []string{"c"}, onnxpb.TensorAttr("value", &onnxpb.Tensor{Dims: []int64{1 << 20, 1 << 20}, DataType: onnxpb.Float, Floats: []float32{1}})),
				node("Add", []string{"x", "c"}, []string{"y"})),
			readErr: "more than 268435456 elements",
		},
		{
			name: "max pool of huge pads",
			model: graphModel(13, []onnxpb.Tensor{i64s("s", 1, 1, 1, 4)},
				node("Reshape", []string{"x", "s"}, []string{"r"}),
				node("MaxPool", []string{"r"}, []string{"y"}, onnxpb.IntsAttr("kernel_shape", 1, 1), onnxpb.IntsAttr("pads", 1<<40, 0, 0, 0))),
			runErr: "attribute pads value 1099511627776",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := testutil.Allocated(func() {
				var m *Model
				m, err = Read(tt.model)
				if err != nil {
					return
				}
				_, err = m.Run(context.Background(), Tensor{Shape: []int{1, 4}, Data: []float32{1, 2, 3, 4}})
			})
			require.Error(t, err)
			if tt.readErr != "" {
				assert.Contains(t, err.Error(), tt.readErr)
			} else {
				assert.Contains(t, err.Error(), tt.runErr)
			}
			assert.Less(t, len(err.Error()), 600, "the error must not echo the model")
			assert.Less(t, n, uint64(64*mib), "%d-byte model: %d MiB allocated", len(tt.model), n>>20)
			t.Logf("%d-byte model, %.1f MiB allocated: %v", len(tt.model), float64(n)/mib, err)
		})
	}
}

func TestOpsetRange(t *testing.T) {
	for _, opset := range []int64{0, MinOpset, 13, MaxOpset, MaxOpset + 1, 99} {
		t.Run(fmt.Sprint(opset), func(t *testing.T) {
			_, err := Read(graphModel(opset, nil, node("Relu", []string{"x"}, []string{"y"})))
			if opset <= MaxOpset { // 0: absent, read as 1
				require.NoError(t, err)
				return
			}
			var u *UnsupportedOpError
			require.ErrorAs(t, err, &u)
			assert.Equal(t, opset, u.Opset)
			assert.Empty(t, u.Op)
		})
	}
}

// chain is x → op → … → y, n nodes, each taking the previous value and
// then the extra inputs.
func chain(op string, n int, extra ...string) []onnxpb.Node {
	nodes := make([]onnxpb.Node, n)
	for i := range nodes {
		in, out := fmt.Sprintf("v%d", i), fmt.Sprintf("v%d", i+1)
		if i == 0 {
			in = "x"
		}
		if i == n-1 {
			out = "y"
		}
		nodes[i] = node(op, append([]string{in}, extra...), []string{out})
	}
	return nodes
}

// reluChain is x → Relu → … → y, n nodes.
func reluChain(n int) []byte { return graphModel(13, nil, chain("Relu", n)...) }

// TestNodeLimit: a 100k-node chain (once 73 s of compilation past a 30 s
// deadline) is refused by Read at once.
func TestNodeLimit(t *testing.T) {
	start := time.Now()
	_, err := Read(reluChain(100_000))
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrMalformed)
	assert.Contains(t, err.Error(), "100000 nodes (at most 32768)")
	assert.Less(t, time.Since(start), 5*time.Second)
}

// foldChain is v0 = w, v(i+1) = v(i) + w for n nodes, all folded at
// compile time (w holds 2^16 floats); y = x + v(n).
func foldChain(n int) []byte {
	w := make([]float32, 1<<16)
	nodes := make([]onnxpb.Node, 0, n+1)
	for i := range n {
		in := fmt.Sprintf("v%d", i)
		if i == 0 {
			in = "w"
		}
		nodes = append(nodes, node("Add", []string{in, "w"}, []string{fmt.Sprintf("v%d", i+1)}))
	}
	nodes = append(nodes, node("Add", []string{"x", fmt.Sprintf("v%d", n)}, []string{"y"}))
	return graphModel(13, []onnxpb.Tensor{{Name: "w", Dims: []int64{1 << 14, 4}, DataType: onnxpb.Float, Floats: w}}, nodes...)
}

// TestCompileHonoursContext: the first Run of a large graph stops at its
// deadline instead of compiling on (folding 32767 additions of 2^16
// values takes seconds).
func TestCompileHonoursContext(t *testing.T) {
	m, err := Read(foldChain(maxNodes - 1))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = m.Run(ctx, Tensor{Shape: []int{1, 4}, Data: []float32{1, 2, 3, 4}})
	took := time.Since(start)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "compile: stopped at node")
	assert.Less(t, took, 2*time.Second)
}

// TestStepLimit: a plan of more than 4096 runtime operations is refused
// while compiling (8192 Relus took 5.7 s to build, 32768 took 45 s,
// outside any context).
func TestStepLimit(t *testing.T) {
	m, err := Read(reluChain(8192))
	require.NoError(t, err)
	start := time.Now()
	_, err = m.Run(context.Background(), Tensor{Shape: []int{1, 4}, Data: []float32{1, 2, 3, 4}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "more than 4096 runtime operations (node 4096 of 8192)")
	assert.Less(t, time.Since(start), 2*time.Second)
}

// TestCompilePanicIsAnError: a panic while planning (a bug an operator
// might have on a hostile model) is an error of Run, not a crash; Run's
// recover once came after planning.
func TestCompilePanicIsAnError(t *testing.T) {
	ops["Celu"] = func(*opCtx, attrs, []*value) ([]*value, error) { panic("planted") }
	defer delete(ops, "Celu")
	m, err := Read(graphModel(13, nil, node("Celu", []string{"x"}, []string{"y"})))
	require.NoError(t, err)
	_, err = m.Run(context.Background(), Tensor{Shape: []int{1, 4}, Data: []float32{1, 2, 3, 4}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "planted")
}

// TestInputShapeOverflow: an input whose dimensions wrap to its data
// length in int64 is refused, not planned.
func TestInputShapeOverflow(t *testing.T) {
	m, err := Read(tinyModel("Relu", ""))
	require.NoError(t, err)
	for _, shape := range [][]int{{1<<62 + 1, 4}, {-1, -4}, make([]int, 100)} {
		_, err = m.Run(context.Background(), Tensor{Shape: shape, Data: make([]float32, 4)})
		require.Error(t, err)
		assert.True(t, errors.Is(err, ErrInput), "%v", err)
	}
}

// TestRunStopsAtDeadline: a run checks its context before every step, so
// a slow graph stops near its deadline instead of running to the end.
func TestRunStopsAtDeadline(t *testing.T) {
	const d, steps = 256, 100
	w := make([]float32, d*d)
	for i := range w {
		w[i] = 1.0 / d
	}
	nodes := chain("MatMul", steps, "w")
	m := &onnxpb.Model{Opsets: map[string]int64{"": 13}, Graph: onnxpb.Graph{
		Nodes:        nodes,
		Initializers: []onnxpb.Tensor{{Name: "w", Dims: []int64{d, d}, DataType: onnxpb.Float, Floats: w}},
		Inputs:       []onnxpb.ValueInfo{{Name: "x", ElemType: onnxpb.Float, Dims: []int64{d, d}}},
		Outputs:      []onnxpb.ValueInfo{{Name: "y", ElemType: onnxpb.Float}},
	}}
	model, err := Read(m.Marshal())
	require.NoError(t, err)
	x := Tensor{Shape: []int{d, d}, Data: make([]float32, d*d)}
	_, err = model.Run(context.Background(), x) // compiles
	require.NoError(t, err)
	start := time.Now()
	_, err = model.Run(context.Background(), x)
	require.NoError(t, err)
	full := time.Since(start)

	ctx, cancel := context.WithTimeout(context.Background(), full/10)
	defer cancel()
	start = time.Now()
	_, err = model.Run(ctx, x)
	took := time.Since(start)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, took, full/2, "a full run takes %v", full)
	t.Logf("full run %v; with a deadline of %v: stopped after %v", full, full/10, took)
}
