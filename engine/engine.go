package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/fmixzoo/zoo/internal/onnxpb"
	"github.com/owulveryck/onnx-go"
	"gorgonia.org/tensor"
)

// Tensor is a dense float32 tensor in row-major (C) order.
type Tensor struct {
	Shape []int
	Data  []float32
}

// ValueInfo names a graph input or output and its declared shape, with -1
// for dynamic (symbolic or unknown) dimensions.
type ValueInfo struct {
	Name  string
	Shape []int
}

// UnsupportedOpError reports an operator the engine cannot run, or, with Op
// empty, a model whose operator set version is outside [MinOpset, MaxOpset].
type UnsupportedOpError struct {
	Op     string
	Domain string
	Opset  int64
}

func (e *UnsupportedOpError) Error() string {
	d := e.Domain
	if d == "" {
		d = "ai.onnx"
	}
	if e.Op == "" {
		return fmt.Sprintf("engine: unsupported operator set %s version %d (the engine runs versions %d to %d)", d, e.Opset, MinOpset, MaxOpset)
	}
	return fmt.Sprintf("engine: unsupported operator %s (domain %s, opset %d)", e.Op, d, e.Opset)
}

// Errors callers can branch on with errors.Is.
var (
	// ErrMalformed: the bytes are not a valid ONNX model.
	ErrMalformed = errors.New("engine: malformed ONNX model")
	// ErrInput: Run's inputs do not fit the graph.
	ErrInput = errors.New("engine: bad input")
)

// Model is a decoded ONNX graph ready to evaluate. Run compiles, on first
// use of each set of input shapes, a Gorgonia ExprGraph in which
// shape arithmetic is folded away and every remaining operation is a
// Gorgonia op over our kernels; compiled graphs are pooled so concurrent
// callers never share a VM.
type Model struct {
	inputs  []ValueInfo
	outputs []ValueInfo
	meta    map[string]string
	opset   int64
	g       *graphDef

	mu    sync.Mutex
	plans map[string]*plan
	order []string // plan keys, oldest first
}

// maxPlans bounds how many input-shape signatures stay compiled.
const maxPlans = 8

// Read decodes an ONNX model (onnx-go parses the protobuf and drives our
// backend) and checks that every operator is supported. It never panics on
// malformed input, and refuses before decoding them a model of more than
// 32768 nodes, a default-domain opset outside [MinOpset, MaxOpset] (an
// *UnsupportedOpError) and any initializer or constant whose dimensions
// are negative, hold more than 2^28 elements, or disagree with its data.
func Read(data []byte) (m *Model, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%w: decoder panic: %v", ErrMalformed, r)
		}
	}()
	info, err := onnxpb.Inspect(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(info.Nodes) > maxNodes {
		return nil, fmt.Errorf("%w: %d nodes (at most %d)", ErrMalformed, len(info.Nodes), maxNodes)
	}
	opset := info.Opsets[""]
	if v, ok := info.Opsets["ai.onnx"]; ok && opset == 0 {
		opset = v
	}
	if opset == 0 {
		opset = 1
	}
	if opset < MinOpset || opset > MaxOpset {
		return nil, &UnsupportedOpError{Opset: opset}
	}
	if err := onnxpb.CheckTensors(data, maxValueSize); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	for _, n := range info.Nodes {
		if n.Domain != "" && n.Domain != "ai.onnx" {
			return nil, &UnsupportedOpError{Op: n.OpType, Domain: n.Domain, Opset: info.Opsets[n.Domain]}
		}
		if _, ok := ops[n.OpType]; !ok {
			return nil, &UnsupportedOpError{Op: n.OpType, Domain: n.Domain, Opset: opset}
		}
	}
	// onnx-go decodes the graph's structure from a copy without the
	// initializers; the engine decodes those once, straight from data.
	// (onnx-go's own decoding held the raw bytes, its float32 slices grown
	// by append and the engine's copy at once: four times the weights.)
	inits, err := readInitializers(data)
	if err != nil {
		return nil, err
	}
	structure, err := onnxpb.WithoutInitializers(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	b := newBackend()
	om := onnx.NewModel(b)
	if err := om.UnmarshalBinary(structure); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	g, err := newGraphDef(b, om, info, inits)
	if err != nil {
		return nil, err
	}
	m = &Model{meta: info.Metadata, opset: opset, g: g, plans: map[string]*plan{}}
	for _, in := range g.inputs {
		m.inputs = append(m.inputs, ValueInfo{Name: in, Shape: declared(info.Inputs, in)})
	}
	for _, out := range g.outputs {
		m.outputs = append(m.outputs, ValueInfo{Name: out, Shape: declared(info.Outputs, out)})
	}
	return m, nil
}

func declared(vis []onnxpb.ValueInfo, name string) []int {
	for _, vi := range vis {
		if vi.Name == name && vi.Dims != nil {
			s := make([]int, len(vi.Dims))
			for i, d := range vi.Dims {
				s[i] = int(d)
			}
			return s
		}
	}
	return nil
}

// Inputs are the graph inputs Run expects, in order (initializers excluded).
func (m *Model) Inputs() []ValueInfo { return cloneInfos(m.inputs) }

// Outputs are the graph outputs Run returns, in order.
func (m *Model) Outputs() []ValueInfo { return cloneInfos(m.outputs) }

// Metadata is the model's metadata_props.
func (m *Model) Metadata() map[string]string {
	out := make(map[string]string, len(m.meta))
	for k, v := range m.meta {
		out[k] = v
	}
	return out
}

func cloneInfos(v []ValueInfo) []ValueInfo {
	out := make([]ValueInfo, len(v))
	for i, vi := range v {
		out[i] = ValueInfo{Name: vi.Name, Shape: append([]int(nil), vi.Shape...)}
	}
	return out
}

// Run evaluates the graph on inputs given in graph-input order. Any
// dimension declared dynamic (the batch, typically) may change from call
// to call. Run is safe for concurrent use.
func (m *Model) Run(ctx context.Context, inputs ...Tensor) (out []Tensor, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(inputs) != len(m.inputs) {
		return nil, fmt.Errorf("%w: got %d inputs, the graph takes %d (%s)", ErrInput, len(inputs), len(m.inputs), names(m.inputs))
	}
	// Everything below runs on the model's graph, which may be hostile:
	// a panic there is an error for this call, never a crash.
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("engine: run: internal error: %v", r)
		}
	}()
	var key strings.Builder
	for i, in := range inputs {
		if err := checkInput(m.inputs[i], in); err != nil {
			return nil, err
		}
		fmt.Fprint(&key, in.Shape, ";")
	}
	p, err := m.plan(ctx, key.String(), inputs)
	if err != nil {
		return nil, err
	}
	return p.run(ctx, inputs)
}

func names(v []ValueInfo) string {
	s := make([]string, len(v))
	for i, vi := range v {
		s[i] = fmt.Sprintf("%s%v", vi.Name, vi.Shape)
	}
	return strings.Join(s, ", ")
}

func checkInput(vi ValueInfo, in Tensor) error {
	size, err := checkedSize(in.Shape)
	if err != nil {
		return fmt.Errorf("%w: input %s: %w", ErrInput, vi.Name, err)
	}
	if size != len(in.Data) {
		return fmt.Errorf("%w: input %s: shape %v holds %d values, got %d", ErrInput, vi.Name, in.Shape, size, len(in.Data))
	}
	if vi.Shape == nil {
		return nil
	}
	if len(vi.Shape) != len(in.Shape) {
		return fmt.Errorf("%w: input %s: want rank %d %v, got shape %v", ErrInput, vi.Name, len(vi.Shape), vi.Shape, in.Shape)
	}
	for i, d := range vi.Shape {
		if d >= 0 && d != in.Shape[i] {
			return fmt.Errorf("%w: input %s: want shape %v (-1 = any), got %v", ErrInput, vi.Name, vi.Shape, in.Shape)
		}
	}
	return nil
}

// plan returns the compiled plan for these input shapes, building it once.
// ctx bounds the compilation.
func (m *Model) plan(ctx context.Context, key string, inputs []Tensor) (*plan, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.plans[key]; ok {
		return p, nil
	}
	shapes := make([][]int, len(inputs))
	for i, in := range inputs {
		shapes[i] = append([]int(nil), in.Shape...)
	}
	if m.g.constBytes >= collectBeforeCompile {
		// The last resort of issue 19's memory work, and the one place the
		// engine calls the collector: a large model's bytes are usually
		// garbage by its first Run (the caller read them for Read), but
		// the heap Read left (those bytes and the weights decoded from
		// them) had set the collector's next goal at twice both, so they
		// stayed in memory while the plan packed its weights. Collecting
		// once per input shape, before a compilation that takes far longer
		// than the collection, let ResNet-101 at batch 1 peak at 442 MB
		// RSS instead of 620 (PyramidNet-272: 310 instead of 425).
		runtime.GC()
	}
	p, err := compile(ctx, m.g, m.opset, shapes)
	if err != nil {
		return nil, err
	}
	if len(m.order) >= maxPlans {
		delete(m.plans, m.order[0])
		m.order = m.order[1:]
	}
	m.plans[key] = p
	m.order = append(m.order, key)
	return p, nil
}

// graphDef is the decoded graph: inputs, constants and operations.
type graphDef struct {
	inputs     []string
	outputs    []string
	consts     map[string]*value
	constBytes int // the constants' size, after fusion
	ops        []opRecord
	domains    []string
}

// collectBeforeCompile is the constBytes from which Model.plan collects
// garbage before compiling a plan (see there).
const collectBeforeCompile = 8 << 20

// newGraphDef assembles the graph onnx-go decoded into b (from a model
// without initializers) and the initializers: a graph input that is also an
// initializer is a constant, as is an initializer no operation computes.
func newGraphDef(b *backend, om *onnx.Model, info *onnxpb.Info, inits map[string]*value) (*graphDef, error) {
	g := &graphDef{consts: map[string]*value{}, ops: b.ops}
	for _, id := range om.Input {
		n, ok := b.nodes[id]
		if !ok {
			return nil, fmt.Errorf("%w: unknown input node %d", ErrMalformed, id)
		}
		if _, ok := inits[n.name]; !ok {
			g.inputs = append(g.inputs, n.name)
		}
	}
	for _, id := range om.Output {
		n, ok := b.nodes[id]
		if !ok {
			return nil, fmt.Errorf("%w: unknown output node %d", ErrMalformed, id)
		}
		g.outputs = append(g.outputs, n.name)
	}
	computed := map[string]bool{}
	for _, r := range b.ops {
		for _, o := range r.outputs {
			computed[o] = true
		}
	}
	for name, v := range inits {
		if !computed[name] {
			g.consts[name] = v
		}
	}
	for i, r := range b.ops {
		if i < len(info.Nodes) && info.Nodes[i].OpType != r.op.Name {
			return nil, fmt.Errorf("%w: node %d is %s in the protobuf but %s in the decoded graph", ErrMalformed, i, info.Nodes[i].OpType, r.op.Name)
		}
	}
	g.fuse()
	for _, v := range g.consts {
		g.constBytes += 4 * v.size() // float32; int64 constants are shape arithmetic, small
	}
	return g, nil
}

// readInitializers decodes the main graph's initializers into constant
// values (float32 and float64 data as float32, int32 and int64 as int64),
// the last of each name winning. Their sizes were checked against their
// dimensions before (onnxpb.CheckTensors); a tensor with both raw and
// typed data, which ONNX forbids, is refused here.
func readInitializers(data []byte) (map[string]*value, error) {
	ts, err := onnxpb.ReadInitializers(data)
	if err != nil {
		return nil, fmt.Errorf("%w: initializers: %v", ErrMalformed, err)
	}
	out := make(map[string]*value, len(ts))
	for _, t := range ts {
		if t.Name == "" {
			return nil, fmt.Errorf("%w: an initializer has no name", ErrMalformed)
		}
		shape := make([]int, len(t.Dims))
		for i, d := range t.Dims {
			shape[i] = int(d)
		}
		var v *value
		switch t.DataType {
		case onnxpb.Float, onnxpb.Double:
			v = constF(shape, t.Floats)
		case onnxpb.Int64, onnxpb.Int32:
			v = constI(shape, t.Int64s)
		default:
			return nil, fmt.Errorf("%w: initializer %q: unsupported data type %d", ErrMalformed, t.Name, t.DataType)
		}
		if n := len(t.Floats) + len(t.Int64s); n != v.size() {
			return nil, fmt.Errorf("%w: initializer %q: dimensions %v hold %d elements, the data %d", ErrMalformed, t.Name, shape, v.size(), n)
		}
		out[t.Name] = v
	}
	return out, nil
}

// valueOfTensor converts a decoded tensor into a constant value.
func valueOfTensor(t tensor.Tensor) (*value, error) {
	shape := append([]int(nil), t.Shape()...)
	if t.Shape().IsScalar() {
		shape = []int{}
	}
	d, ok := t.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("unsupported tensor %T", t)
	}
	switch d.Dtype() {
	case tensor.Float32:
		return constF(shape, append([]float32(nil), d.Float32s()...)), nil
	case tensor.Float64:
		return constF(shape, converted[float32](d.Float64s())), nil
	case tensor.Int64:
		return constI(shape, append([]int64(nil), d.Int64s()...)), nil
	case tensor.Int32:
		return constI(shape, converted[int64](d.Int32s())), nil
	}
	return nil, fmt.Errorf("unsupported data type %v", d.Dtype())
}

// converted returns a copy of src with each value converted to U.
func converted[U, T float32 | float64 | int32 | int64](src []T) []U {
	out := make([]U, len(src))
	for i, v := range src {
		out[i] = U(v)
	}
	return out
}
