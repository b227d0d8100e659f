package engine

import (
	"errors"
	"fmt"
	"math"

	"github.com/owulveryck/onnx-go"
	"gorgonia.org/tensor"
)

// opFunc plans one ONNX node: it checks the inputs, infers output shapes,
// folds what it can and emits runtime steps through ctx. in[i] is nil for
// an omitted optional input.
type opFunc func(ctx *opCtx, a attrs, in []*value) ([]*value, error)

type opCtx struct {
	opset int64
	node  opRecord
	steps []*step
	// err is the first size refusal of emit, which has no error result;
	// compile checks it after every node.
	err error
}

var errNeedConst = errors.New("input must be a constant (computed from initializers and shapes only)")

// emit returns fn's output for the inputs: folded to a constant when every
// given input is constant, else a runtime step. An output shape over the
// size limit allocates nothing: it sets c.err and returns an empty value.
func (c *opCtx) emit(name string, in []*value, shape []int, fn kernel) *value {
	if _, err := checkedSize(shape); err != nil {
		if c.err == nil {
			c.err = err
		}
		return &value{shape: []int{0}, input: -1}
	}
	konst := true
	for _, v := range in {
		if v != nil && !v.konst {
			konst = false
		}
	}
	if konst {
		data := make([][]float32, len(in))
		for i, v := range in {
			if v != nil {
				data[i] = v.floats()
			}
		}
		out := make([]float32, shapeSize(shape))
		fn(data, out)
		return constF(shape, out)
	}
	out := &value{shape: shape, input: -1}
	s := &step{name: name, in: in, out: out, fn: fn}
	out.step = s
	for _, v := range in {
		if v != nil && !v.konst {
			v.uses++
		}
	}
	c.steps = append(c.steps, s)
	return out
}

// emitFull is emit for a kernel that writes every element of its output.
func (c *opCtx) emitFull(name string, in []*value, shape []int, fn kernel) *value {
	v := c.emit(name, in, shape, fn)
	if v.step != nil {
		v.step.full = true
	}
	return v
}

// floats is a constant's data as float32 (ints converted).
func (v *value) floats() []float32 {
	if !v.isInt {
		return v.f
	}
	f := make([]float32, len(v.i))
	for j, x := range v.i {
		f[j] = float32(x)
	}
	return f
}

// ints is a constant's data as int64 (floats truncated).
func (v *value) ints() ([]int64, error) {
	if !v.konst {
		return nil, errNeedConst
	}
	if v.isInt {
		return v.i, nil
	}
	out := make([]int64, len(v.f))
	for j, x := range v.f {
		out[j] = int64(x)
	}
	return out, nil
}

// attrs reads onnx-go's decoded node attributes.
type attrs map[string]interface{}

func (a attrs) int(name string, def int64) int64 {
	if v, ok := a[name].(int64); ok {
		return v
	}
	return def
}

func (a attrs) float(name string, def float32) float32 {
	if v, ok := a[name].(float32); ok {
		return v
	}
	return def
}

func (a attrs) str(name, def string) string {
	if v, ok := a[name].(string); ok {
		return v
	}
	return def
}

func (a attrs) ints(name string) ([]int64, bool) {
	v, ok := a[name].([]int64)
	return v, ok
}

func (a attrs) tensor(name string) (tensor.Tensor, bool) {
	v, ok := a[name].(tensor.Tensor)
	return v, ok
}

var _ = onnx.Operation{}

var ops map[string]opFunc

func init() {
	ops = map[string]opFunc{
		"Relu":               unary(func(x float32) float32 { return max(x, 0) }),
		"Sigmoid":            unary(sigmoid),
		"Tanh":               unary(func(x float32) float32 { return float32(math.Tanh(float64(x))) }),
		"Erf":                unary(func(x float32) float32 { return float32(math.Erf(float64(x))) }),
		"Exp":                unary(func(x float32) float32 { return float32(math.Exp(float64(x))) }),
		"Log":                unary(func(x float32) float32 { return float32(math.Log(float64(x))) }),
		"Sqrt":               unary(func(x float32) float32 { return float32(math.Sqrt(float64(x))) }),
		"Neg":                unaryInt(func(x float32) float32 { return -x }, func(x int64) int64 { return -x }),
		"Abs":                unaryInt(func(x float32) float32 { return float32(math.Abs(float64(x))) }, func(x int64) int64 { return max(x, -x) }),
		"Identity":           identity,
		"Dropout":            identity,
		"LeakyRelu":          leakyRelu,
		"HardSigmoid":        hardSigmoid,
		"HardSwish":          unary(func(x float32) float32 { return x * max(0, min(1, x/6+0.5)) }),
		"Clip":               clip,
		"Add":                binaryOp(addVec, func(a, b int64) int64 { return a + b }),
		"Sub":                binaryOp(subVec, func(a, b int64) int64 { return a - b }),
		"Mul":                binaryOp(mulVec, func(a, b int64) int64 { return a * b }),
		"Div":                binaryOp(divVec, divInt),
		"Pow":                binaryOp(vecOf(func(a, b float32) float32 { return float32(math.Pow(float64(a), float64(b))) }), nil),
		"Sum":                variadic(addVec, nil),
		"Mean":               variadic(addVec, func(n int) func(float32) float32 { return func(x float32) float32 { return x / float32(n) } }),
		"Max":                variadic(vecOf(maxNaN), nil),
		"Min":                variadic(vecOf(minNaN), nil),
		"Conv":               conv,
		"BatchNormalization": batchNorm,
		"MaxPool":            pool(true),
		"AveragePool":        pool(false),
		"GlobalAveragePool":  globalPool(false),
		"GlobalMaxPool":      globalPool(true),
		"Gemm":               gemm,
		"MatMul":             matmul,
		"Softmax":            softmax(false),
		"LogSoftmax":         softmax(true),
		"ReduceMean":         reduceMean,
		"Flatten":            flatten,
		"Reshape":            reshape,
		"Transpose":          transpose,
		"Concat":             concat,
		"Pad":                pad,
		"Squeeze":            squeeze,
		"Unsqueeze":          unsqueeze,
		"Shape":              shapeOp,
		"Gather":             gather,
		"Slice":              slice,
		"Constant":           constant,
		"ConstantOfShape":    constantOfShape,
		"Cast":               cast,
	}
}

func sigmoid(x float32) float32 {
	if x >= 0 {
		return float32(1 / (1 + math.Exp(-float64(x))))
	}
	e := math.Exp(float64(x))
	return float32(e / (1 + e))
}

func maxNaN(a, b float32) float32 {
	if a != a || b != b {
		return float32(math.NaN())
	}
	return max(a, b)
}

func minNaN(a, b float32) float32 {
	if a != a || b != b {
		return float32(math.NaN())
	}
	return min(a, b)
}

func divInt(a, b int64) int64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func need(in []*value, n int) error {
	if len(in) < n {
		return fmt.Errorf("needs %d inputs, got %d", n, len(in))
	}
	for i := 0; i < n; i++ {
		if in[i] == nil {
			return fmt.Errorf("input %d is missing", i)
		}
	}
	return nil
}

func unary(f func(float32) float32) opFunc {
	return func(c *opCtx, _ attrs, in []*value) ([]*value, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		if in[0].isInt {
			return nil, errors.New("integer input")
		}
		return []*value{c.emit(c.node.op.Name, in[:1], in[0].shape, func(d [][]float32, out []float32) {
			for i, x := range d[0] {
				out[i] = f(x)
			}
		})}, nil
	}
}

func unaryInt(f func(float32) float32, fi func(int64) int64) opFunc {
	fl := unary(f)
	return func(c *opCtx, a attrs, in []*value) ([]*value, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		if in[0].isInt {
			out := make([]int64, len(in[0].i))
			for i, x := range in[0].i {
				out[i] = fi(x)
			}
			return []*value{constI(in[0].shape, out)}, nil
		}
		return fl(c, a, in)
	}
}

func identity(c *opCtx, _ attrs, in []*value) ([]*value, error) {
	if err := need(in, 1); err != nil {
		return nil, err
	}
	if in[0].konst {
		return []*value{in[0]}, nil
	}
	return []*value{c.emit("Identity", in[:1], in[0].shape, func(d [][]float32, out []float32) { copy(out, d[0]) })}, nil
}

func leakyRelu(c *opCtx, a attrs, in []*value) ([]*value, error) {
	alpha := a.float("alpha", 0.01)
	return unary(func(x float32) float32 {
		if x < 0 {
			return alpha * x
		}
		return x
	})(c, a, in)
}

func hardSigmoid(c *opCtx, a attrs, in []*value) ([]*value, error) {
	alpha, beta := a.float("alpha", 0.2), a.float("beta", 0.5)
	return unary(func(x float32) float32 { return max(0, min(1, alpha*x+beta)) })(c, a, in)
}

func clip(c *opCtx, a attrs, in []*value) ([]*value, error) {
	if err := need(in, 1); err != nil {
		return nil, err
	}
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	args := []*value{in[0], nil, nil}
	if c.opset < 11 {
		lo, hi = a.float("min", lo), a.float("max", hi)
	} else {
		for i := 1; i <= 2; i++ {
			if len(in) > i && in[i] != nil {
				if in[i].size() != 1 {
					return nil, fmt.Errorf("input %d must be a scalar", i)
				}
				args[i] = in[i]
			}
		}
	}
	return []*value{c.emit("Clip", args, in[0].shape, func(d [][]float32, out []float32) {
		l, h := lo, hi
		if d[1] != nil {
			l = d[1][0]
		}
		if d[2] != nil {
			h = d[2][0]
		}
		for i, x := range d[0] {
			if x != x {
				out[i] = x
				continue
			}
			out[i] = min(max(x, l), h)
		}
	})}, nil
}

// broadcast computes numpy's broadcast shape of two shapes.
func broadcast(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// bstrides are an input's strides over the output shape, 0 where broadcast.
func bstrides(in, out []int) []int {
	st := make([]int, len(out))
	s := 1
	for i := len(in) - 1; i >= 0; i-- {
		j := len(out) - len(in) + i
		if in[i] != 1 {
			st[j] = s
		}
		s *= in[i]
	}
	return st
}

// forBroadcast calls f(o, ia, ib) for every output index with the input
// offsets of a and b.
func forBroadcast(out, sa, sb []int, f func(o, ia, ib int)) {
	n := shapeSize(out)
	if len(out) == 0 {
		f(0, 0, 0)
		return
	}
	idx := make([]int, len(out))
	ia, ib := 0, 0
	for o := 0; o < n; o++ {
		f(o, ia, ib)
		for d := len(out) - 1; d >= 0; d-- {
			idx[d]++
			ia += sa[d]
			ib += sb[d]
			if idx[d] < out[d] {
				break
			}
			ia -= sa[d] * out[d]
			ib -= sb[d] * out[d]
			idx[d] = 0
		}
	}
}

// binaryOp is a numpy-broadcasting float operation computed row by row by
// vec (see rowBroadcast), with fi for two integer constants.
func binaryOp(vec vecFunc, fi func(a, b int64) int64) opFunc {
	return func(c *opCtx, _ attrs, in []*value) ([]*value, error) {
		if err := need(in, 2); err != nil {
			return nil, err
		}
		x, y := in[0], in[1]
		out, err := broadcast(x.shape, y.shape)
		if err != nil {
			return nil, err
		}
		if x.isInt && y.isInt {
			if fi == nil {
				return nil, errors.New("integer inputs")
			}
			n, err := checkedSize(out)
			if err != nil {
				return nil, err
			}
			res := make([]int64, n)
			sa, sb := bstrides(x.shape, out), bstrides(y.shape, out)
			forBroadcast(out, sa, sb, func(o, ia, ib int) { res[o] = fi(x.i[ia], y.i[ib]) })
			return []*value{constI(out, res)}, nil
		}
		rows := newRowBroadcast(x.shape, y.shape, out)
		return []*value{c.emitFull(c.node.op.Name, []*value{x, y}, out, func(d [][]float32, o []float32) {
			rows.run(vec, d[0], d[1], o)
		})}, nil
	}
}

func variadic(f vecFunc, final func(n int) func(float32) float32) opFunc {
	bin := binaryOp(f, nil)
	return func(c *opCtx, a attrs, in []*value) ([]*value, error) {
		if len(in) == 0 {
			return nil, errors.New("no inputs")
		}
		acc := in[0]
		if acc == nil {
			return nil, errors.New("input 0 is missing")
		}
		if len(in) == 1 {
			acc2, err := identity(c, a, in)
			if err != nil {
				return nil, err
			}
			acc = acc2[0]
		}
		for _, v := range in[1:] {
			r, err := bin(c, a, []*value{acc, v})
			if err != nil {
				return nil, err
			}
			acc = r[0]
		}
		if final != nil && len(in) > 1 {
			return unary(final(len(in)))(c, a, []*value{acc})
		}
		return []*value{acc}, nil
	}
}
