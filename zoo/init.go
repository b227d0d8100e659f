package zoo

import (
	"math"
	"math/rand/v2"
	"strings"
)

// Init re-initialises every parameter from seed, as the published code does:
// convolutions He-normal, N(0, sqrt(2/(k·k·out))); BatchNorm weight 1, bias 0,
// running mean 0, running variance 1; linear layers PyTorch's default
// U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
func (n *Net) Init(seed uint64) {
	n.Thaw()
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	for _, l := range n.layers {
		switch l.Kind {
		case Conv:
			w := n.byName[l.Name+".weight"]
			std := math.Sqrt(2 / float64(l.K*l.K*l.Out))
			for i := range w.Value {
				w.Value[i] = float32(rng.NormFloat64() * std)
			}
			if l.Bias {
				fill(n.byName[l.Name+".bias"].Value, 0)
			}
		case BatchNorm:
			fill(n.byName[l.Name+".weight"].Value, 1)
			fill(n.byName[l.Name+".bias"].Value, 0)
			fill(n.byName[l.Name+".running_mean"].Value, 0)
			fill(n.byName[l.Name+".running_var"].Value, 1)
			fill(n.byName[l.Name+".num_batches_tracked"].Value, 0)
		case Linear:
			bound := 1 / math.Sqrt(float64(l.InC))
			for _, suffix := range []string{".weight", ".bias"} {
				p := n.byName[l.Name+suffix]
				for i := range p.Value {
					p.Value[i] = float32((2*rng.Float64() - 1) * bound)
				}
			}
		}
	}
	for _, p := range n.params {
		fill(p.Grad, 0)
	}
}

func fill(s []float32, v float32) {
	for i := range s {
		s[i] = v
	}
}

func isBufferName(name string) bool {
	return strings.HasSuffix(name, ".running_mean") || strings.HasSuffix(name, ".running_var") || strings.HasSuffix(name, ".num_batches_tracked")
}
