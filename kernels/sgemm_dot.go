package kernels

// A product with few rows of A and B transposed is a fully connected layer
// at a small batch: Y = X·Wᵀ with W (n×k) stored a row per output. The
// packed path copied all of W into panels on every call (8 MB for
// ResNet-101's 2048→1000 layer) to use it for one to eight rows, on one
// core. Here each output is a dot product of a row of X and a row of W read
// as they lie, four rows of X and six of W a kernel call (dotKernel4x6AVX512),
// the rows of W split between the cores.

// dotMaxRows is the most rows of A sgemmDot takes; beyond it the packed
// path's panels pay for themselves.
const dotMaxRows = 8

// dotParallelMin is the floats of B below which sgemmDot stays on one core.
const dotParallelMin = 1 << 16

// sgemmDot computes C = alpha·A·Bᵀ + beta·C (C is not read when beta is
// 0) for m ≤ dotMaxRows on the AVX-512 dot kernel and reports true, or
// reports false without touching C where that kernel does not run.
func sgemmDot(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) bool {
	if transA || !transB || m > dotMaxRows || k < 16 || activeKernel == nil || !hasMaskedCopy {
		return false
	}
	if m == 0 || n == 0 {
		return true
	}
	// A's rows padded to a multiple of four with zero rows, so that every
	// kernel call has its four; the products go to scratch s (mp×n).
	mp, k16 := roundUp(m, 4), k&^15
	ap := getBuf(mp * k)
	defer putBuf(ap)
	for i := range mp {
		row := ap.s[i*k : (i+1)*k]
		if i < m {
			copy(row, a[i*lda:i*lda+k])
		} else {
			clear(row)
		}
	}
	s := getBuf(mp * n)
	defer putBuf(s)
	clear(s.s[:mp*n])
	// Column parts of whole six-row groups of B, a few per core.
	t := 1
	if n*k >= dotParallelMin {
		t = maxProcs()
	}
	parts := min(4*t, (n+5)/6)
	if t <= 1 {
		parts = 1
	}
	groups := (n + 5) / 6
	parallelFor(t, parts, func(_, p int) {
		j0, j1 := groups*p/parts*6, min(n, groups*(p+1)/parts*6)
		j := j0
		for ; j+6 <= j1; j += 6 {
			for i := 0; i < mp; i += 4 {
				dotKernel4x6AVX512(k16/16, &ap.s[i*k], k, &b[j*ldb], ldb, &s.s[i*n+j], n)
			}
		}
		if r := j1 - j; r > 0 && j1 >= 6 {
			// The last r < 6 rows of B: a kernel call over the six rows
			// ending at j1 into a tile, of which the last r columns are new.
			var tile [4 * 6]float32
			for i := 0; i < mp; i += 4 {
				clear(tile[:])
				dotKernel4x6AVX512(k16/16, &ap.s[i*k], k, &b[(j1-6)*ldb], ldb, &tile[0], 6)
				for ii := range 4 {
					copy(s.s[(i+ii)*n+j:(i+ii)*n+j1], tile[ii*6+6-r:ii*6+6])
				}
			}
			j = j1
		}
		for ; j < j1; j++ {
			for i := range m {
				s.s[i*n+j] += dotRow(ap.s[i*k:i*k+k16], b[j*ldb:j*ldb+k16])
			}
		}
		if k16 < k {
			for j := j0; j < j1; j++ {
				for i := range m {
					s.s[i*n+j] += dotRow(ap.s[i*k+k16:i*k+k], b[j*ldb+k16:j*ldb+k])
				}
			}
		}
	})
	for i := range m {
		row, sr := c[i*ldc:i*ldc+n], s.s[i*n:(i+1)*n]
		switch {
		case beta == 0 && alpha == 1:
			copy(row, sr)
		case beta == 0:
			for j, v := range sr {
				row[j] = alpha * v
			}
		default:
			for j, v := range sr {
				row[j] = alpha*v + beta*row[j]
			}
		}
	}
	return true
}
