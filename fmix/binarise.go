package fmix

import (
	"fmt"
	"math"
	"slices"
)

// Binarise returns the mask: the top ceil(lam*N) (roundUp) or floor(lam*N)
// values of lowFreq set to 1, the rest 0, with a linear 1→0 ramp of
// 2*int(N*eff) values around the cut when maxSoft > 0.
//
// It reproduces fmix.py's binarise_mask for a given coin (roundUp): values
// are ranked in descending order (numpy's argsort(...)[::-1], so equal values
// rank the later index first); with num the number of ones and
// soft = int(N*eff), where eff is maxSoft, or min(lam, 1-lam) when maxSoft
// exceeds lam or 1-lam, ranks [0, num-soft) get 1, ranks
// [num-soft, num+soft) get numpy's linspace(1, 0, 2*soft) and the rest 0.
//
// Binarise returns nil when the arguments are invalid (lam outside [0, 1],
// maxSoft outside [0, 0.5], an empty or non-finite lowFreq); BinariseTo
// returns the reason.
func Binarise(lowFreq []float64, lam float64, roundUp bool, maxSoft float64) []float64 {
	out := make([]float64, len(lowFreq))
	var b binariser
	if err := b.run(out, lowFreq, lam, roundUp, maxSoft, false); err != nil {
		return nil
	}
	return out
}

// BinariseTo is Binarise writing into dst, which must have the length of
// lowFreq and must not overlap it. Errors wrap ErrInvalid.
func BinariseTo(dst, lowFreq []float64, lam float64, roundUp bool, maxSoft float64) error {
	var b binariser
	return b.run(dst, lowFreq, lam, roundUp, maxSoft, false)
}

// checkLam validates λ and the softening.
func checkLam(lam, maxSoft float64) error {
	if !(lam >= 0 && lam <= 1) {
		return fmt.Errorf("fmix: lambda %v outside [0, 1]: %w", lam, ErrInvalid)
	}
	if !(maxSoft >= 0 && maxSoft <= 0.5) {
		return fmt.Errorf("fmix: max soft %v outside [0, 0.5]: %w", maxSoft, ErrInvalid)
	}
	return nil
}

// cut returns the rank range [lo, hi) of the ramp (lo == hi: no ramp,
// lo ones) for n values, as binarise_mask computes it.
func cut(n int, lam float64, roundUp bool, maxSoft float64) (lo, hi int) {
	var num int
	if roundUp {
		num = int(math.Ceil(lam * float64(n)))
	} else {
		num = int(math.Floor(lam * float64(n)))
	}
	eff := maxSoft
	if maxSoft > lam || maxSoft > 1-lam {
		eff = min(lam, 1-lam)
	}
	soft := int(float64(n) * eff)
	return num - soft, num + soft
}

// binariser ranks values with a histogram and sorts only the values whose
// rank decides their mask value: the buckets holding the cut or the ramp.
// Its buffers are reused between calls; it is not safe for concurrent use.
type binariser struct {
	hist []int32
	cand []int32
}

// run writes the mask of y into dst. unit says y is known to lie in [0, 1]
// with no NaN (a normalised low-frequency image), which skips a pass.
func (b *binariser) run(dst, y []float64, lam float64, roundUp bool, maxSoft float64, unit bool) error {
	if err := checkLam(lam, maxSoft); err != nil {
		return err
	}
	n := len(y)
	if n == 0 {
		return fmt.Errorf("fmix: binarise an empty image: %w", ErrInvalid)
	}
	if len(dst) != n {
		return fmt.Errorf("fmix: binarise %d values into %d: %w", n, len(dst), ErrInvalid)
	}
	if n > math.MaxInt32 {
		return fmt.Errorf("fmix: binarise %d values: too many: %w", n, ErrInvalid)
	}
	mn, mx := 0.0, 1.0
	if !unit {
		mn, mx = math.Inf(1), math.Inf(-1)
		for i, x := range y {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("fmix: binarise: value %d is %v: %w", i, x, ErrInvalid)
			}
			if x < mn {
				mn = x
			}
			if x > mx {
				mx = x
			}
		}
	}
	lo, hi := cut(n, lam, roundUp, maxSoft)
	ramp := hi - lo
	hi = min(hi, n) // numpy would fail here; keep the ramp's start

	// Histogram over equal-width buckets of [mn, mx].
	k := min(max(n/8, 16), 1<<16)
	if cap(b.hist) < k {
		b.hist = make([]int32, k)
	}
	hist := b.hist[:k]
	clear(hist)
	inv := 0.0
	if mx > mn {
		inv = float64(k) / (mx - mn)
	}
	last := k - 1
	for _, x := range y {
		hist[min(int((x-mn)*inv), last)]++
	}

	// Walk the buckets from the top, tracking each one's rank interval
	// [start, end). Buckets that straddle lo or hi, or hold ramp ranks,
	// are candidates; the rest are all ones or all zeros.
	top, bot := -1, k // candidate buckets [bot, top]; empty when top < bot
	thr := 0          // when there is no candidate: buckets >= thr are ones
	topStart := 0
	start := 0
	for bk := last; bk >= 0; bk-- {
		c := int(hist[bk])
		if c == 0 {
			continue
		}
		end := start + c
		if (start < hi && end > lo) || (start < lo && lo < end) || (start < hi && hi < end) {
			if top < 0 {
				top, topStart = bk, start
			}
			bot = bk
		} else if end <= lo {
			thr = bk
		}
		start = end
	}
	if top < 0 {
		top, bot = thr-1, thr
		if lo == 0 {
			top, bot = last, last+1 // no ones at all
		}
	}

	cand := b.cand[:0]
	for i, x := range y {
		bk := min(int((x-mn)*inv), last)
		switch {
		case bk > top:
			dst[i] = 1
		case bk < bot:
			dst[i] = 0
		default:
			cand = append(cand, int32(i))
		}
	}
	b.cand = cand
	if len(cand) == 0 {
		return nil
	}
	slices.SortFunc(cand, func(a, c int32) int {
		ya, yc := y[a], y[c]
		switch {
		case ya > yc:
			return -1
		case ya < yc:
			return 1
		}
		return int(c - a) // equal values: the later index ranks first
	})
	step := 0.0
	if ramp > 1 {
		step = -1 / float64(ramp-1)
	}
	for t, i := range cand {
		rank := topStart + t
		switch {
		case rank < lo:
			dst[i] = 1
		case rank >= hi:
			dst[i] = 0
		case rank-lo == ramp-1:
			dst[i] = 0 // linspace ends exactly at its stop
		default:
			dst[i] = float64(rank-lo)*step + 1
		}
	}
	return nil
}
