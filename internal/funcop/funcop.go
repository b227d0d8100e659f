// Package funcop adapts plain Go functions to Gorgonia operations: the
// training graph (package zoo) and the ONNX engine build Gorgonia
// ExprGraphs out of Ops whose forward pass, and for training whose symbolic
// derivative, are ordinary functions over float32 slices. Gorgonia owns the
// graph, the differentiation order and the execution; the arithmetic stays
// in the project's kernels.
package funcop

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Op is a Gorgonia operation whose forward pass and symbolic derivative are
// plain Go functions over float32 data.
type Op struct {
	Name   string
	ID     int   // unique per graph node, so Gorgonia never merges two ops
	InDims []int // rank of each input; 0 marks a scalar
	OutDim int   // rank of the output; 0 makes it a scalar
	// Out computes the output shape from the input shapes.
	Out func(in []tensor.Shape) (tensor.Shape, error)
	// Fn computes out (preallocated to the output shape) from the inputs.
	Fn func(in [][]float32, inShapes []tensor.Shape, out []float32) error
	// Diff returns the gradient nodes for each input (nil where not
	// differentiable), given the output node and its incoming gradient.
	// Nil makes the Op non-differentiable.
	Diff func(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error)
	// NoGrad marks inputs that take no gradient (targets, the network input).
	NoGrad []bool
	// Alloc, when set, supplies the output buffer of n floats in place of
	// a fresh zeroed slice (an arena that recycles the buffers of values
	// no later op reads). What it returns must be zeroed unless Fn writes
	// every element.
	Alloc func(n int) []float32
}

var (
	_    G.SDOp = (*Op)(nil)
	f32T        = G.Float32
)

func typeOf(rank int) hm.Type {
	if rank == 0 {
		return f32T
	}
	return G.TensorType{Dims: rank, Of: f32T}
}

// Arity implements gorgonia.Op.
func (o *Op) Arity() int { return len(o.InDims) }

// Type implements gorgonia.Op.
func (o *Op) Type() hm.Type {
	ts := make([]hm.Type, 0, len(o.InDims)+1)
	for _, d := range o.InDims {
		ts = append(ts, typeOf(d))
	}
	ts = append(ts, typeOf(o.OutDim))
	return hm.NewFnType(ts...)
}

// InferShape implements gorgonia.Op.
func (o *Op) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	shapes := make([]tensor.Shape, len(ds))
	for i, d := range ds {
		s, ok := d.(tensor.Shape)
		if !ok {
			return nil, fmt.Errorf("%s: input %d has no shape (%T)", o.Name, i, d)
		}
		shapes[i] = s
	}
	return o.Out(shapes)
}

// Do runs the forward pass on Gorgonia values.
func (o *Op) Do(vals ...G.Value) (v G.Value, err error) {
	// Gorgonia runs ops on its own goroutine; a kernel bug must come back
	// as an error, not take the process down.
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("%s: internal error: %v", o.Name, r)
		}
	}()
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
			return nil, fmt.Errorf("%s: input %d: unsupported value %T", o.Name, i, v)
		}
	}
	outShape, err := o.Out(shapes)
	if err != nil {
		return nil, err
	}
	if o.OutDim == 0 {
		out := []float32{0}
		if err := o.Fn(in, shapes, out); err != nil {
			return nil, err
		}
		return G.NewF32(out[0]), nil
	}
	var out []float32
	if o.Alloc != nil {
		out = o.Alloc(outShape.TotalSize())
	} else {
		out = make([]float32, outShape.TotalSize())
	}
	if err := o.Fn(in, shapes, out); err != nil {
		return nil, err
	}
	return tensor.New(tensor.WithShape(outShape...), tensor.WithBacking(out)), nil
}

// ReturnsPtr implements gorgonia.Op.
func (o *Op) ReturnsPtr() bool { return false }

// CallsExtern implements gorgonia.Op.
func (o *Op) CallsExtern() bool { return false }

// OverwritesInput implements gorgonia.Op.
func (o *Op) OverwritesInput() int { return -1 }

// String implements gorgonia.Op.
func (o *Op) String() string { return fmt.Sprintf("%s#%d", o.Name, o.ID) }

// WriteHash implements gorgonia.Op.
func (o *Op) WriteHash(h hash.Hash) { fmt.Fprintf(h, "zoo.%s#%d", o.Name, o.ID) }

// Hashcode implements gorgonia.Op.
func (o *Op) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

// DiffWRT implements gorgonia.Op.
func (o *Op) DiffWRT(n int) []bool {
	w := make([]bool, n)
	if o.Diff != nil {
		for i := range w {
			w[i] = i >= len(o.NoGrad) || !o.NoGrad[i]
		}
	}
	return w
}

// SymDiff implements gorgonia.Op.
func (o *Op) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if o.Diff == nil {
		return nil, fmt.Errorf("%s is not differentiable", o.Name)
	}
	return o.Diff(inputs, output, grad)
}
