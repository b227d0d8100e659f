package train

import "fmt"

// SGD is stochastic gradient descent with momentum and L2 weight decay,
// exactly PyTorch's torch.optim.SGD without dampening or Nesterov (the
// published settings are momentum 0.9, weight decay 1e-4):
//
//	d = grad + WeightDecay·w
//	buf = d                      on the first step
//	buf = Momentum·buf + d       afterwards
//	w -= lr·buf
type SGD struct {
	Momentum, WeightDecay float32
	// Buf holds the momentum buffers, one per parameter (nil before the
	// first step). Checkpoints save and restore it.
	Buf [][]float32
}

// Step updates values in place from grads. values[i] and grads[i] must have
// the same length, and the parameter list must not change between steps.
func (o *SGD) Step(lr float32, values, grads [][]float32) error {
	if len(values) != len(grads) {
		return fmt.Errorf("train: sgd: %d parameters but %d gradients", len(values), len(grads))
	}
	first := o.Buf == nil
	if first {
		o.Buf = make([][]float32, len(values))
	} else if len(o.Buf) != len(values) {
		return fmt.Errorf("train: sgd: %d parameters, momentum state for %d", len(values), len(o.Buf))
	}
	for i, w := range values {
		g := grads[i]
		if len(g) != len(w) {
			return fmt.Errorf("train: sgd: parameter %d has %d values but %d gradients", i, len(w), len(g))
		}
		if first {
			o.Buf[i] = make([]float32, len(w))
		} else if len(o.Buf[i]) != len(w) {
			return fmt.Errorf("train: sgd: parameter %d has %d values, momentum state %d", i, len(w), len(o.Buf[i]))
		}
		buf := o.Buf[i]
		wd, m := o.WeightDecay, o.Momentum
		if first || m == 0 {
			for j := range w {
				d := g[j] + wd*w[j]
				buf[j] = d
				w[j] -= lr * d
			}
			continue
		}
		for j := range w {
			d := g[j] + wd*w[j]
			buf[j] = m*buf[j] + d
			w[j] -= lr * buf[j]
		}
	}
	return nil
}
