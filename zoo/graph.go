package zoo

import (
	"fmt"
	"github.com/fmixzoo/zoo/internal/arena"
	"github.com/fmixzoo/zoo/internal/funcop"
	"github.com/fmixzoo/zoo/kernels"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// tgraph is a Gorgonia graph of a Net for one batch size, in training mode
// (batch statistics, ShakeDrop gates, loss and gradients) or eval mode.
type tgraph struct {
	net    *Net
	g      *G.ExprGraph
	batch  int
	train  bool
	x      *G.Node
	t      *G.Node // soft targets, training only
	logits *G.Node
	loss   *G.Node
	pnodes []*G.Node // one per net.params
	grads  G.Nodes
	vm     G.VM
	rng    *rand.Rand
	nextID int
	arena  *arena.Arena
	grad   *gradGraph // eval-mode gradients (Net.Gradients); nil otherwise
}

func (tg *tgraph) op(name string, inDims []int, out tensor.Shape, do func(in [][]float32, out []float32) error) *funcop.Op {
	tg.nextID++
	outDim := len(out)
	return &funcop.Op{
		Name: name, ID: tg.nextID, InDims: inDims, OutDim: outDim,
		Out: func([]tensor.Shape) (tensor.Shape, error) { return out.Clone(), nil },
		Fn: func(in [][]float32, _ []tensor.Shape, o []float32) error {
			return do(in, o)
		},
	}
}

func apply(o *funcop.Op, in ...*G.Node) (*G.Node, error) {
	n, err := G.ApplyOp(o, in...)
	if err != nil {
		return nil, fmt.Errorf("zoo: graph: %s: %w", o.Name, err)
	}
	return n, nil
}

// newGraph builds the network's graph for a batch size: training (loss and
// parameter gradients), eval, or with gs set eval plus the gradients
// Net.Gradients asks for.
func (n *Net) newGraph(batch int, train bool, seed uint64, gs *gradSpec) (*tgraph, error) {
	tg := &tgraph{net: n, g: G.NewGraph(), batch: batch, train: train, rng: rand.New(rand.NewPCG(seed, 17))}
	if gs != nil {
		tg.grad = &gradGraph{spec: *gs}
	}
	in := append([]int{batch}, n.input...)
	tg.x = G.NewTensor(tg.g, G.Float32, 4, G.WithShape(in...), G.WithName(InputName))
	pnode := map[string]*G.Node{}
	for _, p := range n.params {
		v := tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(p.Value))
		node := G.NewTensor(tg.g, G.Float32, len(p.Shape), G.WithShape(p.Shape...), G.WithName(p.Name), G.WithValue(v))
		tg.pnodes = append(tg.pnodes, node)
		pnode[p.Name] = node
	}
	values := []*G.Node{tg.x}
	shapes := []tensor.Shape{tensor.Shape(in)}
	// A BatchNorm whose only reader is the next layer, a ReLU, becomes one
	// op with it (value i+1 is layer i's output).
	readers := make([]int, len(n.layers)+1)
	for _, l := range n.layers {
		for _, v := range l.In {
			readers[v]++
		}
	}
	for i := 0; i < len(n.layers); i++ {
		l := n.layers[i]
		ins := make([]*G.Node, len(l.In))
		inShapes := make([]tensor.Shape, len(l.In))
		for j, v := range l.In {
			ins[j], inShapes[j] = values[v], shapes[v]
		}
		if l.Kind == BatchNorm && i+1 < len(n.layers) && readers[i+1] == 1 && !tg.wants(i+1) &&
			n.layers[i+1].Kind == ReLU && len(n.layers[i+1].In) == 1 && n.layers[i+1].In[0] == i+1 {
			out, shape, err := tg.batchNorm(l, ins[0], inShapes[0], pnode, true)
			if err != nil {
				return nil, fmt.Errorf("zoo: %s layer %d (%v %s): %w", n.arch, i, l.Kind, l.Name, err)
			}
			// The BatchNorm's own output is never read; the ReLU's is out.
			values, shapes = append(values, nil, out), append(shapes, shape, shape)
			i++
			continue
		}
		out, shape, err := tg.layer(l, ins, inShapes, pnode, l.In[0] == 0 && !tg.inputGrad())
		if err != nil {
			return nil, fmt.Errorf("zoo: %s layer %d (%v %s): %w", n.arch, i, l.Kind, l.Name, err)
		}
		values, shapes = append(values, out), append(shapes, shape)
	}
	tg.logits = values[len(values)-1]
	if s := shapes[len(shapes)-1]; len(s) != 2 || s[1] != n.args.NumClasses {
		return nil, fmt.Errorf("zoo: %s: logits have shape %v, want [%d %d]", n.arch, s, batch, n.args.NumClasses)
	}
	if tg.grad != nil {
		if err := tg.gradients(values, shapes); err != nil {
			return nil, fmt.Errorf("zoo: %s: gradients: %w", n.arch, err)
		}
	} else if train {
		classes := n.args.NumClasses
		tg.t = G.NewTensor(tg.g, G.Float32, 2, G.WithShape(batch, classes), G.WithName("targets"))
		var err error
		if tg.loss, err = tg.lossNode(tg.logits, tg.t, batch, classes); err != nil {
			return nil, err
		}
		if tg.grads, err = G.Grad(tg.loss, tg.pnodes...); err != nil {
			return nil, fmt.Errorf("zoo: %s: gradients: %w", n.arch, err)
		}
	}
	keep := append(G.Nodes{tg.logits, tg.loss}, tg.grads...)
	if tg.grad != nil {
		keep = append(keep, tg.grad.keep()...)
	}
	tg.arena = newOpArena(tg.g, keep...)
	tg.vm = G.NewTapeMachine(tg.g)
	return tg, nil
}

func (tg *tgraph) lossNode(logits, targets *G.Node, batch, classes int) (*G.Node, error) {
	dz := make([]float32, batch*classes)
	o := tg.op("SoftmaxCrossEntropy", []int{2, 2}, tensor.ScalarShape(), func(in [][]float32, out []float32) error {
		out[0] = kernels.SoftmaxCrossEntropy(batch, classes, in[0], in[1], dz)
		return nil
	})
	o.NoGrad = []bool{false, true}
	o.Diff = tg.dzGrad("SoftmaxCrossEntropyGrad", dz, batch, classes)
	return apply(o, logits, targets)
}

// dzGrad is the derivative of a scalar op of (logits, targets) whose
// forward pass leaves its gradient with respect to the logits in dz
// (batch × classes): dz times the incoming gradient, none for the targets.
func (tg *tgraph) dzGrad(name string, dz []float32, batch, classes int) func(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return func(_ G.Nodes, output, grad *G.Node) (G.Nodes, error) {
		// output is an input only to order this after the forward pass,
		// whose dz it reads.
		b := tg.op(name, []int{0, 0}, tensor.Shape{batch, classes}, func(in [][]float32, out []float32) error {
			for i, v := range dz {
				out[i] = v * in[1][0]
			}
			return nil
		})
		d, err := apply(b, output, grad)
		return G.Nodes{d, nil}, err
	}
}
