package attack

import (
	"fmt"

	"github.com/fmixzoo/zoo/zoo"
)

// NetModel is a zoo.Net seen in pixel space: x_norm = (x − mean_c) / std_c
// happens inside, and gradients are chain-ruled back through it. Calls run
// in chunks of one fixed batch size (the last chunk padded), so the Net
// builds and keeps one evaluation and a few gradient graphs whatever the
// callers' batch sizes. Freeze the Net first (hub.LoadNet's and
// zoo.ReadONNX's are): its convolutions then pack their weights once instead
// of on every pass, which makes a PreAct-ResNet18 sweep about 1.6× faster.
// Like zoo.Net it is not safe for concurrent use.
type NetModel struct {
	net       *zoo.Net
	mean, std []float32 // per channel
	c, plane  int
	classes   int
	batch     int
	buf       []float32 // batch × size, normalised inputs
}

// NewNetModel wraps net with its weights entry's normalisation (one mean and
// std per input channel) and runs it in chunks of batch inputs.
func NewNetModel(net *zoo.Net, mean, std []float64, batch int) (*NetModel, error) {
	shape := net.InputShape()
	if len(shape) != 3 {
		return nil, fmt.Errorf("%w: network input shape %v is not C × H × W", ErrInput, shape)
	}
	c := shape[0]
	if len(mean) != c || len(std) != c {
		return nil, fmt.Errorf("%w: %d means and %d stds for %d channels", ErrInput, len(mean), len(std), c)
	}
	if batch < 1 {
		return nil, fmt.Errorf("%w: batch size %d", ErrInput, batch)
	}
	m := &NetModel{net: net, c: c, plane: shape[1] * shape[2], classes: net.Args().NumClasses, batch: batch}
	for i := range c {
		if !(std[i] > 0) {
			return nil, fmt.Errorf("%w: std %v of channel %d is not positive", ErrInput, std[i], i)
		}
		m.mean = append(m.mean, float32(mean[i]))
		m.std = append(m.std, float32(std[i]))
	}
	m.buf = make([]float32, batch*m.Size())
	return m, nil
}

// Size is C·H·W.
func (m *NetModel) Size() int { return m.c * m.plane }

// NumClasses is the number of logits.
func (m *NetModel) NumClasses() int { return m.classes }

// chunks calls f for each chunk of at most m.batch rows of x, with m.buf
// holding the chunk normalised and padded (copies of the chunk's last row).
func (m *NetModel) chunks(x []float32, batch int, f func(lo, n int) error) error {
	per := m.Size()
	if batch < 1 || len(x) != batch*per {
		return fmt.Errorf("%w: %d values for a batch of %d × %d", ErrInput, len(x), batch, per)
	}
	for lo := 0; lo < batch; lo += m.batch {
		n := min(m.batch, batch-lo)
		for r := range m.batch {
			src := x[(lo+min(r, n-1))*per:]
			dst := m.buf[r*per:]
			for ch := range m.c {
				mu, sd := m.mean[ch], m.std[ch]
				for i := ch * m.plane; i < (ch+1)*m.plane; i++ {
					dst[i] = (src[i] - mu) / sd
				}
			}
		}
		if err := f(lo, n); err != nil {
			return err
		}
	}
	return nil
}

// Logits evaluates x (batch × Size pixels) in eval mode.
func (m *NetModel) Logits(x []float32, batch int) ([]float32, error) {
	out := make([]float32, batch*m.classes)
	err := m.chunks(x, batch, func(lo, n int) error {
		lg, err := m.net.Forward(m.buf, m.batch)
		if err != nil {
			return err
		}
		copy(out[lo*m.classes:], lg[:n*m.classes])
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Gradient evaluates x and differentiates o with respect to the pixels.
func (m *NetModel) Gradient(x []float32, batch int, o Objective) ([]float32, []float32, error) {
	per := m.Size()
	if o.Labels != nil && len(o.Labels) != batch {
		return nil, nil, fmt.Errorf("%w: %d labels for a batch of %d", ErrInput, len(o.Labels), batch)
	}
	if o.Labels == nil && len(o.Seed) != batch*m.classes {
		return nil, nil, fmt.Errorf("%w: seed has %d values for a batch of %d × %d", ErrInput, len(o.Seed), batch, m.classes)
	}
	logits := make([]float32, batch*m.classes)
	grad := make([]float32, batch*per)
	err := m.chunks(x, batch, func(lo, n int) error {
		var g zoo.GradOptions
		g.Input = true
		if o.Labels != nil {
			g.CrossEntropy = true
			g.Classes = make([]int, m.batch)
			for r := range m.batch {
				g.Classes[r] = o.Labels[lo+min(r, n-1)]
			}
		} else {
			g.Seed = make([]float32, m.batch*m.classes) // padding rows: zero seed
			copy(g.Seed, o.Seed[lo*m.classes:(lo+n)*m.classes])
		}
		res, err := m.net.Gradients(m.buf, m.batch, g)
		if err != nil {
			return err
		}
		copy(logits[lo*m.classes:], res.Logits[:n*m.classes])
		for r := range n {
			src, dst := res.Input[r*per:(r+1)*per], grad[(lo+r)*per:]
			for ch := range m.c {
				sd := m.std[ch]
				for i := ch * m.plane; i < (ch+1)*m.plane; i++ {
					dst[i] = src[i] / sd
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return logits, grad, nil
}
