package fmix

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Options configures a Sampler. DefaultOptions gives the published
// defaults; every field is used as given (a zero Alpha is an error, a zero
// DecayPower is white noise).
type Options struct {
	// Alpha parameterises the Beta distribution of λ (published default 1).
	Alpha float64
	// DecayPower is the frequency decay δ: amplitudes fall as 1/f^δ
	// (published default 3).
	DecayPower float64
	// Shape is the mask shape, 1 to 3 dims, each at least 2: (L), (H, W)
	// or (D, H, W).
	Shape []int
	// MaxSoft in [0, 0.5] softens the mask edges (published default 0).
	MaxSoft float64
	// Reformulate draws λ from Beta(α+1, α) instead of Beta(α, α).
	Reformulate bool
	// Variant is the spectrum: Official (default) or Isotropic.
	Variant Variant
	// Seed seeds the sampler's generator: the same seed gives the same
	// sequence of λs and masks.
	Seed uint64
}

// DefaultOptions returns the published defaults (α = 1, δ = 3, no
// softening, no reformulation, Official) for a mask shape.
func DefaultOptions(shape ...int) Options {
	return Options{Alpha: 1, DecayPower: 3, Shape: shape, Variant: Official}
}

func (o Options) check() error {
	if !(o.Alpha > 0) || math.IsInf(o.Alpha, 0) {
		return fmt.Errorf("fmix: alpha %v, want a finite value > 0: %w", o.Alpha, ErrInvalid)
	}
	if !(o.MaxSoft >= 0 && o.MaxSoft <= 0.5) {
		return fmt.Errorf("fmix: max soft %v outside [0, 0.5]: %w", o.MaxSoft, ErrInvalid)
	}
	return nil
}

// Sampler draws λs and FMix masks the way fmix.py's sample_mask does: λ
// from Beta(α, α) (or Beta(α+1, α)), a low-frequency image from Gaussian
// draws, then a fair coin choosing ceil or floor of λ·N ones. It owns its
// random generator, FFT plans and buffers, so after the first mask it
// allocates nothing. A Sampler is not safe for concurrent use: give each
// goroutine its own (with its own seed).
//
// The Official variant only ever uses the draws of two grid rows, so the
// Sampler draws just those; masks are distributed exactly as the published
// code's, but the sequence differs from numpy's for the same seed.
type Sampler struct {
	opts Options
	rng  *rand.Rand
	plan *plan
	bin  binariser
	low  []float64
	mask []float64
}

// NewSampler validates opts and prepares a sampler. Errors wrap ErrInvalid.
func NewSampler(opts Options) (*Sampler, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	p, err := newPlan(opts.Shape, opts.DecayPower, opts.Variant)
	if err != nil {
		return nil, err
	}
	opts.Shape = append([]int(nil), opts.Shape...)
	return &Sampler{
		opts: opts,
		rng:  rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		plan: p,
		low:  make([]float64, p.n),
		mask: make([]float64, p.n),
	}, nil
}

// Size is the number of mask elements: the product of the shape.
func (s *Sampler) Size() int { return s.plan.n }

// Lambda draws a mixing coefficient: Beta(α, α), or Beta(α+1, α) when
// reformulating.
func (s *Sampler) Lambda() float64 {
	a := s.opts.Alpha
	if s.opts.Reformulate {
		return betaSample(s.rng, a+1, a)
	}
	return betaSample(s.rng, a, a)
}

// LowFreq draws a new min-max normalised low-frequency image (C order, the
// mask shape). The slice belongs to the sampler and is overwritten by the
// next LowFreq or Mask call.
func (s *Sampler) LowFreq() []float64 {
	for {
		s.loadDraws()
		if s.plan.image(s.low) {
			return s.low
		}
		// A constant image needs every draw to vanish: draw again.
	}
}

// Mask draws λ, a low-frequency image and the ceil/floor coin, and returns
// λ and the binarised mask (C order, the mask shape). The mask belongs to
// the sampler and is overwritten by the next call; copy it to keep it.
func (s *Sampler) Mask() (lam float64, mask []float64) {
	lam = s.Lambda()
	s.maskFor(lam, s.mask)
	return lam, s.mask
}

// MaskTo is Mask writing into dst, which must hold Size values.
func (s *Sampler) MaskTo(dst []float64) (lam float64, err error) {
	if len(dst) != s.plan.n {
		return 0, fmt.Errorf("fmix: mask into %d values, want %d: %w", len(dst), s.plan.n, ErrInvalid)
	}
	lam = s.Lambda()
	s.maskFor(lam, dst)
	return lam, nil
}

// maskFor draws a low-frequency image and the ceil/floor coin and writes
// the mask for lam into dst: the same values as Binarise(LowFreq(), ...)
// would give for those draws.
func (s *Sampler) maskFor(lam float64, dst []float64) {
	for {
		s.loadDraws()
		roundUp := s.rng.Float64() > 0.5
		lo, hi := cut(s.plan.n, lam, roundUp, s.opts.MaxSoft)
		if s.plan.mask(dst, &s.bin, lo, hi) {
			return
		}
		// A constant image needs every draw to vanish: draw again.
	}
}

// loadDraws fills the spectrum with fresh Gaussian draws.
func (s *Sampler) loadDraws() {
	clear(s.plan.work)
	for i := range s.plan.terms {
		t := &s.plan.terms[i]
		s.plan.work[t.pos] = complex(t.sre*s.rng.NormFloat64(), t.sim*s.rng.NormFloat64())
	}
}

// betaSample draws from Beta(a, b) as X/(X+Y) with X ~ Gamma(a), Y ~ Gamma(b).
func betaSample(r *rand.Rand, a, b float64) float64 {
	if a == 1 && b == 1 {
		return r.Float64()
	}
	x := gammaSample(r, a)
	y := gammaSample(r, b)
	if x+y == 0 {
		// Both underflowed (tiny shapes put nearly all mass at 0 and 1).
		if r.Float64() < a/(a+b) {
			return 1
		}
		return 0
	}
	return x / (x + y)
}

// gammaSample draws from Gamma(a, 1) (Marsaglia and Tsang, 2000; shapes
// below 1 through Gamma(a+1)·U^(1/a)).
func gammaSample(r *rand.Rand, a float64) float64 {
	if a < 1 {
		u := r.Float64()
		return gammaSample(r, a+1) * math.Pow(u, 1/a)
	}
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		x2 := x * x
		if u < 1-0.0331*x2*x2 || math.Log(u) < 0.5*x2+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
