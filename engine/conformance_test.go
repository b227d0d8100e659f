package engine

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/fmixzoo/zoo/internal/onnxpb"
	"github.com/fmixzoo/zoo/internal/testutil"
	"github.com/stretchr/testify/require"
)

// The ONNX backend node tests of ONNX 1.12 (Debian's libonnx-testdata).
const onnxTestData = "/usr/share/libonnx-testdata/data/node"

var updateCoverage = flag.Bool("update-coverage", false, "rewrite docs/ONNX_COVERAGE.md from the conformance run")

// requiredOps are the operators the engine promises; a node test whose
// operators are all in this set must pass.
var requiredOps = strings.Fields(`Conv BatchNormalization Relu LeakyRelu Clip Sigmoid HardSigmoid HardSwish
	Tanh Erf Add Sub Mul Div Pow MaxPool AveragePool GlobalAveragePool GlobalMaxPool Gemm MatMul Flatten
	Reshape Transpose Concat Pad Softmax LogSoftmax Dropout Identity Sum Mean Max Min ReduceMean Exp Log
	Sqrt Neg Abs Squeeze Unsqueeze Shape Gather Slice Constant ConstantOfShape`)

type conformanceCase struct {
	name   string
	ops    []string
	status string // "pass", "fail: ...", or "skip: ..."
}

// runNodeTest runs one backend test directory. Integer inputs (axes,
// shapes, pads, indices) are bound as initializers, since Run takes float32
// tensors and the engine folds shape arithmetic at compile time.
func runNodeTest(dir string) (ops []string, status string) {
	data, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return nil, "skip: " + err.Error()
	}
	info, err := onnxpb.Inspect(data)
	if err != nil {
		return nil, "fail: inspect: " + err.Error()
	}
	seen := map[string]bool{}
	for _, n := range info.Nodes {
		if !seen[n.OpType] {
			seen[n.OpType] = true
			ops = append(ops, n.OpType)
		}
	}
	for _, vi := range append(append([]onnxpb.ValueInfo(nil), info.Inputs...), info.Outputs...) {
		if vi.ElemType != onnxpb.Float && vi.ElemType != onnxpb.Int64 && vi.ElemType != onnxpb.Int32 {
			return ops, fmt.Sprintf("skip: %s is not a float32 or integer tensor (elem type %d)", vi.Name, vi.ElemType)
		}
	}
	if strings.Contains(filepath.Base(dir), "training_mode") {
		return ops, "skip: training mode (the engine runs inference graphs)"
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if len(sets) == 0 {
		return ops, "skip: no test data"
	}
	for _, set := range sets {
		var floats []Tensor
		var inits []onnxpb.Tensor
		inputNames := map[string]bool{}
		inputs, err := readTensors(set, "input")
		if err != nil {
			return ops, "skip: " + err.Error()
		}
		for i, t := range inputs {
			if i >= len(info.Inputs) {
				return ops, "skip: more test inputs than graph inputs"
			}
			name := info.Inputs[i].Name
			switch t.DataType {
			case onnxpb.Float:
				floats = append(floats, Tensor{Shape: ints(t.Dims), Data: t.Floats})
				inputNames[name] = true
			case onnxpb.Int64, onnxpb.Int32:
				inits = append(inits, onnxpb.Tensor{Name: name, Dims: t.Dims, DataType: onnxpb.Int64, Int64s: t.Int64s})
			default:
				return ops, fmt.Sprintf("skip: input of data type %d", t.DataType)
			}
		}
		want, err := readTensors(set, "output")
		if err != nil {
			return ops, "skip: " + err.Error()
		}
		for _, t := range want {
			if t.DataType != onnxpb.Float {
				return ops, fmt.Sprintf("skip: output of data type %d", t.DataType)
			}
		}
		model := data
		if len(inits) > 0 {
			model = onnxpb.AppendInitializers(data, inits)
		}
		m, err := Read(model)
		if err != nil {
			return ops, "fail: " + err.Error()
		}
		got, err := m.Run(context.Background(), floats...)
		if err != nil {
			return ops, "fail: " + err.Error()
		}
		if len(got) < len(want) {
			return ops, fmt.Sprintf("fail: %d outputs, want %d", len(got), len(want))
		}
		for i, w := range want {
			if err := compareTensor(got[i], w); err != nil {
				return ops, fmt.Sprintf("fail: output %d: %v", i, err)
			}
		}
	}
	return ops, "pass"
}

func ints(d []int64) []int {
	out := make([]int, len(d))
	for i, v := range d {
		out[i] = int(v)
	}
	return out
}

func compareTensor(got Tensor, want *onnxpb.Tensor) error {
	if fmt.Sprint(got.Shape) != fmt.Sprint(ints(want.Dims)) && !(len(got.Shape) == 0 && len(want.Dims) == 0) {
		return fmt.Errorf("shape %v, want %v", got.Shape, want.Dims)
	}
	if len(got.Data) != len(want.Floats) {
		return fmt.Errorf("%d values, want %d", len(got.Data), len(want.Floats))
	}
	for i, w := range want.Floats {
		g := got.Data[i]
		if math.IsNaN(float64(w)) && math.IsNaN(float64(g)) {
			continue
		}
		if math.IsInf(float64(w), 0) && g == w {
			continue
		}
		if d := math.Abs(float64(g - w)); d > 1e-4+1e-3*math.Abs(float64(w)) || math.IsNaN(d) {
			return fmt.Errorf("value %d is %g, want %g", i, g, w)
		}
	}
	return nil
}

// readTensors reads a test data set's prefix_0.pb, prefix_1.pb, … up to
// the first missing one.
func readTensors(set, prefix string) ([]*onnxpb.Tensor, error) {
	var out []*onnxpb.Tensor
	for i := 0; ; i++ {
		b, err := os.ReadFile(filepath.Join(set, fmt.Sprintf("%s_%d.pb", prefix, i)))
		if err != nil {
			return out, nil
		}
		t, err := onnxpb.ReadTensor(b)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
}

// TestONNXConformance runs every node test of the ONNX backend suite.
// Those whose operators are all promised (requiredOps) and whose tensors
// are float32 (with integer shape inputs) must pass.
func TestONNXConformance(t *testing.T) {
	if _, err := os.Stat(onnxTestData); err != nil {
		testutil.Need(t, fmt.Errorf("the ONNX backend test data is missing (apt-get install libonnx-testdata): %w", err))
	}
	dirs, err := filepath.Glob(filepath.Join(onnxTestData, "test_*"))
	require.NoError(t, err)
	required := map[string]bool{}
	for _, op := range requiredOps {
		required[op] = true
	}
	var cases []conformanceCase
	var failures []string
	for _, dir := range dirs {
		ops, status := runNodeTest(dir)
		c := conformanceCase{name: filepath.Base(dir), ops: ops, status: status}
		cases = append(cases, c)
		all := len(ops) > 0
		for _, op := range ops {
			all = all && required[op]
		}
		if all && strings.HasPrefix(status, "fail") {
			failures = append(failures, c.name+": "+status)
		}
	}
	if *updateCoverage {
		require.NoError(t, os.WriteFile("../docs/ONNX_COVERAGE.md", coverageReport(cases, required), 0o644))
	}
	require.Empty(t, failures, "node tests of promised operators must pass")
}

func coverageReport(cases []conformanceCase, required map[string]bool) []byte {
	type counts struct{ pass, fail, skip int }
	per := map[string]*counts{}
	var req counts
	for _, c := range cases {
		all := len(c.ops) > 0
		for _, op := range c.ops {
			all = all && required[op]
			if per[op] == nil {
				per[op] = &counts{}
			}
			switch {
			case c.status == "pass":
				per[op].pass++
			case strings.HasPrefix(c.status, "fail"):
				per[op].fail++
			default:
				per[op].skip++
			}
		}
		if all {
			switch {
			case c.status == "pass":
				req.pass++
			case strings.HasPrefix(c.status, "fail"):
				req.fail++
			default:
				req.skip++
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# ONNX conformance\n\nGenerated by `go test ./engine -run TestONNXConformance -update-coverage` from the node tests of ONNX 1.12's backend suite (Debian libonnx-testdata, %s).\n\n", onnxTestData)
	fmt.Fprintf(&b, "Tests whose operators are all promised by the engine: %d pass, %d fail, %d skipped (non-float tensors).\n\n", req.pass, req.fail, req.skip)
	b.WriteString("A test counts for each operator it uses. Integer inputs (shapes, axes, pads) are bound as initializers, since the engine folds shape arithmetic.\n\n| operator | promised | pass | fail | skipped |\n|---|---|---|---|---|\n")
	opsList := make([]string, 0, len(per))
	for op := range per {
		opsList = append(opsList, op)
	}
	sort.Strings(opsList)
	for _, op := range opsList {
		c := per[op]
		mark := ""
		if required[op] {
			mark = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d |\n", op, mark, c.pass, c.fail, c.skip)
	}
	b.WriteString("\n## Failing tests of promised operators\n\n")
	for _, c := range cases {
		all := len(c.ops) > 0
		for _, op := range c.ops {
			all = all && required[op]
		}
		if all && strings.HasPrefix(c.status, "fail") {
			fmt.Fprintf(&b, "- %s: %s\n", c.name, strings.TrimPrefix(c.status, "fail: "))
		}
	}
	return []byte(b.String())
}
