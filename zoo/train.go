package zoo

import (
	"errors"
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// trainer caches the Gorgonia graphs of a Net: the training graph of the
// last batch size used and eval graphs by batch size.
type trainer struct {
	step  *tgraph
	eval  map[int]*tgraph
	grad  map[gradSpec]*tgraph // Gradients' graphs
	steps uint64
}

const maxEvalGraphs = 4

// ErrInput reports a batch whose size does not match the network.
var ErrInput = errors.New("zoo: bad input")

func (n *Net) state() *trainer {
	if n.train == nil {
		n.train = &trainer{eval: map[int]*tgraph{}}
	}
	return n.train
}

// invalidate drops compiled graphs after the layer graph's parameters were
// replaced wholesale. Graphs share Param.Value, so in-place updates (the
// optimiser, LoadStateDict's copies) need no invalidation.
func (n *Net) invalidate() {
	n.Thaw()
	if n.train != nil {
		n.train.step = nil
		n.train.eval = map[int]*tgraph{}
		n.train.grad = nil
	}
}

func (n *Net) checkBatch(x []float32, batch int) error {
	if batch < 1 {
		return fmt.Errorf("%w: batch size %d", ErrInput, batch)
	}
	if want := batch * shapeSize(n.input); len(x) != want {
		return fmt.Errorf("%w: %d values for a batch of %d × %v (want %d)", ErrInput, len(x), batch, n.input, want)
	}
	return nil
}

// TrainStep runs one training step on a batch x (batch × C × H × W) with
// soft targets (batch × classes, each row summing to 1; MSDA mixes
// λ·onehot(y) + (1-λ)·onehot(y[perm])): forward in training mode (batch
// statistics, ShakeDrop gates), mean softmax cross-entropy, backward. It
// fills every Param.Grad, updates the BatchNorm running statistics and
// returns the loss. Applying the gradients is the optimiser's job.
func (n *Net) TrainStep(x []float32, batch int, targets []float32) (float32, error) {
	if err := n.checkBatch(x, batch); err != nil {
		return 0, err
	}
	if len(targets) != batch*n.args.NumClasses {
		return 0, fmt.Errorf("%w: %d targets for a batch of %d × %d classes", ErrInput, len(targets), batch, n.args.NumClasses)
	}
	n.Thaw() // the step changes the BatchNorm statistics and, through the optimiser, the weights
	st := n.state()
	if st.step == nil || st.step.batch != batch {
		tg, err := n.newGraph(batch, true, st.steps+1, nil)
		if err != nil {
			return 0, err
		}
		st.step = tg
	}
	tg := st.step
	st.steps++
	if err := G.Let(tg.x, tensor.New(tensor.WithShape(tg.x.Shape()...), tensor.WithBacking(x))); err != nil {
		return 0, fmt.Errorf("zoo: train step: %w", err)
	}
	if err := G.Let(tg.t, tensor.New(tensor.WithShape(tg.t.Shape()...), tensor.WithBacking(targets))); err != nil {
		return 0, fmt.Errorf("zoo: train step: %w", err)
	}
	tg.arena.Reset()
	if err := tg.vm.RunAll(); err != nil {
		tg.vm.Reset()
		return 0, fmt.Errorf("zoo: train step: %w", err)
	}
	defer tg.vm.Reset()
	for i, p := range n.params {
		v, ok := tg.grads[i].Value().(*tensor.Dense)
		if !ok {
			return 0, fmt.Errorf("zoo: train step: gradient of %s is %T", p.Name, tg.grads[i].Value())
		}
		copy(p.Grad, v.Float32s())
	}
	loss, ok := tg.loss.Value().(*G.F32)
	if !ok {
		return 0, fmt.Errorf("zoo: train step: loss is %T", tg.loss.Value())
	}
	return float32(*loss), nil
}

// Forward evaluates the network in eval mode (running BatchNorm statistics,
// ShakeDrop scaled by 1-p) on x (batch × C × H × W) and returns batch ×
// classes logits.
func (n *Net) Forward(x []float32, batch int) ([]float32, error) {
	if err := n.checkBatch(x, batch); err != nil {
		return nil, err
	}
	st := n.state()
	tg, ok := st.eval[batch]
	if !ok {
		var err error
		if tg, err = n.newGraph(batch, false, 0, nil); err != nil {
			return nil, err
		}
		if len(st.eval) >= maxEvalGraphs {
			st.eval = map[int]*tgraph{}
		}
		st.eval[batch] = tg
	}
	if err := G.Let(tg.x, tensor.New(tensor.WithShape(tg.x.Shape()...), tensor.WithBacking(x))); err != nil {
		return nil, fmt.Errorf("zoo: forward: %w", err)
	}
	defer tg.vm.Reset()
	tg.arena.Reset()
	if err := tg.vm.RunAll(); err != nil {
		return nil, fmt.Errorf("zoo: forward: %w", err)
	}
	v, ok := tg.logits.Value().(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("zoo: forward: logits are %T", tg.logits.Value())
	}
	return append([]float32(nil), v.Float32s()...), nil
}
