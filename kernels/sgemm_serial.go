package kernels

// sgemmSerial computes C = alpha·op(A)·op(B) + beta·C on one goroutine.
//
// op(B) is made row-contiguous (packed when transB), then C is updated in
// kc×nc blocks: four rows of C at a time take alpha·op(A) from a packed
// 4×kc strip and accumulate a row of the B panel each, so every load of B
// feeds four multiply-adds.
func sgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if mk := kernelFor(n); mk != nil {
		sgemmPacked(mk, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	scaleC(m, n, beta, c, ldc)
	if k == 0 || alpha == 0 {
		return
	}
	if transB {
		bt := getBuf(k * n)
		defer putBuf(bt)
		packTrans(bt.s, b, ldb, n, k)
		b, ldb = bt.s, n
	}
	ap := getBuf(4 * gemmKC)
	defer putBuf(ap)
	for p0 := 0; p0 < k; p0 += gemmKC {
		kc := min(gemmKC, k-p0)
		for j0 := 0; j0 < n; j0 += gemmNC {
			nc := min(gemmNC, n-j0)
			i := 0
			for ; i+4 <= m; i += 4 {
				packA4(ap.s, transA, a, lda, i, p0, kc, alpha)
				kernel4(ap.s[:4*kc], b[p0*ldb+j0:], ldb, nc, c[i*ldc+j0:], ldc)
			}
			for ; i < m; i++ {
				for p := 0; p < kc; p++ {
					av := alpha * aAt(transA, a, lda, i, p0+p)
					if av == 0 {
						continue
					}
					axpy(av, b[(p0+p)*ldb+j0:(p0+p)*ldb+j0+nc], c[i*ldc+j0:i*ldc+j0+nc])
				}
			}
		}
	}
}

func aAt(transA bool, a []float32, lda, i, p int) float32 {
	if transA {
		return a[p*lda+i]
	}
	return a[i*lda+p]
}

// packA4 writes alpha·op(A)[i:i+4, p0:p0+kc] to dst as kc groups of four.
func packA4(dst []float32, transA bool, a []float32, lda, i, p0, kc int, alpha float32) {
	dst = dst[:4*kc]
	if transA {
		for p := 0; p < kc; p++ {
			row := a[(p0+p)*lda+i : (p0+p)*lda+i+4]
			d := dst[4*p : 4*p+4]
			d[0], d[1], d[2], d[3] = alpha*row[0], alpha*row[1], alpha*row[2], alpha*row[3]
		}
		return
	}
	for r := 0; r < 4; r++ {
		row := a[(i+r)*lda+p0 : (i+r)*lda+p0+kc]
		for p, v := range row {
			dst[4*p+r] = alpha * v
		}
	}
}

// kernel4 adds the 4×kc strip ap (packed by packA4) times the kc×nc block
// of B at b (stride ldb) to four rows of C at c (stride ldc).
func kernel4(ap []float32, b []float32, ldb, nc int, c []float32, ldc int) {
	c0 := c[0:nc]
	c1 := c[ldc : ldc+nc]
	c2 := c[2*ldc : 2*ldc+nc]
	c3 := c[3*ldc : 3*ldc+nc]
	kc := len(ap) / 4
	for p := 0; p < kc; p++ {
		a4 := ap[4*p : 4*p+4]
		a0, a1, a2, a3 := a4[0], a4[1], a4[2], a4[3]
		br := b[p*ldb : p*ldb+nc]
		br = br[:len(c0)]
		c1 := c1[:len(br)]
		c2 := c2[:len(br)]
		c3 := c3[:len(br)]
		for j, bv := range br {
			c0[j] += a0 * bv
			c1[j] += a1 * bv
			c2[j] += a2 * bv
			c3[j] += a3 * bv
		}
	}
}

// axpy computes y += a·x.
func axpy(a float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += a * v
	}
}
