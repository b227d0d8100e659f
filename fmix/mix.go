package fmix

import (
	"fmt"
	"math"
)

// Mode is a mixed-sample data augmentation.
type Mode int

const (
	// ModeNone copies the batch unchanged (λ = 1, identity permutation).
	ModeNone Mode = iota
	// ModeMixUp blends whole examples: x·λ + x[perm]·(1-λ).
	ModeMixUp
	// ModeCutMix pastes a box of x[perm] into x.
	ModeCutMix
	// ModeFMix combines x and x[perm] through an FMix mask.
	ModeFMix
	// ModeFMixPlusMixUp alternates FMix and MixUp batch by batch, starting
	// with FMix.
	ModeFMixPlusMixUp
)

var modeNames = []string{"none", "mixup", "cutmix", "fmix", "fmixplusmixup"}

// String returns the mode's name as ParseMode accepts it.
func (m Mode) String() string {
	if m >= 0 && int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode parses none, mixup, cutmix, fmix or fmixplusmixup (the empty
// string is none).
func ParseMode(s string) (Mode, error) {
	if s == "" {
		return ModeNone, nil
	}
	for i, n := range modeNames {
		if s == n {
			return Mode(i), nil
		}
	}
	return 0, fmt.Errorf("fmix: unknown mode %q (want none, mixup, cutmix, fmix or fmixplusmixup): %w", s, ErrInvalid)
}

// MixOptions configures a Mixer.
type MixOptions struct {
	// Options are the λ and mask settings; Shape is the spatial shape of
	// one example channel: (L), (H, W) or (D, H, W). Reformulate applies
	// to every mode's λ.
	Options
	// Mode is the augmentation.
	Mode Mode
	// PerSample gives every example its own λ (and its own FMix mask or
	// CutMix box size) instead of one per batch as published.
	PerSample bool
	// CorrectLam sets CutMix's λ to the fraction of the example kept after
	// the box is clipped at the borders (timm's correct_lam).
	CorrectLam bool
}

// Result says how a batch was mixed: example i became a mix of example i
// (weight Lams[i]) and example Perm[i] (weight 1-Lams[i]). Its slices belong
// to the Mixer and are overwritten by the next Mix; copy them to keep them.
type Result struct {
	// Mode is the augmentation applied (FMix or MixUp for the alternation).
	Mode Mode
	// Perm is the permutation of the batch.
	Perm []int
	// Lam is the batch's λ (the mean of Lams when they differ).
	Lam float64
	// Lams holds every example's λ.
	Lams []float64
	// Reformulated is set when λ came from Beta(α+1, α): the published
	// loss is then plain cross-entropy against the original labels.
	Reformulated bool
}

// Mixer mixes float32 batches laid out N·C·spatial (N·C·L, N·C·H·W or
// N·C·D·H·W, C order). It owns a Sampler and its generator: the same seed
// gives the same mixes. A Mixer is not safe for concurrent use.
type Mixer struct {
	opts    MixOptions
	s       *Sampler
	size    int // spatial elements per channel
	step    int
	perm    []int
	lams    []float64
	mask    []float64
	keep    []float32 // mask as float32
	other   []float32 // 1 - mask as float32
	scratch []float32
}

// NewMixer validates opts and prepares a mixer. Errors wrap ErrInvalid.
func NewMixer(opts MixOptions) (*Mixer, error) {
	if opts.Mode < ModeNone || opts.Mode > ModeFMixPlusMixUp {
		return nil, fmt.Errorf("fmix: unknown %v: %w", opts.Mode, ErrInvalid)
	}
	s, err := NewSampler(opts.Options)
	if err != nil {
		return nil, fmt.Errorf("fmix: mixer: %w", err)
	}
	n := s.Size()
	return &Mixer{
		opts: opts, s: s, size: n,
		mask: make([]float64, n), keep: make([]float32, n), other: make([]float32, n),
	}, nil
}

// Mix mixes the n examples of x into dst and returns how. dst must have
// the length of x and either be x itself (mixing in place) or not overlap
// it. len(x) must be n·C·prod(Shape) for some channel count C ≥ 1.
func (m *Mixer) Mix(dst, x []float32, n int) (Result, error) {
	if n < 1 {
		return Result{}, fmt.Errorf("fmix: mix a batch of %d: %w", n, ErrInvalid)
	}
	if len(dst) != len(x) {
		return Result{}, fmt.Errorf("fmix: mix %d values into %d: %w", len(x), len(dst), ErrInvalid)
	}
	per := n * m.size
	if len(x) == 0 || len(x)%per != 0 {
		return Result{}, fmt.Errorf("fmix: mix: %d values are not %d examples of C×%v: %w", len(x), n, m.opts.Shape, ErrInvalid)
	}
	c := len(x) / per
	if &dst[0] == &x[0] {
		m.scratch = append(m.scratch[:0], x...)
		x = m.scratch
	}
	m.fillPerm(n)
	m.lams = resize(m.lams, n)
	mode := m.opts.Mode
	if mode == ModeFMixPlusMixUp {
		mode = ModeFMix
		if m.step%2 == 1 {
			mode = ModeMixUp
		}
	}
	m.step++
	r := Result{Mode: mode, Perm: m.perm, Lams: m.lams, Reformulated: m.opts.Reformulate}
	ex := c * m.size
	switch mode {
	case ModeNone:
		copy(dst, x)
		for i := range m.perm {
			m.perm[i] = i
		}
		fill(m.lams, 1)
		r.Reformulated = false
	case ModeMixUp:
		lam := m.s.Lambda()
		for i := 0; i < n; i++ {
			if m.opts.PerSample && i > 0 {
				lam = m.s.Lambda()
			}
			m.lams[i] = lam
			blend(dst[i*ex:(i+1)*ex], x[i*ex:(i+1)*ex], x[m.perm[i]*ex:(m.perm[i]+1)*ex], float32(lam))
		}
	case ModeFMix:
		for i := 0; i < n; i++ {
			if i == 0 || m.opts.PerSample {
				m.lams[i], _ = m.s.MaskTo(m.mask)
				for p, v := range m.mask {
					m.keep[p], m.other[p] = float32(v), float32(1-v)
				}
			} else {
				m.lams[i] = m.lams[0]
			}
			a, b := x[i*ex:(i+1)*ex], x[m.perm[i]*ex:(m.perm[i]+1)*ex]
			out := dst[i*ex : (i+1)*ex]
			for ch := 0; ch < c; ch++ {
				o := ch * m.size
				maskMix(out[o:o+m.size], a[o:o+m.size], b[o:o+m.size], m.keep, m.other)
			}
		}
	case ModeCutMix:
		m.cutMix(dst, x, n, c)
	}
	sum := 0.0
	for _, l := range m.lams {
		sum += l
	}
	r.Lam = sum / float64(n)
	return r, nil
}

// cutMix pastes a box of x[perm[i]] into every example: side k is
// round((1-λ)^(1/d)·S_k) (square root for images), the centre uniform per
// example, the box clipped at the borders.
func (m *Mixer) cutMix(dst, x []float32, n, c int) {
	shape := m.opts.Shape
	d := len(shape)
	ex := c * m.size
	copy(dst, x)
	var side, lo, hi [MaxRank]int
	lam := m.s.Lambda()
	for i := 0; i < n; i++ {
		if m.opts.PerSample && i > 0 {
			lam = m.s.Lambda()
		}
		ratio := math.Pow(1-lam, 1/float64(d))
		vol := 1
		for k, s := range shape {
			side[k] = int(math.RoundToEven(ratio * float64(s)))
			centre := m.s.rng.IntN(s)
			lo[k] = clamp(centre-side[k]/2, 0, s)
			hi[k] = clamp(centre+side[k]/2, 0, s)
			vol *= hi[k] - lo[k]
		}
		m.lams[i] = lam
		if m.opts.CorrectLam {
			m.lams[i] = 1 - float64(vol)/float64(m.size)
		}
		if vol == 0 {
			continue
		}
		src := x[m.perm[i]*ex : (m.perm[i]+1)*ex]
		out := dst[i*ex : (i+1)*ex]
		for ch := 0; ch < c; ch++ {
			pasteBox(out[ch*m.size:(ch+1)*m.size], src[ch*m.size:(ch+1)*m.size], shape, lo[:d], hi[:d])
		}
	}
}

// pasteBox copies the box [lo, hi) of src into dst, both one channel in C order.
func pasteBox(dst, src []float32, shape, lo, hi []int) {
	switch len(shape) {
	case 1:
		copy(dst[lo[0]:hi[0]], src[lo[0]:hi[0]])
	case 2:
		w := shape[1]
		for y := lo[0]; y < hi[0]; y++ {
			copy(dst[y*w+lo[1]:y*w+hi[1]], src[y*w+lo[1]:y*w+hi[1]])
		}
	case 3:
		h, w := shape[1], shape[2]
		for z := lo[0]; z < hi[0]; z++ {
			for y := lo[1]; y < hi[1]; y++ {
				o := (z*h + y) * w
				copy(dst[o+lo[2]:o+hi[2]], src[o+lo[2]:o+hi[2]])
			}
		}
	}
}

// fillPerm draws a uniform permutation of 0..n-1 (Fisher–Yates).
func (m *Mixer) fillPerm(n int) {
	if cap(m.perm) < n {
		m.perm = make([]int, n)
	}
	m.perm = m.perm[:n]
	for i := range m.perm {
		m.perm[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := m.s.rng.IntN(i + 1)
		m.perm[i], m.perm[j] = m.perm[j], m.perm[i]
	}
}

func blend(dst, a, b []float32, lam float32) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = a[i]*lam + b[i]*(1-lam)
	}
}

func maskMix(dst, a, b, keep, other []float32) {
	b, keep, other, dst = b[:len(a)], keep[:len(a)], other[:len(a)], dst[:len(a)]
	for i := range a {
		dst[i] = a[i]*keep[i] + b[i]*other[i]
	}
}

func resize(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

func fill(s []float64, v float64) {
	for i := range s {
		s[i] = v
	}
}

func clamp(v, lo, hi int) int {
	return min(max(v, lo), hi)
}
