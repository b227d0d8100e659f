package zoo

import (
	"github.com/fmixzoo/zoo/internal/arena"
	"github.com/fmixzoo/zoo/internal/funcop"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// fullWriters are the ops whose kernels overwrite their whole output, so
// their recycled buffers need no clearing.
var fullWriters = map[string]bool{
	"Add": true, "Conv": true, "ConvGradData": true, "ConvGradFilter": true,
	"BatchNormTrain": true, "BatchNormGrad": true, "ReLU": true, "ReLUGrad": true,
}

// newOpArena hooks every funcop op of g to an arena that recycles their
// output buffers (internal/arena): a value goes back to the free list once
// every funcop op reading it has run. Values that Gorgonia's own ops read
// (gradient sums, which may write in place) and keep, the values the
// caller reads after a pass, are held to the end of the pass. The caller
// resets the arena before each pass.
func newOpArena(g *G.ExprGraph, keep ...*G.Node) *arena.Arena {
	a := &arena.Arena{}
	st := map[*funcop.Op]*arena.Slot{}
	nodes := g.AllNodes()
	for _, n := range nodes {
		if o, ok := n.Op().(*funcop.Op); ok {
			st[o] = a.NewSlot(0, fullWriters[o.Name])
		}
	}
	for _, n := range nodes {
		_, readerIsFuncop := n.Op().(*funcop.Op)
		for _, ch := range children(g, n) {
			po, ok := ch.Op().(*funcop.Op)
			if !ok {
				continue
			}
			s := st[po]
			switch {
			case !readerIsFuncop:
				s.Readers = -1
			case s.Readers >= 0:
				s.Readers++
			}
		}
	}
	for _, k := range keep {
		if k == nil {
			continue
		}
		if o, ok := k.Op().(*funcop.Op); ok {
			st[o].Readers = -1
		}
	}
	for _, n := range nodes {
		o, ok := n.Op().(*funcop.Op)
		if !ok {
			continue
		}
		self := st[o]
		var producers []*arena.Slot
		for _, ch := range children(g, n) {
			if po, ok := ch.Op().(*funcop.Op); ok {
				producers = append(producers, st[po])
			}
		}
		fn := o.Fn
		o.Fn = func(in [][]float32, shapes []tensor.Shape, out []float32) error {
			err := fn(in, shapes, out)
			for _, p := range producers {
				a.Read(p)
			}
			return err
		}
		o.Alloc = func(n int) []float32 { return a.Alloc(self, n) }
	}
	return a
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
