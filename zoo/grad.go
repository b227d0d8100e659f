package zoo

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/fmixzoo/zoo/kernels"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ErrUnknownLayer reports a layer name that the network does not have;
// the error's text lists the names it has (Net.LayerNames).
var ErrUnknownLayer = errors.New("zoo: unknown layer")

// GradOptions chooses what Net.Gradients differentiates and with respect to
// what.
type GradOptions struct {
	// Classes has one class per batch row. The objective, summed over the
	// batch (not averaged), is the class score Σ_b logits[b, Classes[b]],
	// or with CrossEntropy the softmax cross-entropy
	// Σ_b −log softmax(logits[b])[Classes[b]] (foolbox's attacks' loss).
	Classes      []int
	CrossEntropy bool
	// Top1, used when Classes is nil, takes each row's highest logit as
	// its class (in the same pass); Gradients.Classes reports them.
	Top1 bool
	// Seed, used when Classes is nil, makes the objective the weighted sum
	// Σ_{b,c} Seed[b·classes+c]·logits[b, c] (batch × classes values): for
	// example onehot(k) − onehot(y) for DeepFool's logit differences.
	Seed []float32
	// Input asks for the gradient with respect to the input x.
	Input bool
	// Layer names an activation (see Net.LayerNames; "" for none) whose
	// value and gradient Gradients returns.
	Layer string
}

// Gradients is the result of Net.Gradients. Every slice is freshly
// allocated and belongs to the caller.
type Gradients struct {
	Logits   []float32 // batch × classes, eval mode
	Input    []float32 // ∂objective/∂x, the layout of x; nil unless GradOptions.Input
	Act      []float32 // the layer's activation, row-major in ActShape; nil without a layer
	ActGrad  []float32 // ∂objective/∂Act, the layout of Act
	ActShape []int     // the activation's shape, batch first (N, C, H, W for convolutional layers)
	Classes  []int     // each row's class (GradOptions.Classes or the top-1); nil for a seed
}

// maxGradGraphs bounds the gradient graphs a Net keeps compiled (one per
// batch size, layer and objective).
const maxGradGraphs = 4

// Gradients evaluates the network in eval mode (BatchNorm on its running
// statistics, ShakeDrop scaled by 1−p, exactly as Forward and the ONNX
// export) on x (batch × C × H × W, the network's normalised input) and
// back-propagates the objective that o chooses to the input and/or to a
// named layer's activation. It differentiates through the training graph's
// ops; no parameter gradient is computed and Param.Grad is left alone.
//
// The graph of each (batch size, layer, input, objective) is built on first
// use and kept (a few at most). Like every Net method it is not safe for
// concurrent use.
func (n *Net) Gradients(x []float32, batch int, o GradOptions) (*Gradients, error) {
	if err := n.checkBatch(x, batch); err != nil {
		return nil, err
	}
	classes := n.args.NumClasses
	t := make([]float32, batch*classes)
	switch {
	case o.Classes != nil:
		if len(o.Classes) != batch {
			return nil, fmt.Errorf("%w: %d classes for a batch of %d", ErrInput, len(o.Classes), batch)
		}
		for b, c := range o.Classes {
			if c < 0 || c >= classes {
				return nil, fmt.Errorf("%w: class %d of row %d is outside [0, %d)", ErrInput, c, b, classes)
			}
			t[b*classes+c] = 1
		}
	case o.CrossEntropy && !o.Top1:
		return nil, fmt.Errorf("%w: the cross-entropy objective needs Classes or Top1", ErrInput)
	case o.Top1:
	case o.Seed == nil:
		return nil, fmt.Errorf("%w: no objective: set Classes, Top1 or Seed", ErrInput)
	case len(o.Seed) != batch*classes:
		return nil, fmt.Errorf("%w: seed has %d values for a batch of %d × %d classes", ErrInput, len(o.Seed), batch, classes)
	default:
		copy(t, o.Seed)
	}
	spec := gradSpec{batch: batch, input: o.Input, layer: -1, crossEntropy: o.CrossEntropy, top1: o.Classes == nil && o.Top1}
	if o.Layer != "" {
		v, err := n.layerValue(o.Layer)
		if err != nil {
			return nil, err
		}
		spec.layer = v
	}
	if !o.Input && spec.layer < 0 {
		return nil, fmt.Errorf("%w: nothing to differentiate (neither Input nor Layer)", ErrInput)
	}
	st := n.state()
	tg, ok := st.grad[spec]
	if !ok {
		var err error
		if tg, err = n.newGraph(batch, false, 0, &spec); err != nil {
			return nil, err
		}
		if st.grad == nil || len(st.grad) >= maxGradGraphs {
			st.grad = map[gradSpec]*tgraph{}
		}
		st.grad[spec] = tg
	}
	gg := tg.grad
	if err := G.Let(tg.x, tensor.New(tensor.WithShape(tg.x.Shape()...), tensor.WithBacking(x))); err != nil {
		return nil, fmt.Errorf("zoo: gradients: %w", err)
	}
	if err := G.Let(gg.seed, tensor.New(tensor.WithShape(batch, classes), tensor.WithBacking(t))); err != nil {
		return nil, fmt.Errorf("zoo: gradients: %w", err)
	}
	defer tg.vm.Reset()
	tg.arena.Reset()
	if err := tg.vm.RunAll(); err != nil {
		return nil, fmt.Errorf("zoo: gradients: %w", err)
	}
	var r Gradients
	var err error
	if r.Logits, err = nodeData(tg.logits); err != nil {
		return nil, err
	}
	switch {
	case o.Classes != nil:
		r.Classes = append([]int(nil), o.Classes...)
	case spec.top1:
		r.Classes = make([]int, batch)
		for b := range r.Classes {
			r.Classes[b] = kernels.Argmax(r.Logits[b*classes : (b+1)*classes])
		}
	}
	if gg.dx != nil {
		if r.Input, err = nodeData(gg.dx); err != nil {
			return nil, err
		}
	}
	if gg.act != nil {
		if r.Act, err = nodeData(gg.act); err != nil {
			return nil, err
		}
		if r.ActGrad, err = nodeData(gg.dact); err != nil {
			return nil, err
		}
		r.ActShape = append([]int(nil), gg.actShape...)
	}
	return &r, nil
}

// nodeData copies a node's value after a pass.
func nodeData(n *G.Node) ([]float32, error) {
	v, ok := n.Value().(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("zoo: gradients: %s is %T", n.Name(), n.Value())
	}
	return append([]float32(nil), v.Float32s()...), nil
}

// LayerNames lists the names Gradients and GradCAM accept, in graph order.
// They are PyTorch module names, and each means that module's output:
// stages and blocks (preact_resnet18 and the torchvision ResNets: layer1 …
// layer4 and layer4.1 etc.; pyramidnet: layer1 … layer3 and their blocks;
// wrn: block1 … block3 and block3.layer.N; densenet_bc: block1 … block3,
// trans1, trans2 and the dense layers block3.layer.N) and every
// convolution, BatchNorm and linear layer by its state-dict prefix
// (lenet: conv1, conv2, fc1, fc2).
func (n *Net) LayerNames() []string {
	seen := map[string]bool{}
	type named struct {
		name string
		v    int
	}
	var all []named
	for name, v := range n.named {
		seen[name] = true
		all = append(all, named{name, v})
	}
	for i, l := range n.layers {
		if l.Name != "" && !seen[l.Name] {
			seen[l.Name] = true
			all = append(all, named{l.Name, i + 1})
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].v != all[j].v {
			return all[i].v < all[j].v
		}
		// A stage ends where its last block does: the block first.
		return len(all[i].name) > len(all[j].name)
	})
	names := make([]string, len(all))
	for i, a := range all {
		names[i] = a.name
	}
	return names
}

// CAMLayer is the layer Grad-CAM explains by default: the output of the
// last convolutional stage (layer4 for preact_resnet18 and the torchvision
// ResNets, layer3 for pyramidnet, block3 for wrn and densenet_bc, conv2 for
// lenet).
func (n *Net) CAMLayer() string { return n.camLayer }

// layerValue resolves a layer name to its value number.
func (n *Net) layerValue(name string) (int, error) {
	if v, ok := n.named[name]; ok {
		return v, nil
	}
	for i, l := range n.layers {
		if l.Name == name {
			return i + 1, nil
		}
	}
	var stages []string
	for _, name := range n.LayerNames() {
		if !strings.Contains(name, ".") {
			stages = append(stages, name)
		}
	}
	return 0, fmt.Errorf("%w %q in %s (its stages are %s; their blocks and every convolution, BatchNorm and linear layer go by their state-dict names)",
		ErrUnknownLayer, name, n.arch, strings.Join(stages, ", "))
}

// gradSpec is what a gradient graph computes; it keys the graph cache.
type gradSpec struct {
	batch        int
	input        bool
	layer        int // value number, -1 for none
	crossEntropy bool
	top1         bool // the seed is each row's top-1 one-hot, set in the pass
}

// gradGraph holds a gradient graph's extra nodes.
type gradGraph struct {
	spec      gradSpec
	seed      *G.Node // batch × classes: one-hot classes or the caller's seed
	objective *G.Node
	dx        *G.Node
	act, dact *G.Node
	actShape  tensor.Shape
}

func (gg *gradGraph) keep() G.Nodes {
	return G.Nodes{gg.objective, gg.dx, gg.act, gg.dact}
}

// wants reports whether value v must stay a graph node of its own.
func (tg *tgraph) wants(v int) bool { return tg.grad != nil && tg.grad.spec.layer == v }

// inputGrad reports whether the graph differentiates with respect to x.
func (tg *tgraph) inputGrad() bool { return tg.grad != nil && tg.grad.spec.input }

// gradients adds the objective and its symbolic gradients to the graph.
func (tg *tgraph) gradients(values []*G.Node, shapes []tensor.Shape) error {
	gg := tg.grad
	batch, classes := tg.batch, tg.net.args.NumClasses
	gg.seed = G.NewTensor(tg.g, G.Float32, 2, G.WithShape(batch, classes), G.WithName("seed"))
	var err error
	if gg.objective, err = tg.objectiveNode(tg.logits, gg.seed, gg.spec.crossEntropy, gg.spec.top1); err != nil {
		return err
	}
	var wrt G.Nodes
	if gg.spec.input {
		wrt = append(wrt, tg.x)
	}
	if v := gg.spec.layer; v >= 0 {
		if v == 0 || v >= len(values) || values[v] == nil {
			return fmt.Errorf("layer value %d has no node", v)
		}
		gg.act, gg.actShape = values[v], shapes[v]
		wrt = append(wrt, gg.act)
	}
	one := tg.g.AddNode(G.NewConstant(float32(1), G.WithName("one")))
	grads, err := G.Backpropagate(G.Nodes{gg.objective}, G.Nodes{one}, wrt)
	if err != nil {
		return err
	}
	if gg.spec.input {
		gg.dx, grads = grads[0], grads[1:]
	}
	if gg.act != nil {
		gg.dact = grads[0]
	}
	return nil
}

// objectiveNode adds the scalar objective: Σ seed·logits, or with ce the
// softmax cross-entropy against the (one-hot) seed, summed over the batch.
// With top1 the seed is replaced by each row's top-1 one-hot.
func (tg *tgraph) objectiveNode(logits, seed *G.Node, ce, top1 bool) (*G.Node, error) {
	batch, classes := tg.batch, tg.net.args.NumClasses
	dz := make([]float32, batch*classes)
	onehot := make([]float32, classes)
	o := tg.op("Objective", []int{2, 2}, tensor.ScalarShape(), func(in [][]float32, out []float32) error {
		z, t := in[0], in[1]
		var sum float64
		for b := 0; b < batch; b++ {
			zr, tr, dr := z[b*classes:(b+1)*classes], t[b*classes:(b+1)*classes], dz[b*classes:(b+1)*classes]
			if top1 {
				clear(onehot)
				onehot[kernels.Argmax(zr)] = 1
				tr = onehot
			}
			if !ce {
				for c := range zr {
					sum += float64(tr[c]) * float64(zr[c])
				}
				copy(dr, tr)
				continue
			}
			// The seed is one-hot (Classes or Top1).
			sum += float64(kernels.SoftmaxCrossEntropy(1, classes, zr, tr, dr))
		}
		out[0] = float32(sum)
		return nil
	})
	o.NoGrad = []bool{false, true}
	o.Diff = tg.dzGrad("ObjectiveGrad", dz, batch, classes)
	return apply(o, logits, seed)
}
