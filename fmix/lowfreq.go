package fmix

import (
	"fmt"
	"math"
)

// LowFreqImage builds the min-max normalised low-frequency image from
// explicit standard-normal draws laid out in C order over [1, grid..., 2]
// (grid as returned by FreqGrid), exactly as fmix.py's make_low_freq_image
// does with those draws. The result has the mask shape, in C order, with
// minimum 0 and maximum 1.
//
// The spectrum is scale·normals with scale = 1/max(f, 1/max(shape))^decay.
// Official combines it as numpy's spectrum[:, 0] + 1j*spectrum[:, 1] (draws
// for grid rows other than 0 and 1 are unused); Isotropic as
// spectrum[..., 0] + 1j*spectrum[..., 1]. The image is numpy's
// irfftn(c, s=shape) over the last len(shape) axes: every axis but the last
// is cropped or zero-padded to its size, the last keeps shape[-1]//2+1 bins.
//
// Errors wrap ErrInvalid for an unsupported shape, a negative or non-finite
// decay, the wrong number of draws, non-finite draws, or draws whose image
// is constant (it cannot be normalised).
func LowFreqImage(shape []int, decayPower float64, normals []float64, v Variant) ([]float64, error) {
	p, err := newPlan(shape, decayPower, v)
	if err != nil {
		return nil, err
	}
	if len(normals) != p.nNormals {
		return nil, fmt.Errorf("fmix: low-frequency image %v: got %d normal draws, want %d (grid %v × 2): %w",
			shape, len(normals), p.nNormals, p.grid, ErrInvalid)
	}
	for i, x := range normals {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("fmix: low-frequency image %v: normal draw %d is %v: %w", shape, i, x, ErrInvalid)
		}
	}
	p.load(func(t *term) complex128 {
		return complex(t.sre*normals[t.re], t.sim*normals[t.im])
	})
	out := make([]float64, p.n)
	if !p.image(out) {
		return nil, fmt.Errorf("fmix: low-frequency image %v: the draws give a constant or non-finite image: %w", shape, ErrInvalid)
	}
	return out, nil
}

// term is one complex spectrum coefficient that reaches the inverse FFT:
// work[pos] = sre·normals[re] + i·sim·normals[im].
type term struct {
	pos      int
	re, im   int
	sre, sim float64
}

// plan holds everything one mask shape needs to turn draws into a
// low-frequency image without allocating: the coefficient map, the work
// array, FFT plans and trigonometric tables. A plan is not safe for
// concurrent use.
type plan struct {
	shape    []int
	grid     []int
	n        int // mask elements
	nNormals int // draws the published code takes: prod(grid)·2

	// work is the complex array the inverse transform runs on, with dims
	// wd: shape[:r-1] and then the kept bins of the last axis (at most
	// shape[-1]//2+1). ext is the extent of the input inside it per axis.
	wd, ext []int
	work    []complex128
	terms   []term

	line  []complex128
	cffts []inverseFFT // per axis but the last

	// Last axis: a real inverse FFT, or a closed form when at most two bins
	// (harmonics 0 and 1) survive, as in the Official variant.
	rfft       realInverseFFT
	coef       []complex128
	cosT, sinT []float64

	raw []float64
}

func newPlan(shape []int, decay float64, v Variant) (*plan, error) {
	if err := checkShape(shape); err != nil {
		return nil, err
	}
	if math.IsNaN(decay) || math.IsInf(decay, 0) || decay < 0 {
		return nil, fmt.Errorf("fmix: decay power %v, want a finite value >= 0: %w", decay, ErrInvalid)
	}
	if v != Official && v != Isotropic {
		return nil, fmt.Errorf("fmix: unknown %v: %w", v, ErrInvalid)
	}
	freqs, grid := FreqGrid(shape)
	scale := spectrumScale(freqs, shape, decay)
	for _, a := range scale {
		// Far below overflow, so that sums of draws stay finite.
		if !(a < 1e250) {
			return nil, fmt.Errorf("fmix: decay power %v overflows the spectrum of %v: %w", decay, shape, ErrInvalid)
		}
	}
	r := len(shape)
	p := &plan{shape: append([]int(nil), shape...), grid: grid, n: 1, nNormals: 2}
	for i := range shape {
		p.n *= shape[i]
	}
	for _, g := range grid {
		p.nNormals *= g
	}

	// The complex input's dims: the grid (Isotropic), or the grid without
	// its first axis followed by the two harmonics (Official).
	var in []int
	if v == Isotropic {
		in = append([]int(nil), grid...)
	} else {
		in = append(append([]int(nil), grid[1:]...), 2)
	}
	last := shape[r-1]/2 + 1
	p.wd = append([]int(nil), shape[:r-1]...)
	p.wd = append(p.wd, min(in[r-1], last))
	p.ext = make([]int, r)
	for k := range p.ext {
		p.ext[k] = min(in[k], p.wd[k])
	}
	size := 1
	for _, d := range p.wd {
		size *= d
	}
	p.work = make([]complex128, size)

	// Map every input coefficient inside the kept extents to its draws.
	inStride := strides(in)
	wStride := strides(p.wd)
	gridRest := p.nNormals / 2 / grid[0] // prod(grid[1:])
	idx := make([]int, r)
	for flat := 0; flat < prod(in); flat++ {
		rem, pos, inside := flat, 0, true
		for k := 0; k < r; k++ {
			idx[k] = rem / inStride[k]
			rem %= inStride[k]
			if idx[k] >= p.ext[k] {
				inside = false
			}
			pos += idx[k] * wStride[k]
		}
		if !inside {
			continue
		}
		if v == Isotropic {
			p.terms = append(p.terms, term{pos: pos, re: 2 * flat, im: 2*flat + 1, sre: scale[flat], sim: scale[flat]})
			continue
		}
		// Official: element (g1.., m) takes spectrum[0, 0, g1.., m] as its
		// real part and spectrum[0, 1, g1.., m] as its imaginary part.
		g := flat / 2 // flat index of (g1..) within grid[1:]
		m := flat % 2
		p.terms = append(p.terms, term{
			pos: pos,
			re:  2*g + m, im: 2*(gridRest+g) + m,
			sre: scale[g], sim: scale[gridRest+g],
		})
	}

	maxLine := 0
	p.cffts = make([]inverseFFT, r-1)
	for k := 0; k < r-1; k++ {
		p.cffts[k] = newInverseFFT(shape[k])
		maxLine = max(maxLine, shape[k])
	}
	p.line = make([]complex128, maxLine)
	s := shape[r-1]
	if p.wd[r-1] <= 2 {
		p.cosT = make([]float64, s)
		p.sinT = make([]float64, s)
		for k := range s {
			p.cosT[k], p.sinT[k] = unitCircle(k, s)
		}
	} else {
		p.rfft = newRealInverseFFT(s)
		p.coef = make([]complex128, last)
	}
	p.raw = make([]float64, p.n)
	return p, nil
}

// unitCircle returns cos and sin of 2πk/n, exact at multiples of π/2.
func unitCircle(k, n int) (c, s float64) {
	switch {
	case k == 0:
		return 1, 0
	case 2*k == n:
		return -1, 0
	case 4*k == n:
		return 0, 1
	case 4*k == 3*n:
		return 0, -1
	}
	return math.Cos(2 * math.Pi * float64(k) / float64(n)), math.Sin(2 * math.Pi * float64(k) / float64(n))
}

func strides(dims []int) []int {
	st := make([]int, len(dims))
	acc := 1
	for k := len(dims) - 1; k >= 0; k-- {
		st[k] = acc
		acc *= dims[k]
	}
	return st
}

func prod(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// load zeroes the work array and writes every coefficient from coeff.
func (p *plan) load(coeff func(t *term) complex128) {
	clear(p.work)
	for i := range p.terms {
		t := &p.terms[i]
		p.work[t.pos] = coeff(t)
	}
}

// image runs the inverse transform on the loaded work array and writes the
// min-max normalised image to out (length p.n). It reports false when the
// image is constant or not finite.
func (p *plan) image(out []float64) bool {
	p.inverseLeading()
	mn, mx := p.inverseLast()
	if !(mx > mn) || math.IsInf(mx-mn, 0) {
		return false
	}
	// As numpy: subtract the minimum, then divide by the new maximum.
	d := mx - mn
	for i, x := range p.raw {
		out[i] = (x - mn) / d
	}
	return true
}

// inverseLeading runs unnormalised inverse complex FFTs along every axis
// but the last, skipping lines that are still all zero padding. The
// normalisation numpy applies (1/n per axis) is a positive factor the
// min-max normalisation removes, so it is left out.
func (p *plan) inverseLeading() {
	r := len(p.wd)
	if r == 1 {
		return
	}
	// Pad dims to three axes: (d0, d1, d2) with the last being the bins.
	var dims, ext [3]int
	off := 3 - r
	for k := 0; k < 3; k++ {
		if k < off {
			dims[k], ext[k] = 1, 1
		} else {
			dims[k], ext[k] = p.wd[k-off], p.ext[k-off]
		}
	}
	st := [3]int{dims[1] * dims[2], dims[2], 1}
	for axis := off; axis < 2; axis++ {
		n := dims[axis]
		line := p.line[:n]
		fft := p.cffts[axis-off]
		lo := ext
		lo[axis] = 1
		for a := 0; a < lo[0]; a++ {
			for b := 0; b < lo[1]; b++ {
				for c := 0; c < lo[2]; c++ {
					base := a*st[0] + b*st[1] + c*st[2]
					s := st[axis]
					e := ext[axis]
					for t := 0; t < e; t++ {
						line[t] = p.work[base+t*s]
					}
					clear(line[e:])
					fft.inverse(line)
					for t := 0; t < n; t++ {
						p.work[base+t*s] = line[t]
					}
				}
			}
		}
		ext[axis] = n
	}
}

// inverseLast runs the real inverse transform along the last axis into
// p.raw and returns the image's minimum and maximum.
func (p *plan) inverseLast() (mn, mx float64) {
	r := len(p.shape)
	s := p.shape[r-1]
	bins := p.wd[r-1]
	rows := p.n / s
	mn, mx = math.Inf(1), math.Inf(-1)
	if p.rfft == nil {
		for row := 0; row < rows; row++ {
			a, pc, qs := p.rowCoef(row)
			out := p.raw[row*s : (row+1)*s]
			cosT, sinT := p.cosT[:s], p.sinT[:s]
			for k := range out {
				x := harmonic(a, pc, qs, cosT[k], sinT[k])
				out[k] = x
				if x < mn {
					mn = x
				}
				if x > mx {
					mx = x
				}
			}
		}
		return mn, mx
	}
	for row := 0; row < rows; row++ {
		copy(p.coef, p.work[row*bins:(row+1)*bins])
		clear(p.coef[bins:])
		out := p.raw[row*s : (row+1)*s]
		p.rfft.sequence(out, p.coef)
		for _, x := range out {
			if x < mn {
				mn = x
			}
			if x > mx {
				mx = x
			}
		}
	}
	return mn, mx
}

// mask binarises the image of the loaded spectrum into dst for the rank
// cut [lo, hi) (see binariser.finish) without normalising every value: the
// histogram is taken on the raw image, and only the values next to the cut
// are normalised to be ranked exactly as the normalised image ranks them.
// It reports false when the image is constant.
func (p *plan) mask(dst []float64, b *binariser, lo, hi int) bool {
	p.inverseLeading()
	var mn, mx, inv float64
	if p.rfft == nil {
		mn, mx = p.closedMinMax()
		if !(mx > mn) {
			return false
		}
		p.closedMask(dst, b, mn, mx, lo, hi)
		return true
	}
	hist := b.buckets(p.n)
	last := len(hist) - 1
	mn, mx = p.inverseLast()
	if !(mx > mn) {
		return false
	}
	inv = float64(len(hist)) / (mx - mn)
	for _, x := range p.raw {
		hist[bucketOf(x, mn, inv, last)]++
	}
	b.finish(dst, p.raw, hist, mn, inv, mx-mn, lo, hi)
	return true
}
