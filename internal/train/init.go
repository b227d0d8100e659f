package train

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/fmixzoo/zoo/zoo"
)

// InitParams sets every parameter from seed the way PyTorch initialises a
// freshly built layer, so a seeded run does not depend on how the
// architecture package draws its initial values:
//
//   - weights with two or more dimensions (conv, linear): uniform in
//     ±1/√fan_in (kaiming_uniform_ with a = √5);
//   - one-dimensional weights (batch-norm scale): 1;
//   - biases: uniform in ±1/√fan_in of their layer's weight, or 0 for
//     batch-norm biases.
func InitParams(ps []*zoo.Param, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x1417))
	byName := map[string]*zoo.Param{}
	for _, p := range ps {
		byName[p.Name] = p
	}
	fanIn := func(p *zoo.Param) int {
		f := 1
		for _, d := range p.Shape[1:] {
			f *= d
		}
		return f
	}
	uniform := func(v []float32, bound float64) {
		for i := range v {
			v[i] = float32((2*rng.Float64() - 1) * bound)
		}
	}
	for _, p := range ps {
		switch {
		case strings.HasSuffix(p.Name, "weight") && len(p.Shape) >= 2:
			uniform(p.Value, 1/math.Sqrt(float64(fanIn(p))))
		case strings.HasSuffix(p.Name, "weight"):
			for i := range p.Value {
				p.Value[i] = 1
			}
		case strings.HasSuffix(p.Name, "bias"):
			w := byName[strings.TrimSuffix(p.Name, "bias")+"weight"]
			if w == nil || len(w.Shape) < 2 {
				clear(p.Value)
				continue
			}
			uniform(p.Value, 1/math.Sqrt(float64(fanIn(w))))
		default: // anything else trainable (e.g. PyramidNet's padding-free extras): small uniform
			uniform(p.Value, 0.01)
		}
	}
}
