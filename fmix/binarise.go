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
	if err := b.run(out, lowFreq, lam, roundUp, maxSoft); err != nil {
		return nil
	}
	return out
}

// BinariseTo is Binarise writing into dst, which must have the length of
// lowFreq and must not overlap it. Errors wrap ErrInvalid.
func BinariseTo(dst, lowFreq []float64, lam float64, roundUp bool, maxSoft float64) error {
	var b binariser
	return b.run(dst, lowFreq, lam, roundUp, maxSoft)
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
// rank decides their mask value: the buckets around the cut and the ramp.
// Its buffers are reused between calls; it is not safe for concurrent use.
type binariser struct {
	hist  []int32
	hist2 []int32
	cand  []candidate
}

// candidate is a value whose rank must be known exactly.
type candidate struct {
	key float64
	i   int32
}

// buckets returns a cleared histogram sized for n values.
func (b *binariser) buckets(n int) []int32 {
	// Small images afford fine buckets (fewer values to sort); large ones
	// keep the histogram within cache.
	k := min(max(n/8, 16), 1<<16)
	if n <= 1<<14 {
		k = max(n/3, 16)
	}
	if cap(b.hist) < k {
		b.hist = make([]int32, k)
	}
	h := b.hist[:k]
	clear(h)
	return h
}

// bucketOf maps x to its histogram bucket: equal-width buckets over
// [mn, mn + len/inv], monotone in x.
func bucketOf(x, mn, inv float64, last int) int {
	return min(int((x-mn)*inv), last)
}

// run writes the mask of y into dst, validating everything.
func (b *binariser) run(dst, y []float64, lam float64, roundUp bool, maxSoft float64) error {
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
	mn, mx := math.Inf(1), math.Inf(-1)
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
	hist := b.buckets(n)
	inv := 0.0
	if mx > mn {
		inv = float64(len(hist)) / (mx - mn)
	}
	last := len(hist) - 1
	for _, x := range y {
		hist[bucketOf(x, mn, inv, last)]++
	}
	lo, hi := cut(n, lam, roundUp, maxSoft)
	b.finish(dst, y, hist, mn, inv, 0, lo, hi)
	return nil
}

// finish writes the mask of x given hist, the histogram of
// bucketOf(x, mn, inv). Values rank by key, which is x itself when norm is
// 0 and (x-mn)/norm otherwise (the normalised image, computed only for the
// values that need it), descending, equal keys ranking the later index
// first. Ranks below lo are 1, ranks from hi on 0, ranks between numpy's
// linspace(1, 0, hi-lo).
func (b *binariser) finish(dst, x []float64, hist []int32, mn, inv, norm float64, lo, hi int) {
	top, bot, topStart, done := b.bounds(dst, hist, lo, hi)
	if done {
		return
	}
	last := len(hist) - 1
	cand := b.cand[:0]
	span := uint(top - bot)
	zeroOne := [2]float64{0, 1}
	for i, v := range x {
		bk := bucketOf(v, mn, inv, last)
		// 1 above the candidate buckets, 0 below; candidates fixed later.
		dst[i] = zeroOne[((top-bk)>>(intBits-1))&1]
		if uint(bk-bot) <= span {
			k := v
			if norm > 0 {
				k = (v - mn) / norm
			}
			cand = append(cand, candidate{key: k, i: int32(i)})
		}
	}
	b.cand = cand
	b.rank(dst, topStart, lo, hi)
}

// bounds finds the candidate buckets [bot, top] whose values must be
// ranked one by one, and the number of values above them. It fills dst and
// reports done when no value needs ranking (all zeros or all ones).
//
// The keys are a monotone function of x, but rounding may make neighbours
// with different x equal keys; such neighbours are at most one bucket
// apart, so the candidate buckets are widened by one on each side.
func (b *binariser) bounds(dst []float64, hist []int32, lo, hi int) (top, bot, topStart int, done bool) {
	n := len(dst)
	if fillConstant(dst, lo, hi) {
		return 0, 0, 0, true
	}
	hi = min(hi, n)
	// The ranks whose class matters: lo-1 and lo (the first cut), hi-1
	// and hi (the second), everything between.
	top, bot = rankBuckets(hist, 1, max(lo-1, 0), min(hi, n-1))
	for bk := len(hist) - 1; bk > top; bk-- {
		topStart += int(hist[bk])
	}
	return top, bot, topStart, false
}

// rankBuckets returns the buckets holding ranks rmin and rmax (rank 0 is
// the largest value), counting stride values for each one in hist and
// scanning down from the top bucket, widened by one bucket each side. A
// rank beyond the counted values is taken to lie in bucket 0.
func rankBuckets(hist []int32, stride, rmin, rmax int) (top, bot int) {
	last := len(hist) - 1
	top, bot = -1, 0
	start := 0
	for bk := last; bk >= 0; bk-- {
		end := start + stride*int(hist[bk])
		if top < 0 && rmin < end {
			top = bk
		}
		if rmax < end {
			bot = bk
			break
		}
		start = end
	}
	return min(max(top, 0)+1, last), max(bot-1, 0)
}

// fillConstant fills dst and reports true when the cut makes every value
// 0 (no ranks below hi) or 1 (no ranks from lo on).
func fillConstant(dst []float64, lo, hi int) bool {
	n := len(dst)
	if hi > 0 && lo < n {
		return false
	}
	v := 0.0
	if lo >= n {
		v = 1
	}
	for i := range dst {
		dst[i] = v
	}
	return true
}

// rank writes the candidates' mask values: they hold ranks topStart
// onwards. Many candidates are narrowed first with a histogram of their
// keys (exact ones: equal keys share a bucket), so only those next to the
// ranks that matter are sorted.
func (b *binariser) rank(dst []float64, topStart, lo, hi int) {
	cand := b.cand
	if len(cand) > 256 {
		kmin, kmax := cand[0].key, cand[0].key
		for _, c := range cand {
			kmin, kmax = min(kmin, c.key), max(kmax, c.key)
		}
		k := len(cand) / 8
		if cap(b.hist2) < k {
			b.hist2 = make([]int32, k)
		}
		hist := b.hist2[:k]
		clear(hist)
		inv := 0.0
		if kmax > kmin {
			inv = float64(k) / (kmax - kmin)
		}
		last := k - 1
		for _, c := range cand {
			hist[bucketOf(c.key, kmin, inv, last)]++
		}
		// Ranks relative to the candidates that matter: lo-1 to hi.
		rmin := max(lo-1-topStart, 0)
		rmax := min(hi-topStart, len(cand)-1)
		top, bot, start := last, 0, 0
		found := false
		for bk := last; bk >= 0; bk-- {
			end := start + int(hist[bk])
			if !found && rmin < end {
				top, found = bk, true
			}
			if rmax < end {
				bot = bk
				break
			}
			start = end
		}
		above := 0
		for bk := last; bk > top; bk-- {
			above += int(hist[bk])
		}
		keep := cand[:0]
		for _, c := range cand {
			switch bk := bucketOf(c.key, kmin, inv, last); {
			case bk > top:
				dst[c.i] = 1
			case bk < bot:
				dst[c.i] = 0
			default:
				keep = append(keep, c)
			}
		}
		cand = keep
		topStart += above
	}
	b.sortRanks(cand, dst, topStart, lo, hi)
}

// sortRanks sorts candidates (descending key, equal keys later index
// first) holding ranks topStart onwards and writes their mask values.
func (b *binariser) sortRanks(cand []candidate, dst []float64, topStart, lo, hi int) {
	ramp := hi - lo
	hi = min(hi, len(dst)) // numpy would fail here; keep the ramp's start
	slices.SortFunc(cand, func(a, c candidate) int {
		switch {
		case a.key > c.key:
			return -1
		case a.key < c.key:
			return 1
		}
		return int(c.i - a.i) // equal keys: the later index ranks first
	})
	step := 0.0
	if ramp > 1 {
		step = -1 / float64(ramp-1)
	}
	for t, c := range cand {
		rank := topStart + t
		switch {
		case rank < lo:
			dst[c.i] = 1
		case rank >= hi:
			dst[c.i] = 0
		case rank-lo == ramp-1:
			dst[c.i] = 0 // linspace ends exactly at its stop
		default:
			dst[c.i] = float64(rank-lo)*step + 1
		}
	}
}

// intBits is the width of int.
const intBits = 32 << (^uint(0) >> 63)
