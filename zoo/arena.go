package zoo

import (
	"math"

	"github.com/fmixzoo/zoo/internal/gop"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// opArena recycles the output buffers of a graph's gop ops. A buffer goes
// back to the free list once every op that reads it has run in this pass
// of the graph; at the start of the next pass every buffer is free again.
// Values that Gorgonia's own ops read (gradient sums, which may write in
// place) and the values the caller reads after a pass are never recycled
// within a pass. This keeps a training step from allocating (and the
// runtime from zeroing) a gigabyte of fresh tensors every time.
type opArena struct {
	all  []*opState
	free [][]float32
}

type opState struct {
	readers int // reads by gop ops per pass; -1: kept until the pass ends
	left    int
	buf     []float32
	full    bool // the op writes every element of its output: no zeroing
}

// poisonRecycled makes tests fill recycled buffers of full writers with
// NaN, so an op that leaves part of its output unwritten shows.
var poisonRecycled = false

func fillNaN(b []float32) {
	nan := float32(math.NaN())
	for i := range b {
		b[i] = nan
	}
}

// fullWriters are the ops whose kernels overwrite their whole output, so
// their recycled buffers need no clearing.
var fullWriters = map[string]bool{
	"Add": true, "Conv": true, "ConvGradData": true, "ConvGradFilter": true,
	"BatchNormTrain": true, "BatchNormGrad": true, "ReLU": true, "ReLUGrad": true,
}

// newOpArena hooks every gop op of g to an arena; keep are the nodes read
// after a pass.
func newOpArena(g *G.ExprGraph, keep ...*G.Node) *opArena {
	a := &opArena{}
	st := map[*gop.Op]*opState{}
	nodes := g.AllNodes()
	for _, n := range nodes {
		if o, ok := n.Op().(*gop.Op); ok {
			st[o] = &opState{full: fullWriters[o.Name]}
			a.all = append(a.all, st[o])
		}
	}
	for _, n := range nodes {
		_, readerIsGop := n.Op().(*gop.Op)
		for _, ch := range children(g, n) {
			po, ok := ch.Op().(*gop.Op)
			if !ok {
				continue
			}
			s := st[po]
			switch {
			case !readerIsGop:
				s.readers = -1
			case s.readers >= 0:
				s.readers++
			}
		}
	}
	for _, k := range keep {
		if k == nil {
			continue
		}
		if o, ok := k.Op().(*gop.Op); ok {
			st[o].readers = -1
		}
	}
	for _, n := range nodes {
		o, ok := n.Op().(*gop.Op)
		if !ok {
			continue
		}
		self := st[o]
		var producers []*opState
		for _, ch := range children(g, n) {
			if po, ok := ch.Op().(*gop.Op); ok {
				producers = append(producers, st[po])
			}
		}
		fn := o.Fn
		o.Fn = func(in [][]float32, shapes []tensor.Shape, out []float32) error {
			err := fn(in, shapes, out)
			for _, p := range producers {
				a.read(p)
			}
			return err
		}
		o.Alloc = func(n int) []float32 { return a.alloc(self, n) }
	}
	return a
}

// reset starts a pass: every buffer is free.
func (a *opArena) reset() {
	for _, s := range a.all {
		if s.buf != nil {
			a.free = append(a.free, s.buf)
			s.buf = nil
		}
		s.left = s.readers
	}
}

// alloc hands s a buffer of n floats, zeroed unless s.full: the smallest free one that
// fits, or a new one.
func (a *opArena) alloc(s *opState, n int) []float32 {
	best := -1
	for i, b := range a.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(a.free[best])) {
			best = i
		}
	}
	if best < 0 {
		s.buf = make([]float32, n)
		return s.buf
	}
	b := a.free[best][:n]
	a.free[best] = a.free[len(a.free)-1]
	a.free = a.free[:len(a.free)-1]
	switch {
	case !s.full:
		clear(b)
	case poisonRecycled:
		fillNaN(b)
	}
	s.buf = b
	return b
}

// read records one read of s's value; the last frees its buffer.
func (a *opArena) read(s *opState) {
	if s.left <= 0 {
		return
	}
	if s.left--; s.left == 0 && s.buf != nil {
		a.free = append(a.free, s.buf)
		s.buf = nil
	}
}

// children returns n's inputs in order, repeats included.
func children(g *G.ExprGraph, n *G.Node) []*G.Node {
	var out []*G.Node
	it := g.From(n.ID())
	for it != nil && it.Next() {
		if c, ok := it.Node().(*G.Node); ok {
			out = append(out, c)
		}
	}
	return out
}
