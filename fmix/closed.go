package fmix

import "math"

// The Official variant's closed form: with at most two bins along the last
// axis, every row of the image is a + pc·cos(2πk/s) + qs·sin(2πk/s), which
// gives its extremes without a full scan and lets the mask passes evaluate
// rows instead of storing the image.

// rowCoef returns the closed form of one row along the last axis when at
// most two bins survive: x[k] = a + pc·cos(2πk/s) + qs·sin(2πk/s), which is
// Re c0 + 2·Re(c1·e^{2πik/s}). At s = 2 bin 1 is the Nyquist bin, whose
// imaginary part a real inverse transform ignores.
func (p *plan) rowCoef(row int) (a, pc, qs float64) {
	s := p.shape[len(p.shape)-1]
	bins := p.wd[len(p.wd)-1]
	c := p.work[row*bins : (row+1)*bins]
	a = real(c[0])
	if bins == 2 {
		if s == 2 {
			pc = real(c[1])
		} else {
			pc, qs = 2*real(c[1]), -2*imag(c[1])
		}
	}
	return a, pc, qs
}

// harmonic evaluates a closed-form row at one sample. Every caller uses it,
// so a value is computed bit-identically wherever it is needed.
func harmonic(a, pc, qs, c, s float64) float64 {
	return a + pc*c + qs*s
}

// closedMinMax returns the image's extremes in the closed form without
// evaluating every sample. Along a row, pc·cos θ + qs·sin θ has amplitude
// R = hypot(pc, qs), and some sample lies within π/s of the peak, so the
// row's largest sample is in [a + R·cos(π/s), a + R]; only rows whose
// upper bound reaches the best lower bound can hold the image's maximum,
// and only those are scanned (likewise for the minimum).
func (p *plan) closedMinMax() (mn, mx float64) {
	s := p.shape[len(p.shape)-1]
	rows := p.n / s
	c := math.Cos(math.Pi / float64(s))
	bestLow, bestHigh := math.Inf(-1), math.Inf(1) // max of row-max lower bounds, min of row-min upper bounds
	for row := 0; row < rows; row++ {
		a, pc, qs := p.rowCoef(row)
		r := math.Sqrt(pc*pc + qs*qs)
		bestLow = max(bestLow, a+r*c)
		bestHigh = min(bestHigh, a-r*c)
	}
	mn, mx = math.Inf(1), math.Inf(-1)
	for row := 0; row < rows; row++ {
		a, pc, qs := p.rowCoef(row)
		r := math.Sqrt(pc*pc + qs*qs)
		slack := 1e-9 * (math.Abs(a) + r) // rounding in the bounds
		if a+r < bestLow-slack && a-r > bestHigh+slack {
			continue
		}
		for k := 0; k < s; k++ {
			x := harmonic(a, pc, qs, p.cosT[k], p.sinT[k])
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

// closedMask is binariser.finish for the closed form. Both passes
// evaluate the rows instead of storing the image, and on large masks the
// histogram is taken on every fourth row only: it places the candidate
// buckets, and the classifying pass then checks with exact counts that the
// ranks that matter fell among the candidates (falling back to a full
// histogram when they did not).
//
// Buckets come from the rows' scaled coefficients u = (x-mn)·inv, which
// agree with bucketOf(x) up to rounding; values whose keys tie across a
// bucket edge are at most one bucket apart, which is why the candidates'
// edge buckets must hold no rank that matters.
func (p *plan) closedMask(dst []float64, b *binariser, mn, mx float64, lo, hi int) {
	n := p.n
	if fillConstant(dst, lo, hi) {
		return
	}
	s := p.shape[len(p.shape)-1]
	rows := n / s
	norm := mx - mn
	rmin, rmax := max(lo-1, 0), min(hi, n-1)
	if rows >= 64 && n >= 1<<15 {
		const stride = 4
		hist := b.buckets(n / stride)
		inv := float64(len(hist)) / norm
		p.closedHist(hist, mn, inv, stride)
		margin := closedMargin(n, s)
		top, bot := estimateBounds(hist, stride, n, max(rmin-margin, 0), min(rmax+margin, n-1))
		ones, edgeTop, edgeBot := p.closedClassify(dst, b, mn, inv, norm, top, bot, len(hist)-1)
		// Edge buckets matter only where values lie beyond them.
		if top == len(hist)-1 {
			edgeTop = 0
		}
		if bot == 0 {
			edgeBot = 0
		}
		if ones+edgeTop <= rmin && ones+len(b.cand)-edgeBot > rmax {
			b.rank(dst, ones, lo, hi)
			return
		}
		closedFallbacks++
	}
	hist := b.buckets(n)
	inv := float64(len(hist)) / norm
	p.closedHist(hist, mn, inv, 1)
	top, bot, topStart, _ := b.bounds(dst, hist, lo, hi)
	p.closedClassify(dst, b, mn, inv, norm, top, bot, len(hist)-1)
	b.rank(dst, topStart, lo, hi)
}

// closedFallbacks counts closedMask's fallbacks to a full histogram (read
// by tests).
var closedFallbacks int

// closedMargin is how many ranks beyond the ones that matter the
// estimated candidate buckets cover (a variable so tests can force the
// fallback).
var closedMargin = func(n, rowLen int) int { return max(n/128, 4*rowLen) }

// closedHist counts the buckets of every stride-th row.
func (p *plan) closedHist(hist []int32, mn, inv float64, stride int) {
	s := p.shape[len(p.shape)-1]
	cosT, sinT := p.cosT[:s], p.sinT[:s]
	last := len(hist) - 1
	for row := 0; row < p.n/s; row += stride {
		a, pc, qs := p.rowCoef(row)
		a, pc, qs = (a-mn)*inv, pc*inv, qs*inv
		for k := range cosT {
			hist[min(int(a+pc*cosT[k]+qs*sinT[k]), last)]++
		}
	}
}

// closedClassify writes 1 for buckets above top, 0 below bot, and gathers
// the values of buckets [bot, top] as candidates with their exact keys. It
// returns the number of ones and of candidates in the edge buckets top and
// bot.
func (p *plan) closedClassify(dst []float64, b *binariser, mn, inv, norm float64, top, bot, last int) (ones, edgeTop, edgeBot int) {
	s := p.shape[len(p.shape)-1]
	cosT, sinT := p.cosT[:s], p.sinT[:s]
	// bucket > top ⟺ u ≥ top+1 and bucket ≥ bot ⟺ u ≥ bot (the last
	// bucket also holds u ≥ K, the first u < 0 from rounding).
	t1, t0 := float64(top+1), float64(bot)
	eTop, eBot := float64(top), float64(bot+1)
	if top == last {
		t1 = math.Inf(1)
	}
	if bot == 0 {
		t0 = math.Inf(-1)
	}
	cand := b.cand[:0]
	for row := 0; row < p.n/s; row++ {
		a, pc, qs := p.rowCoef(row)
		sa, spc, sqs := (a-mn)*inv, pc*inv, qs*inv
		out := dst[row*s : (row+1)*s]
		out = out[:len(cosT)]
		for k := range cosT {
			u := sa + spc*cosT[k] + sqs*sinT[k]
			switch {
			case u >= t1:
				out[k] = 1
				ones++
			case u >= t0:
				if u >= eTop {
					edgeTop++
				}
				if u < eBot {
					edgeBot++
				}
				x := harmonic(a, pc, qs, cosT[k], sinT[k])
				cand = append(cand, candidate{key: (x - mn) / norm, i: int32(row*s + k)})
			default:
				out[k] = 0
			}
		}
	}
	b.cand = cand
	return ones, edgeTop, edgeBot
}

// estimateBounds returns the buckets holding ranks rmin and rmax by a
// histogram of 1/stride of the values, widened by one bucket each side.
func estimateBounds(hist []int32, stride, n, rmin, rmax int) (top, bot int) {
	last := len(hist) - 1
	top, bot = rankBuckets(hist, stride, rmin, rmax)
	// The first and last ranks need the extreme buckets whatever the
	// estimate says.
	if rmin == 0 {
		top = last
	}
	if rmax == n-1 {
		bot = 0
	}
	return top, bot
}
