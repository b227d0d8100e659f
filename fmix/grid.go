package fmix

import (
	"errors"
	"fmt"
	"math"
)

// Variant selects how the complex spectrum is built from the Gaussian draws.
type Variant int

const (
	// Official is what the published fmix.py computes: only harmonics 0
	// and 1 survive along the last mask axis.
	Official Variant = iota
	// Isotropic is what the paper describes: every grid frequency
	// contributes, with independent real and imaginary parts.
	Isotropic
)

// String returns "official" or "isotropic".
func (v Variant) String() string {
	switch v {
	case Official:
		return "official"
	case Isotropic:
		return "isotropic"
	}
	return fmt.Sprintf("Variant(%d)", int(v))
}

// ParseVariant parses "official" or "isotropic" (the empty string is Official).
func ParseVariant(s string) (Variant, error) {
	switch s {
	case "", "official":
		return Official, nil
	case "isotropic":
		return Isotropic, nil
	}
	return 0, fmt.Errorf("fmix: unknown variant %q (want official or isotropic): %w", s, ErrInvalid)
}

// ErrInvalid is wrapped by every error about invalid arguments: shapes,
// draws, λ, softening, options and tensor sizes.
var ErrInvalid = errors.New("invalid argument")

// MaxRank is the largest number of mask dimensions (the published code
// supports 1, 2 and 3).
const MaxRank = 3

// checkShape reports whether shape is a mask shape the package supports.
func checkShape(shape []int) error {
	if len(shape) < 1 || len(shape) > MaxRank {
		return fmt.Errorf("fmix: mask shape %v has rank %d, want 1 to %d: %w", shape, len(shape), MaxRank, ErrInvalid)
	}
	n := 1
	for _, d := range shape {
		if d < 2 {
			return fmt.Errorf("fmix: mask shape %v has a dimension below 2: %w", shape, ErrInvalid)
		}
		if n > math.MaxInt32/d {
			return fmt.Errorf("fmix: mask shape %v is too large: %w", shape, ErrInvalid)
		}
		n *= d
	}
	return nil
}

// fftfreq returns numpy's fftfreq(n)[i] for sample spacing 1: i/n for the
// non-negative half, (i-n)/n after it, computed as numpy does (k * (1/n)).
func fftfreq(n, i int) float64 {
	val := 1.0 / float64(n)
	if i < (n-1)/2+1 {
		return float64(i) * val
	}
	return float64(i-n) * val
}

// gridShape returns the frequency grid for a valid mask shape: h (full), then
// z (full) for 3D masks, then w//2+1 bins of w (w//2+2 when w is odd).
func gridShape(shape []int) []int {
	switch len(shape) {
	case 1:
		return []int{shape[0]}
	case 2:
		return []int{shape[0], halfBins(shape[1])}
	default:
		return []int{shape[0], shape[2], halfBins(shape[1])}
	}
}

// halfBins is the number of bins fmix.py keeps along its second axis: one
// more than rfft for odd sizes.
func halfBins(w int) int {
	if w%2 == 1 {
		return w/2 + 2
	}
	return w/2 + 1
}

// FreqGrid returns the frequency magnitudes (C order) and the grid shape for
// a mask shape of 1-3 dims, as fmix.py's fftfreqnd computes them.
//
// For shape (h) the grid is (h); for (h, w) it is (h, w') and for (h, w, z)
// it is (h, z, w'), where w' is w//2+1 for even w and w//2+2 for odd w. A
// magnitude is sqrt(fx²+fy²+fz²) with fy = fftfreq(h), fx = fftfreq(w)[:w'],
// fz = fftfreq(z). FreqGrid returns nil, nil for a shape the package rejects
// (rank outside 1..3 or a dimension below 2).
func FreqGrid(shape []int) (freqs []float64, grid []int) {
	if checkShape(shape) != nil {
		return nil, nil
	}
	grid = gridShape(shape)
	h := shape[0]
	switch len(shape) {
	case 1:
		freqs = make([]float64, h)
		for i := range freqs {
			fy := fftfreq(h, i)
			freqs[i] = math.Sqrt(fy * fy)
		}
	case 2:
		w, wb := shape[1], grid[1]
		freqs = make([]float64, h*wb)
		for i := 0; i < h; i++ {
			fy := fftfreq(h, i)
			for j := 0; j < wb; j++ {
				fx := fftfreq(w, j)
				freqs[i*wb+j] = math.Sqrt(fx*fx + fy*fy)
			}
		}
	default:
		w, z, wb := shape[1], shape[2], grid[2]
		freqs = make([]float64, h*z*wb)
		for i := 0; i < h; i++ {
			fy := fftfreq(h, i)
			for k := 0; k < z; k++ {
				fz := fftfreq(z, k)
				for j := 0; j < wb; j++ {
					fx := fftfreq(w, j)
					freqs[(i*z+k)*wb+j] = math.Sqrt(fx*fx + fy*fy + fz*fz)
				}
			}
		}
	}
	return freqs, grid
}

// spectrumScale returns fmix.py's per-frequency amplitude
// 1 / max(f, 1/max(shape))^decay for every grid frequency.
func spectrumScale(freqs []float64, shape []int, decay float64) []float64 {
	m := 0
	for _, d := range shape {
		m = max(m, d)
	}
	floor := 1.0 / float64(m)
	scale := make([]float64, len(freqs))
	for i, f := range freqs {
		scale[i] = 1 / math.Pow(math.Max(f, floor), decay)
	}
	return scale
}
