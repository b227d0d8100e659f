package zoo

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gop is a Gorgonia operation whose forward pass and symbolic derivative
// are plain Go functions: every layer kind of the training graph is one gop
// (and its backward passes are gops too), so Gorgonia owns the graph, the
// differentiation order and the execution while the arithmetic stays ours.
type gop struct {
	name   string
	id     int   // unique per graph node, so Gorgonia never merges two ops
	inDims []int // rank of each input; 0 marks a scalar
	outDim int
	shape  func(in []tensor.Shape) (tensor.Shape, error)
	do     func(in [][]float32, inShapes []tensor.Shape, out []float32) error
	// diff returns the gradient nodes for each input (nil where not
	// differentiable), given the output node and its incoming gradient.
	diff func(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error)
	// noGrad marks inputs that take no gradient (targets, the network input).
	noGrad []bool
}

var (
	_    G.SDOp = (*gop)(nil)
	f32T        = G.Float32
)

func typeOf(rank int) hm.Type {
	if rank == 0 {
		return f32T
	}
	return G.TensorType{Dims: rank, Of: f32T}
}

func (o *gop) Arity() int { return len(o.inDims) }

func (o *gop) Type() hm.Type {
	ts := make([]hm.Type, 0, len(o.inDims)+1)
	for _, d := range o.inDims {
		ts = append(ts, typeOf(d))
	}
	ts = append(ts, typeOf(o.outDim))
	return hm.NewFnType(ts...)
}

func (o *gop) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	shapes := make([]tensor.Shape, len(ds))
	for i, d := range ds {
		s, ok := d.(tensor.Shape)
		if !ok {
			return nil, fmt.Errorf("%s: input %d has no shape (%T)", o.name, i, d)
		}
		shapes[i] = s
	}
	return o.shape(shapes)
}

func (o *gop) Do(vals ...G.Value) (G.Value, error) {
	in := make([][]float32, len(vals))
	shapes := make([]tensor.Shape, len(vals))
	for i, v := range vals {
		switch t := v.(type) {
		case *tensor.Dense:
			in[i] = t.Float32s()
			shapes[i] = t.Shape()
		case *G.F32:
			in[i] = []float32{float32(*t)}
			shapes[i] = tensor.ScalarShape()
		default:
			return nil, fmt.Errorf("%s: input %d: unsupported value %T", o.name, i, v)
		}
	}
	outShape, err := o.shape(shapes)
	if err != nil {
		return nil, err
	}
	if o.outDim == 0 {
		out := []float32{0}
		if err := o.do(in, shapes, out); err != nil {
			return nil, err
		}
		return G.NewF32(out[0]), nil
	}
	out := make([]float32, outShape.TotalSize())
	if err := o.do(in, shapes, out); err != nil {
		return nil, err
	}
	return tensor.New(tensor.WithShape(outShape...), tensor.WithBacking(out)), nil
}

func (o *gop) ReturnsPtr() bool     { return false }
func (o *gop) CallsExtern() bool    { return false }
func (o *gop) OverwritesInput() int { return -1 }
func (o *gop) String() string       { return fmt.Sprintf("%s#%d", o.name, o.id) }

func (o *gop) WriteHash(h hash.Hash) { fmt.Fprintf(h, "zoo.%s#%d", o.name, o.id) }

func (o *gop) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

func (o *gop) DiffWRT(n int) []bool {
	w := make([]bool, n)
	if o.diff != nil {
		for i := range w {
			w[i] = i >= len(o.noGrad) || !o.noGrad[i]
		}
	}
	return w
}

func (o *gop) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if o.diff == nil {
		return nil, fmt.Errorf("%s is not differentiable", o.name)
	}
	return o.diff(inputs, output, grad)
}
