package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/fmixzoo/zoo/internal/arena"
	"github.com/fmixzoo/zoo/internal/funcop"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// value is one tensor of a plan: a constant (folded at compile time, float
// or int64) or a runtime float tensor computed by a step.
type value struct {
	shape []int
	f     []float32 // constant float data
	i     []int64   // constant int data
	isInt bool
	konst bool
	step  *step // producer of a runtime value; nil for graph inputs
	input int   // graph input index of a runtime input, else -1
	uses  int   // runtime consumers
	// parts, on a runtime Concat's output along axis 1, are the values
	// concatenated, nested Concats along that axis flattened: an operation
	// that can read the parts in place of their concatenation (Concat,
	// BatchNormalization) does, and a Concat that nothing else reads is
	// then never run (see prune). DenseNet's dense layers each concatenate
	// a few new channels onto a growing map that only a BatchNormalization
	// reads, which copied the whole map once per layer.
	parts []*value
	// pending, during compile, is how many reads of a runtime value by
	// operations not yet compiled (or as a graph output) are still to
	// come: 0 while an operation compiles makes it the value's last reader.
	pending int
	// pointwise, on a runtime 1×1 Conv's output, is that Conv, which an
	// average pool reading the output last may run after itself (see
	// poolFirst).
	pointwise *pointwise
	// affine, on an inference BatchNormalization's output, is that map,
	// which an average pool reading the output last applies itself (see
	// affinePool).
	affine *channelAffine
}

func constF(shape []int, f []float32) *value {
	return &value{shape: shape, f: f, konst: true, input: -1}
}
func constI(shape []int, i []int64) *value {
	return &value{shape: shape, i: i, isInt: true, konst: true, input: -1}
}

func (v *value) size() int { return shapeSize(v.shape) }

func shapeSize(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// kernel computes a step's output from its inputs' data.
type kernel func(in [][]float32, out []float32)

// step is one runtime operation of a plan.
type step struct {
	name string
	in   []*value // runtime or constant inputs
	out  *value
	fn   kernel
	full bool // fn writes every element of its output, so it needs no zeroing
}

// plan is a graph compiled for one set of input shapes.
type plan struct {
	inputs  []*value
	outputs []*value
	steps   []*step
	pool    chan *instance
}

// instance is one Gorgonia ExprGraph and VM of a plan; a caller holds it
// for the duration of one Run.
type instance struct {
	inputs  []*G.Node
	outputs []*G.Node // nil where the output is a constant or an input
	vm      G.VM
	arena   *arena.Arena // the steps' output buffers, recycled between and within runs
	run     *runState
}

// runState is what an instance's steps read of the current Run. The steps
// hold it, never the instance: a step referring to its instance would close
// a cycle through Gorgonia's tape machine, which has a finalizer, and such a
// cycle is never collected — every instance dropped from its pool or with
// its plan stayed in memory (35 KB a request for lenet under zoo-serve).
type runState struct {
	// ctx is the current Run's context, checked before each step so that
	// a run stops within one step of its deadline.
	ctx context.Context
}

// compile plans the graph for concrete input shapes: it infers every
// shape, folds everything that does not depend on the inputs (all shape
// arithmetic among it) and keeps the rest as steps. Every tensor's size is
// checked before it is allocated (maxValueSize), ctx is checked between
// nodes, and a panic (a bug, on a hostile model) is returned as an error.
func compile(ctx context.Context, g *graphDef, opset int64, shapes [][]int) (p *plan, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("engine: compile: internal error: %v", r)
		}
	}()
	env := map[string]*value{}
	for k, v := range g.consts {
		env[k] = v
	}
	p = &plan{pool: make(chan *instance, 64)}
	reads := map[string]int{} // by operations, and once more for a graph output
	for _, rec := range g.ops {
		if rec.op.Name != "Constant" {
			for _, name := range rec.inputs {
				reads[name]++
			}
		}
	}
	for _, name := range g.outputs {
		reads[name]++
	}
	for i, name := range g.inputs {
		v := &value{shape: shapes[i], input: i, pending: reads[name]}
		env[name] = v
		p.inputs = append(p.inputs, v)
	}
	c := &opCtx{opset: opset}
	for n, rec := range g.ops {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("engine: compile: stopped at node %d of %d: %w", n, len(g.ops), err)
		}
		inputs := rec.inputs
		if rec.op.Name == "Constant" {
			inputs = nil // onnx-go gives input-less nodes a fake input
		}
		in := make([]*value, len(inputs))
		for j, name := range inputs {
			if name == "" {
				continue
			}
			v, ok := env[name]
			if !ok {
				return nil, fmt.Errorf("%w: %s node reads %q, which no initializer, input or earlier node provides", ErrMalformed, rec.op.Name, name)
			}
			in[j] = v
			if !v.konst {
				v.pending--
			}
		}
		c.node = rec
		outs, err := ops[rec.op.Name](c, attrs(rec.op.Attributes), in)
		if err == nil {
			err = c.err
		}
		if err != nil {
			return nil, fmt.Errorf("engine: %s (outputs %s): %w", rec.op.Name, outputNames(rec.outputs), err)
		}
		for j, name := range rec.outputs {
			if j >= len(outs) || outs[j] == nil {
				continue
			}
			if _, err := checkedSize(outs[j].shape); err != nil {
				return nil, fmt.Errorf("engine: %s output %q: %w", rec.op.Name, name, err)
			}
			if name != "" {
				env[name] = outs[j]
				if !outs[j].konst {
					outs[j].pending += reads[name]
				}
			}
		}
		p.steps = append(p.steps, c.steps...)
		c.steps = nil
		if len(p.steps) > maxSteps {
			return nil, fmt.Errorf("engine: compile: %w: more than %d runtime operations (node %d of %d)", errTooLarge, maxSteps, n, len(g.ops))
		}
	}
	for _, name := range g.outputs {
		v, ok := env[name]
		if !ok {
			return nil, fmt.Errorf("%w: output %q is never computed", ErrMalformed, name)
		}
		p.outputs = append(p.outputs, v)
	}
	p.prune()
	return p, nil
}

// prune drops the steps whose outputs no later step reads and no graph
// output names (Concats read only through their parts), last first, so
// that a step read only by dropped ones goes too.
func (p *plan) prune() {
	output := map[*value]bool{}
	for _, v := range p.outputs {
		output[v] = true
	}
	dead := map[*step]bool{}
	for i := len(p.steps) - 1; i >= 0; i-- {
		s := p.steps[i]
		if s.out.uses > 0 || output[s.out] {
			continue
		}
		dead[s] = true
		for _, v := range s.in {
			if v != nil && !v.konst {
				v.uses--
			}
		}
	}
	if len(dead) == 0 {
		return
	}
	kept := p.steps[:0:0]
	for _, s := range p.steps {
		if !dead[s] {
			kept = append(kept, s)
		}
	}
	p.steps = kept
}

// outputNames formats a node's output names for an error message, at most
// four of them.
func outputNames(names []string) string {
	if len(names) > 4 {
		return fmt.Sprintf("%q and %d more", names[:4], len(names)-4)
	}
	return fmt.Sprintf("%q", names)
}

// longLived is the number of steps after which a value still read is
// long-lived (arena.Slot.Tight): a DenseNet layer's output, read by every
// later layer of its block, is; a residual shortcut, read a few steps
// on, is not.
const longLived = 8

// stepTimer, when set, is told how long each step of a run took, with
// its output's shape and its second input's (a Conv's weights): the step
// profile of step_profile_test.go. Nil outside that test.
var stepTimer func(op string, out, second []int, d time.Duration)

// newInstance builds the plan's Gorgonia graph: graph inputs are input
// nodes, each step a funcop.Op applied to the nodes of its runtime inputs.
func (p *plan) newInstance() (*instance, error) {
	g := G.NewGraph()
	inst := &instance{arena: &arena.Arena{}, run: &runState{}}
	rs := inst.run
	nodes := map[*value]*G.Node{}
	// Which step produces each runtime value, and how often it is read:
	// step outputs live in the instance's arena (plan outputs to the end).
	stepOf := make(map[*value]int, len(p.steps))
	outSlots := make([]*arena.Slot, len(p.steps))
	for id, s := range p.steps {
		stepOf[s.out] = id
		outSlots[id] = inst.arena.NewSlot(0, s.full)
	}
	for r, s := range p.steps {
		for _, v := range s.in {
			if id, ok := stepOf[v]; ok && v != nil && !v.konst {
				outSlots[id].Readers++
				outSlots[id].Tight = outSlots[id].Tight || r-id > longLived
			}
		}
	}
	for _, v := range p.outputs {
		if id, ok := stepOf[v]; ok {
			outSlots[id].Readers = -1
		}
	}
	// The steps whose outputs each step reads, once per read; the arena
	// gets the buffers a run needs before the first one.
	readsOf := make([][]*arena.Slot, len(p.steps))
	for id, s := range p.steps {
		for _, v := range s.in {
			if pid, ok := stepOf[v]; ok && v != nil && !v.konst {
				readsOf[id] = append(readsOf[id], outSlots[pid])
			}
		}
	}
	inst.arena.Presize(func(alloc func(*arena.Slot, int), read func(*arena.Slot)) {
		for id, s := range p.steps {
			alloc(outSlots[id], s.out.size())
			for _, r := range readsOf[id] {
				read(r)
			}
		}
	})
	for i, v := range p.inputs {
		var n *G.Node
		if len(v.shape) == 0 {
			n = G.NewScalar(g, G.Float32, G.WithName(fmt.Sprintf("input%d", i)))
		} else {
			n = G.NewTensor(g, G.Float32, len(v.shape), G.WithShape(v.shape...), G.WithName(fmt.Sprintf("input%d", i)))
		}
		nodes[v] = n
		inst.inputs = append(inst.inputs, n)
	}
	for id, s := range p.steps {
		s := s
		var args []*G.Node
		var dims []int
		var slots []int // for each of s.in: index into the funcop's inputs, or -1 for constants
		for _, v := range s.in {
			if v == nil || v.konst {
				slots = append(slots, -1)
				continue
			}
			n, ok := nodes[v]
			if !ok {
				return nil, fmt.Errorf("engine: step %s reads a value no earlier step produced", s.name)
			}
			slots = append(slots, len(args))
			args = append(args, n)
			dims = append(dims, len(v.shape))
		}
		if len(args) == 0 {
			return nil, fmt.Errorf("engine: step %s has no runtime input", s.name)
		}
		ar, self, producers := inst.arena, outSlots[id], readsOf[id]
		consts := make([][]float32, len(s.in))
		for j, v := range s.in {
			if v != nil && v.konst {
				consts[j] = v.floats()
			}
		}
		outShape := tensor.Shape(append([]int(nil), s.out.shape...))
		o := &funcop.Op{
			Name: s.name, ID: id + 1, InDims: dims, OutDim: len(s.out.shape),
			Out: func([]tensor.Shape) (tensor.Shape, error) { return outShape.Clone(), nil },
			Fn: func(in [][]float32, _ []tensor.Shape, out []float32) error {
				if err := rs.ctx.Err(); err != nil {
					return err
				}
				data := make([][]float32, len(s.in))
				for j, v := range s.in {
					switch {
					case slots[j] >= 0:
						data[j] = in[slots[j]]
					case v != nil:
						data[j] = consts[j]
					}
				}
				if st := stepTimer; st != nil {
					t0 := time.Now()
					s.fn(data, out)
					var w []int
					if len(s.in) > 1 && s.in[1] != nil {
						w = s.in[1].shape
					}
					st(s.name, s.out.shape, w, time.Since(t0))
				} else {
					s.fn(data, out)
				}
				for _, p := range producers {
					ar.Read(p)
				}
				return nil
			},
			Alloc: func(n int) []float32 { return ar.Alloc(self, n) },
		}
		n, err := G.ApplyOp(o, args...)
		if err != nil {
			return nil, fmt.Errorf("engine: build %s: %w", s.name, err)
		}
		nodes[s.out] = n
	}
	for _, v := range p.outputs {
		inst.outputs = append(inst.outputs, nodes[v])
	}
	if len(p.steps) > 0 {
		inst.vm = G.NewTapeMachine(g)
	}
	return inst, nil
}

func (p *plan) run(ctx context.Context, inputs []Tensor) ([]Tensor, error) {
	var inst *instance
	select {
	case inst = <-p.pool:
	default:
		var err error
		if inst, err = p.newInstance(); err != nil {
			return nil, err
		}
	}
	if inst.vm != nil {
		inst.run.ctx = ctx // cleared by put
		inst.arena.Reset()
		for i, n := range inst.inputs {
			var bound any = tensor.New(tensor.WithShape(inputs[i].Shape...), tensor.WithBacking(inputs[i].Data))
			if len(inputs[i].Shape) == 0 {
				bound = inputs[i].Data[0]
			}
			if err := G.Let(n, bound); err != nil {
				return nil, fmt.Errorf("engine: bind input %d: %w", i, err)
			}
		}
		err := inst.vm.RunAll()
		if cerr := ctx.Err(); cerr != nil {
			err = cerr // the steps stop at the first check after it ends
		}
		if err != nil {
			inst.vm.Reset()
			p.put(inst)
			return nil, fmt.Errorf("engine: run: %w", err)
		}
	}
	out := make([]Tensor, len(p.outputs))
	for i, v := range p.outputs {
		out[i] = Tensor{Shape: append([]int(nil), v.shape...)}
		switch {
		case v.konst && v.isInt:
			out[i].Data = make([]float32, len(v.i))
			for j, x := range v.i {
				out[i].Data[j] = float32(x)
			}
		case v.konst:
			out[i].Data = append([]float32(nil), v.f...)
		case v.input >= 0:
			out[i].Data = append([]float32(nil), inputs[v.input].Data...)
		default:
			out[i].Data = append([]float32(nil), valueData(inst.outputs[i].Value())...)
		}
	}
	// Reset before the instance goes back to the pool, where another run
	// may take it at once (a deferred Reset raced with that run).
	if inst.vm != nil {
		inst.vm.Reset()
	}
	p.put(inst)
	return out, nil
}

// put returns inst to the pool, without the context of the run that held
// it (a request's context must not outlive the request in the pool).
func (p *plan) put(inst *instance) {
	if inst.run != nil {
		inst.run.ctx = nil
	}
	select {
	case p.pool <- inst:
	default:
	}
}

func valueData(v G.Value) []float32 {
	switch t := v.(type) {
	case *tensor.Dense:
		return t.Float32s()
	case *G.F32:
		return []float32{float32(*t)}
	}
	return nil
}
