package kernels

import (
	"fmt"
	"runtime"
)

// Blocking of the k and n dimensions: a kc×nc panel of op(B) (256×512
// floats, 512 KiB) stays in L2 while rows of A stream over it.
const (
	gemmKC = 256
	gemmNC = 512
)

// parallelMinFlops is the work below which Sgemm runs on one goroutine.
const parallelMinFlops = 1 << 20

// Sgemm computes C = alpha·op(A)·op(B) + beta·C, where op(X) is X or Xᵀ,
// op(A) is m×k, op(B) is k×n and C is m×n, all row-major with leading
// dimensions lda, ldb and ldc (the stride between rows as stored: A is
// stored k×m when transA). When beta is 0, C is overwritten without being
// read, so it may hold NaNs. Sgemm uses all available cores for large
// products.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if sgemmDot(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	sgemmThreads(workers(m, n, k), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// workers returns how many goroutines a product of this size is worth.
func workers(m, n, k int) int {
	w := runtime.GOMAXPROCS(0)
	if 2*m*n*k < parallelMinFlops || m < 8 {
		return 1
	}
	if w > m/4 {
		w = max(m/4, 1)
	}
	return w
}

func checkGemm(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: Sgemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	check := func(name string, rows, cols, l, ld int) {
		if rows == 0 || cols == 0 {
			return
		}
		if ld < cols {
			panic(fmt.Sprintf("kernels: Sgemm: ld%s=%d < %d columns", name, ld, cols))
		}
		if need := (rows-1)*ld + cols; l < need {
			panic(fmt.Sprintf("kernels: Sgemm: len(%s)=%d, need %d", name, l, need))
		}
	}
	check("a", ar, ac, la, lda)
	check("b", br, bc, lb, ldb)
	check("c", m, n, lc, ldc)
}

// sgemmThreads is Sgemm without checks, split over up to t goroutines by
// rows of C.
func sgemmThreads(t int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if t <= 1 {
		sgemmSerial(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	// On the pure-Go path, transpose B once for all workers (the packed
	// path reads op(B) directly).
	if transB && k > 0 && activeKernel == nil {
		bt := getBuf(k * n)
		packTrans(bt.s, b, ldb, n, k)
		defer putBuf(bt)
		b, ldb, transB = bt.s, n, false
	}
	step := 4
	if mk := kernelFor(n); mk != nil {
		step = mk.mr
	}
	chunk := roundUp((m+t-1)/t, step)
	runWorkers((m+chunk-1)/chunk, func(w int) {
		i0 := w * chunk
		rows := min(chunk, m-i0)
		aOff := i0 * lda
		if transA {
			aOff = i0
		}
		sgemmSerial(transA, transB, rows, n, k, alpha, a[aOff:], lda, b, ldb, beta, c[i0*ldc:], ldc)
	})
}

// packTrans writes the k×n transpose of the n×k matrix b (stride ldb) to
// dst with stride n.
func packTrans(dst, b []float32, ldb, n, k int) {
	const tile = 32
	for j0 := 0; j0 < n; j0 += tile {
		for p0 := 0; p0 < k; p0 += tile {
			for j := j0; j < min(j0+tile, n); j++ {
				row := b[j*ldb:]
				for p := p0; p < min(p0+tile, k); p++ {
					dst[p*n+j] = row[p]
				}
			}
		}
	}
}

// scaleC applies beta to the m×n matrix C.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// gemmSrcThreads computes C = A·op(B) + beta·C with the packed microkernel
// mk and op(B) from src, split over up to t goroutines by rows of C, then
// tail on C. A may come pre-packed in pa.
func gemmSrcThreads(mk *microKernel, t, m, n, k int, a []float32, lda int, pa *packedA, src *bSource, beta float32, c []float32, ldc int, tail cTail) {
	// op(B) read as it lies (a pointwise convolution of a small map) is
	// shared by row parts for free: narrow products with A pre-packed
	// split by rows then, evenly, where whole panels would not (196
	// columns are 6⅛ panels).
	_, _, direct := src.direct()
	direct = direct && mk.masked != nil
	narrowDirect := direct && pa != nil && n <= packNC
	if t > 1 && n >= 2*t*mk.nr && (pa != nil || n > m) && !narrowDirect {
		// Wide products split by columns: each goroutine packs only its
		// own part of op(B) (a split by rows would have every goroutine
		// pack all of it); A is pre-packed or the smaller operand. With
		// A pre-packed, the panels in parts taken dynamically, largest
		// first (guidedParts); otherwise one part a goroutine.
		if pa != nil {
			bounds := guidedParts((n+mk.nr-1)/mk.nr, t)
			parallelFor(t, len(bounds)-1, func(_, i int) {
				j0, j1 := bounds[i]*mk.nr, min(bounds[i+1]*mk.nr, n)
				part := *src
				part.col0 += j0
				sgemmPackedSrc(mk, false, m, j1-j0, k, 1, a, lda, pa, &part, beta, c[j0:], ldc, tail.at(0, j0, ldc))
			})
			return
		}
		chunk := roundUp((n+t-1)/t, mk.nr)
		parallelFor(t, (n+chunk-1)/chunk, func(_, i int) {
			j0 := i * chunk
			part := *src
			part.col0 += j0
			sgemmPackedSrc(mk, false, m, min(chunk, n-j0), k, 1, a, lda, pa, &part, beta, c[j0:], ldc, tail.at(0, j0, ldc))
		})
		return
	}
	if t <= 1 || m < 2*mk.mr {
		sgemmPackedSrc(mk, false, m, n, k, 1, a, lda, pa, src, beta, c, ldc, tail)
		return
	}
	rowPart := func(i0, rows int, src *bSource) {
		var part *packedA
		var aPart []float32
		if pa != nil {
			part = &packedA{s: pa.s, mpad: pa.mpad, row0: pa.row0 + i0}
		} else {
			aPart = a[i0*lda:]
		}
		sgemmPackedSrc(mk, false, rows, n, k, 1, aPart, lda, part, src, beta, c[i0*ldc:], ldc, tail.at(i0, 0, ldc))
	}
	if pa == nil || n > packNC {
		chunk := roundUp((m+t-1)/t, mk.mr)
		runWorkers((m+chunk-1)/chunk, func(w int) { rowPart(w*chunk, min(chunk, m-w*chunk), src) })
		return
	}
	// Narrow products with A pre-packed (a layer with small feature maps
	// at batch 1): op(B) is packed once, by all cores, instead of once
	// per row part (or read as it lies); then the strips of rows, in
	// parts taken dynamically, largest first (guidedParts: ResNet-101's
	// 1024→256 layers at 14×14 had 7⅓ parts of 3 strips, one core
	// finishing a part after the other).
	shared := *src
	if !direct {
		ncPad := roundUp(n, mk.nr)
		step := kStep(k)
		pre := getBuf(k * ncPad)
		defer putBuf(pre)
		parallelFor(t, (k+step-1)/step, func(_, b int) {
			pc := b * step
			src.pack(pre.s[pc*ncPad:], pc, min(step, k-pc), 0, n, mk.nr)
		})
		shared.pre = pre.s
	}
	// op(B) read as it lies is most often the last layer's output, half
	// of it in the other cores' caches: each goroutine asks for all of it
	// before its first part, instead of waiting for it line by line.
	fetched := make([]bool, t)
	db, dldb, _ := src.direct()
	bounds := guidedParts((m+mk.mr-1)/mk.mr, t)
	parallelFor(t, len(bounds)-1, func(w, i int) {
		if direct && !fetched[w] {
			fetched[w] = true
			prefetchL2(&db[0], (k-1)*dldb+n)
		}
		r0, r1 := bounds[i]*mk.mr, min(bounds[i+1]*mk.mr, m)
		rowPart(r0, r1-r0, &shared)
	})
}

// guidedParts splits units (strips or panels) into parts for t goroutines
// taking them in turn, largest first: each part a 2t-th of what is left
// (at least one unit), so that the first parts are few and large and the
// last single units even out the goroutines' finishing times. It returns
// the parts' bounds, 0 first and units last.
func guidedParts(units, t int) []int {
	bounds := []int{0}
	for done := 0; done < units; {
		done += max(1, (units-done+2*t-1)/(2*t))
		bounds = append(bounds, done)
	}
	return bounds
}
