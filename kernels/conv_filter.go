package kernels

import "sync"

// The filter gradient of a convolution reduces over output positions,
// which run along the rows of both dy and the im2col matrix. Packing
// either operand for the outer-product microkernels means transposing it
// element by element; instead, on AVX-512, the patches are written to an
// explicit im2col buffer with masked copies and a dot-product kernel reads
// both operands' rows as they are.

// tapPool keeps the tap tables of backwardFilterDot between calls.
var tapPool = sync.Pool{New: func() any { return new([]patchTap) }}

// dotDepth is the reduction depth the dot path aims for: feature maps
// smaller than this put several images side by side, so the horizontal
// sums at the end of each kernel call are amortized.
const dotDepth = 1024

// dotRowsB is how many rows of B one pass of dotGemm keeps in cache
// while every row block of A streams past them.
const dotRowsB = 48

// dotFilterOK reports whether c's filter gradient takes the dot path.
func (c conv) dotFilterOK() bool {
	return c.maskedPackOK()
}

// backwardFilterDot is Conv2DBackwardFilter on the dot path. dw is
// overwritten.
func (c conv) backwardFilterDot(x, dy, dw []float32) {
	nb := max(1, min(c.N, (dotDepth+c.ohw-1)/c.ohw))
	chunks := (c.N + nb - 1) / nb
	t := min(maxProcs(), chunks)
	parts := make([]*buf, t)
	parts[0] = &buf{s: dw}
	for i := 1; i < t; i++ {
		parts[i] = getBuf(len(dw))
	}
	for _, p := range parts {
		clear(p.s)
	}
	// The taps of one group's im2col rows, as packTapRows reads them.
	tp := tapPool.Get().(*[]patchTap)
	defer tapPool.Put(tp)
	if cap(*tp) < c.crs {
		*tp = make([]patchTap, c.crs)
	}
	taps := (*tp)[:c.crs]
	c.tapTable(taps, 0)
	parallelWorkers(t, chunks, func(wid, ch, _ int) {
		acc := parts[wid].s
		n0 := ch * nb
		cnt := min(nb, c.N-n0)
		depth := cnt * c.ohw
		kp := roundUp(depth, 16)
		// The patch rows are made dotRowsB at a time, just before the dot
		// products read them, so they are read back from L2, not memory.
		rowsB := min(dotRowsB, c.crs)
		col := getBuf(rowsB * kp)
		dyc := getBuf(c.kg * kp)
		defer putBuf(col)
		defer putBuf(dyc)
		for g := 0; g < c.Group; g++ {
			for i := 0; i < cnt; i++ {
				for k := 0; k < c.kg; k++ {
					copy(dyc.s[k*kp+i*c.ohw:][:c.ohw], dy[((n0+i)*c.K+g*c.kg+k)*c.ohw:][:c.ohw])
				}
			}
			for k := 0; k < c.kg; k++ {
				clear(dyc.s[k*kp+depth : (k+1)*kp])
			}
			for j0 := 0; j0 < c.crs; j0 += rowsB {
				j1 := min(c.crs, j0+rowsB)
				for i := 0; i < cnt; i++ {
					xg := x[((n0+i)*c.C+g*c.cg)*c.hw:][:c.cg*c.hw]
					c.im2colMasked(col.s, kp, i*c.ohw, xg, taps[j0:j1])
				}
				for r := 0; r < j1-j0; r++ {
					clear(col.s[r*kp+depth : (r+1)*kp])
				}
				dotGemm(c.kg, j1-j0, kp, dyc.s, kp, col.s, kp, acc[g*c.kg*c.crs+j0:], c.crs)
			}
		}
	})
	for _, p := range parts[1:] {
		for i, v := range p.s {
			dw[i] += v
		}
		putBuf(p)
	}
}

// im2colMasked (column stride 1 or 2) writes the rows taps of the im2col
// matrix of one image's group input xg into columns [col0, col0+OH·OW) of
// col, whose rows are ld floats apart.
func (c conv) im2colMasked(col []float32, ld, col0 int, xg []float32, taps []patchTap) {
	rows := len(taps)
	_ = col[(rows-1)*ld+col0+c.ohw-1]
	var masks [maxMaskedS]uint32
	var masks2 [maxMaskedS]uint64
	for oy := 0; oy < c.oh; oy++ {
		iy0 := oy * c.StrideH
		for ox0 := 0; ox0 < c.ow; ox0 += 32 {
			n := min(32, c.ow-ox0)
			if c.StrideW == 2 {
				c.inputMasks2(&masks2, 2*ox0, n)
				packTapRows2(&col[col0+oy*c.ow+ox0], ld, &xg[0], rows, &taps[0], &masks2[0],
					iy0*c.W+2*ox0, iy0, c.H, uint32(1<<uint(n)-1))
				continue
			}
			for s := range c.S {
				masks[s] = 0
				ix := ox0 + s*c.DilW - c.PadL
				if lo, hi := max(0, -ix), min(n, c.W-ix); hi > lo {
					masks[s] = uint32(1<<uint(hi)-1) &^ uint32(1<<uint(lo)-1)
				}
			}
			packTapRows(&col[col0+oy*c.ow+ox0], ld, &xg[0], rows, &taps[0], &masks[0],
				iy0*c.W+ox0, iy0, c.H, uint32(1<<uint(n)-1))
		}
	}
}

// dotGemm adds C[i][j] += Σ_p A[i][p]·B[j][p] for an m×n C, p < k, k a
// multiple of 16.
func dotGemm(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	_ = a[(m-1)*lda+k-1]
	_ = b[(n-1)*ldb+k-1]
	_ = c[(m-1)*ldc+n-1]
	for j0 := 0; j0 < n; j0 += dotRowsB {
		j1 := min(n, j0+dotRowsB)
		i := 0
		for ; i+4 <= m; i += 4 {
			j := j0
			for ; j+6 <= j1; j += 6 {
				dotKernel4x6AVX512(k/16, &a[i*lda], lda, &b[j*ldb], ldb, &c[i*ldc+j], ldc)
			}
			for ; j < j1; j++ {
				for r := i; r < i+4; r++ {
					c[r*ldc+j] += dotRow(a[r*lda:r*lda+k], b[j*ldb:j*ldb+k])
				}
			}
		}
		for ; i < m; i++ {
			for j := j0; j < j1; j++ {
				c[i*ldc+j] += dotRow(a[i*lda:i*lda+k], b[j*ldb:j*ldb+k])
			}
		}
	}
}

// dotRow returns Σ a[i]·b[i].
func dotRow(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
