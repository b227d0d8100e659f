package attack

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/fmixzoo/zoo/kernels"
)

// ErrInput marks inputs the attacks cannot run on (shapes, labels, ε).
var ErrInput = errors.New("attack: bad input")

// Model is a classifier in pixel space: x is batch × Size() values in the
// bounds [0, 1]; any normalisation happens inside.
type Model interface {
	// Size is the number of values of one input (C·H·W).
	Size() int
	// NumClasses is the number of logits of one input.
	NumClasses() int
	// Logits evaluates x and returns batch × NumClasses logits.
	Logits(x []float32, batch int) ([]float32, error)
	// Gradient evaluates x and returns its logits and the gradient of the
	// objective with respect to x (the layout of x).
	Gradient(x []float32, batch int, o Objective) (logits, grad []float32, err error)
}

// Objective is what Model.Gradient differentiates, summed over the batch.
type Objective struct {
	// Labels, when not nil, make the objective the softmax cross-entropy
	// Σ_b −log softmax(logits[b])[Labels[b]] (foolbox's loss for FGSM, PGD
	// and BIM).
	Labels []int
	// Seed, used when Labels is nil, makes it Σ_{b,c} Seed[b·classes+c]·logits[b,c].
	Seed []float32
}

// Bounds of pixel space.
const (
	lower = 0
	upper = 1
)

// Descent is one of foolbox's L∞ gradient attacks (LinfBaseGradientDescent):
// Steps steps of RelStepsize·ε along sign(∇ cross-entropy), each projected
// onto the ε-ball and clipped to the bounds, from a uniform random start in
// [−ε, ε] when RandomStart.
type Descent struct {
	Steps       int
	RelStepsize float32
	RandomStart bool
}

// foolbox 3's defaults (fast_gradient_method.py, projected_gradient_descent.py,
// basic_iterative_method.py).
var (
	FGSM = Descent{Steps: 1, RelStepsize: 1}
	PGD  = Descent{Steps: 40, RelStepsize: 0.01 / 0.3, RandomStart: true}
	BIM  = Descent{Steps: 10, RelStepsize: 0.2}
)

func checkBatch(m Model, x []float32, labels []int) (int, error) {
	per, classes := m.Size(), m.NumClasses()
	if per < 1 || len(labels) == 0 || len(x) != len(labels)*per {
		return 0, fmt.Errorf("%w: %d values for %d labels of %d values each", ErrInput, len(x), len(labels), per)
	}
	for i, l := range labels {
		if l < 0 || l >= classes {
			return 0, fmt.Errorf("%w: label %d of row %d is outside [0, %d)", ErrInput, l, i, classes)
		}
	}
	return len(labels), nil
}

func checkEpsilon(eps float32) error {
	if !(eps >= 0) || math.IsInf(float64(eps), 0) {
		return fmt.Errorf("%w: ε %v is not a finite non-negative number", ErrInput, eps)
	}
	return nil
}

// UniformStart draws PGD's random start, uniform in [−ε, ε], for n values.
func UniformStart(rng *rand.Rand, n int, eps float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = (2*rng.Float32() - 1) * eps
	}
	return s
}

// Run runs the descent on x0 (batch × Size pixels) with the labels and
// returns the last iterate, before ClipPerturbation. start is the random
// start perturbation (len(x0) values in [−ε, ε], see UniformStart); it is
// required when d.RandomStart and ignored otherwise.
func (d Descent) Run(m Model, x0 []float32, labels []int, eps float32, start []float32) ([]float32, error) {
	return d.run(m, x0, labels, eps, start, nil)
}

// InputGradient is the loss gradient at x0 that FGSM's step and BIM's first
// step take, the same at every ε: a sweep computes it once and passes it to
// run.
func InputGradient(m Model, x0 []float32, labels []int) ([]float32, error) {
	if _, err := checkBatch(m, x0, labels); err != nil {
		return nil, err
	}
	_, g, err := m.Gradient(x0, len(labels), Objective{Labels: labels})
	if err != nil {
		return nil, fmt.Errorf("attack: gradient: %w", err)
	}
	return g, nil
}

// run is Run with g0, when not nil and there is no random start, the
// gradient at x0 (InputGradient) for the first step.
func (d Descent) run(m Model, x0 []float32, labels []int, eps float32, start, g0 []float32) ([]float32, error) {
	if _, err := checkBatch(m, x0, labels); err != nil {
		return nil, err
	}
	if err := checkEpsilon(eps); err != nil {
		return nil, err
	}
	x := append([]float32(nil), x0...)
	if d.RandomStart {
		if len(start) != len(x0) {
			return nil, fmt.Errorf("%w: random start has %d values for %d inputs", ErrInput, len(start), len(x0))
		}
		for i := range x {
			x[i] = clip(x0[i]+start[i], lower, upper)
		}
	}
	step := d.RelStepsize * eps
	for i := range d.Steps {
		g := g0
		if i > 0 || d.RandomStart || len(g0) != len(x0) {
			var err error
			if _, g, err = m.Gradient(x, len(labels), Objective{Labels: labels}); err != nil {
				return nil, fmt.Errorf("attack: gradient: %w", err)
			}
		}
		for i := range x {
			v := x[i] + step*sign(g[i])
			v = x0[i] + clip(v-x0[i], -eps, eps)
			x[i] = clip(v, lower, upper)
		}
	}
	return x, nil
}

// UniformNoise is foolbox's LinfAdditiveUniformNoiseAttack: per input, noise
// u ~ U(−1, 1) scaled by ε / max(u), added to x0 and clipped to the bounds.
func UniformNoise(rng *rand.Rand, x0 []float32, batch int, eps float32) ([]float32, error) {
	if batch < 1 || len(x0)%batch != 0 {
		return nil, fmt.Errorf("%w: %d values for a batch of %d", ErrInput, len(x0), batch)
	}
	if err := checkEpsilon(eps); err != nil {
		return nil, err
	}
	per := len(x0) / batch
	x := make([]float32, len(x0))
	u := make([]float32, per)
	for b := range batch {
		m := float32(math.Inf(-1))
		for i := range u {
			u[i] = 2*rng.Float32() - 1
			m = max(m, u[i])
		}
		if !(m > 0) {
			m = 1 // all-negative noise (one pixel, or odds of 2^-size): keep it finite
		}
		s := eps / m
		for i, v := range u {
			x[b*per+i] = clip(x0[b*per+i]+s*v, lower, upper)
		}
	}
	return x, nil
}

// ClipPerturbation is foolbox's L∞ clip_perturbation, applied to every
// attack's result for each ε: x0 + clip(xp − x0, −ε, ε), in a new slice.
func ClipPerturbation(x0, xp []float32, eps float32) []float32 {
	out := make([]float32, len(x0))
	for i := range out {
		out[i] = x0[i] + clip(xp[i]-x0[i], -eps, eps)
	}
	return out
}

// Misclassified reports, per row of x, foolbox's Misclassification
// criterion: argmax of the logits (the first on ties) ≠ the label.
func Misclassified(m Model, x []float32, labels []int) ([]bool, error) {
	n, err := checkBatch(m, x, labels)
	if err != nil {
		return nil, err
	}
	logits, err := m.Logits(x, n)
	if err != nil {
		return nil, fmt.Errorf("attack: logits: %w", err)
	}
	return misclassified(logits, labels, m.NumClasses()), nil
}

func misclassified(logits []float32, labels []int, classes int) []bool {
	out := make([]bool, len(labels))
	for b, l := range labels {
		out[b] = kernels.Argmax(logits[b*classes:(b+1)*classes]) != l
	}
	return out
}

func sign(v float32) float32 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func clip(v, lo, hi float32) float32 {
	return min(max(v, lo), hi)
}
