package kernels

import "unsafe"

// microKernel is an assembly routine adding the mr×nr product of a packed
// A strip (kc groups of mr floats) and a packed B panel (kc rows of nr
// floats) to C.
type microKernel struct {
	name   string
	mr, nr int
	fn     func(kc int, a, b, c *float32, ldc int)
	set    func(kc int, a, b, c *float32, ldc int) // fn writing C instead of adding to it; may be nil

	// masked, when not nil, is the kernel with B read under a column mask
	// and a row stride, for partial panels and unpacked B.
	masked *maskedKernel

	// cols, when not nil, computes the first colsN columns of a panel's
	// product with four strips at once, in the order fn sums them, into
	// out (colsN·4 vectors of mr floats, strip-major): for panels with
	// few columns used (a Winograd block's last tiles).
	cols func(kc int, a0, a1, a2, a3, b, out *float32)
}

// colsN is the panel columns microKernel.cols computes.
const colsN = 4

// maskedKernel is a microkernel shape (mr×nr) that reads kc rows of B
// ldb floats apart and only the columns set in mask, and writes only
// those columns of C: set forms set C, the others add to it; half and
// halfSet are nr/2 columns wide. Their sums are those of the kernel's fn
// and set, term for term.
type maskedKernel struct {
	fn, set, half, halfSet maskedFn

	// short[i] and shortSet[i], when set, compute the first 4(i+1) rows
	// of a strip only: the last strip of a product 4 or 8 rows past a
	// multiple of mr, which otherwise goes through a scratch tile.
	short, shortSet [2]maskedFn
}

// maskedFn is a masked microkernel: see maskedKernel.
type maskedFn func(kc int, a, b, c *float32, ldc, ldb int, mask uint32)

// runShort is run for a strip's first rows rows only, writing no other
// row of C; it reports false, doing nothing, when no kernel has that
// height.
func (m *maskedKernel) runShort(first bool, rows, kc int, a, b, c *float32, ldc, ldb, cols int) bool {
	i := rows/4 - 1
	if rows%4 != 0 || i < 0 || i >= len(m.short) || m.short[i] == nil {
		return false
	}
	fn := m.short[i]
	if first {
		fn = m.shortSet[i]
	}
	fn(kc, a, b, c, ldc, ldb, uint32(1<<uint(cols)-1))
	return true
}

// run computes the first cols columns of the strip's product with B at b
// (rows ldb floats apart): C set to it when first, else C added to.
func (m *maskedKernel) run(first bool, kc int, a, b, c *float32, ldc, ldb, cols, nr int) {
	mask := uint32(1<<uint(cols) - 1)
	var fn maskedFn
	switch {
	case cols <= nr/2 && first:
		fn = m.halfSet
	case cols <= nr/2:
		fn = m.half
	case first:
		fn = m.set
	default:
		fn = m.fn
	}
	fn(kc, a, b, c, ldc, ldb, mask)
}

// activeKernel is the microkernel Sgemm uses; nil selects the pure-Go path.
var activeKernel = func() *microKernel {
	if ks := availableKernels(); len(ks) > 0 {
		return ks[0]
	}
	return nil
}()

// cpuKernels is every microkernel this CPU runs, best first.
var cpuKernels = availableKernels()

// kernelFor returns the microkernel for a product n columns wide: the
// active one, or a narrower one when n would leave most of the active
// kernel's columns empty (n ≤ 16 on AVX-512 takes the 16×16 kernel): the
// narrowest that still covers n, the best of those.
func kernelFor(n int) *microKernel {
	mk := activeKernel
	if mk == nil || n >= mk.nr {
		return mk
	}
	for _, k := range cpuKernels {
		if k.nr < mk.nr && k.nr >= n {
			mk = k
		}
	}
	return mk
}

// Cache blocking of the packed path: an mc×kc block of A (192 KiB) stays in L2, a
// kc×nr panel of B in L1.
const (
	packKC = 256
	packMC = 192
	packNC = 1024
)

// sgemmPacked computes C = alpha·op(A)·op(B) + beta·C on one goroutine with
// microkernel mk, packing A and B into the layouts mk reads.
func sgemmPacked(mk *microKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	src := bSource{b: b, ldb: ldb, trans: transB}
	sgemmPackedSrc(mk, transA, m, n, k, alpha, a, lda, nil, &src, beta, c, ldc, cTail{})
}

// cTail is a convolution's epilogue applied to a product's C block by block
// as each is finished (after its last k block), while it is still in
// cache: row i of C gets bias[i] and the residual's row added, then act.
// The zero cTail does nothing.
type cTail struct {
	bias []float32 // by row of C; nil for none
	res  []float32 // laid out like C (same ldc); nil for none
	act  Activation
}

func (t cTail) on() bool { return t.bias != nil || t.res != nil || t.act != ActNone }

// at is t for the part of C from row i0, column j0 on.
func (t cTail) at(i0, j0, ldc int) cTail {
	if t.bias != nil {
		t.bias = t.bias[i0:]
	}
	if t.res != nil {
		t.res = t.res[i0*ldc+j0:]
	}
	return t
}

// apply runs t on rows [i0, i0+rows) and columns [j0, j0+cols) of C.
func (t cTail) apply(c []float32, ldc, i0, rows, j0, cols int) {
	for i := i0; i < i0+rows; i++ {
		row := c[i*ldc+j0 : i*ldc+j0+cols]
		var b float32
		if t.bias != nil {
			b = t.bias[i]
		}
		var res []float32
		if t.res != nil {
			res = t.res[i*ldc+j0 : i*ldc+j0+cols]
		}
		BiasAddRow(row, row, res, b, t.act)
	}
}

// bSource is the k×n matrix op(B) of a packed product: a stored matrix, or
// (when cv is set) the im2col patch matrix of one group's input x, packed
// straight from the image so the patch matrix is never materialized.
type bSource struct {
	b         []float32
	ldb       int
	trans     bool
	cv        *conv
	x         []float32
	imgStride int  // floats between consecutive images in x
	transpose bool // with cv: the transposed patch matrix of one image
	col0      int  // the product reads op(B)'s columns from col0 on

	// pre, when set, is op(B) already packed (n ≤ packNC): the k blocks
	// of the product one after the other, block pc at pre[pc·roundUp(n, nr):].
	pre []float32

	// oneImage marks a patch source whose columns are the positions of one
	// image (not several side by side).
	oneImage bool
}

// direct returns op(B) as a matrix the masked kernels read as it lies
// (rows ldb floats apart, from column col0 on), when it is one: the
// input of a pointwise convolution of one image is its own patch matrix,
// so packing it would only copy it. Only for small feature maps (at most
// directMaxHW positions): the rows of larger ones lie so far apart that a
// panel's rows each cost a TLB miss. ResNet-101's 1×1 layers at batch 1,
// one core, B packed → read as it lies: 14×14 and 7×7 maps 4–18% faster,
// 28×28 ±8%, 56×56 10–40% slower.
func (s *bSource) direct() (b []float32, ldb int, ok bool) {
	if s.pre != nil || s.cv == nil || s.transpose || !s.oneImage || !s.cv.pointwise || s.cv.hw > directMaxHW || !directOn {
		return nil, 0, false
	}
	return s.x[s.col0:], s.cv.hw, true
}

// directMaxHW is the largest feature map (positions) whose pointwise
// convolutions read their input as it lies.
const directMaxHW = 256

// directOn lets benchmarks compare reading B as it lies with packing it.
var directOn = true

func (s *bSource) pack(dst []float32, pc, kc, jc, nc, nr int) {
	jc += s.col0
	if s.cv != nil && s.transpose {
		s.cv.packPatchesT(dst, s.x, pc, kc, jc, nc, nr)
		return
	}
	if s.cv != nil {
		s.cv.packPatches(dst, s.x, s.imgStride, pc, kc, jc, nc, nr)
		return
	}
	packB(dst, s.trans, s.b, s.ldb, pc, kc, jc, nc, nr)
}

// packedA is a whole m×k matrix A packed for one microkernel ahead of
// time (see packWhole); row0 is the row of A where a product starts.
type packedA struct {
	s    []float32
	mpad int // m rounded up to the kernel's strip height
	row0 int
}

// after returns the strip read after the one at row r (from row0) of k
// block pc, kc deep, in a product of m rows and k deep split in blocks of
// step: the block's next strip, or the next block's first; nil after the
// last.
func (pa *packedA) after(pc, kc, r, m, k, step, mr int) []float32 {
	if r+mr < m {
		return pa.s[pc*pa.mpad+(pa.row0+r+mr)*kc:][:mr*kc]
	}
	if pc+kc < k {
		kc2 := min(step, k-pc-kc)
		return pa.s[(pc+kc)*pa.mpad+pa.row0*kc2:][:mr*kc2]
	}
	return nil
}

// packWhole packs the m×k row-major matrix a for mk into dst (at least
// roundUp(m, mk.mr)·k floats): for each kc block of columns, every strip of
// mr rows, in the order sgemmPackedSrc reads them.
func packWhole(mk *microKernel, dst, a []float32, m, k int) {
	packRows(mk, dst, a, 0, m, roundUp(m, mk.mr), k)
}

// packRows packs rows r0…r0+m-1 of a matrix of mpad (padded) rows and k
// columns, given as the m×k row-major a, where packWhole would put them in
// dst; r0 is a multiple of mk.mr.
func packRows(mk *microKernel, dst, a []float32, r0, m, mpad, k int) {
	step := kStep(k)
	for pc := 0; pc < k; pc += step {
		kc := min(step, k-pc)
		packA(dst[pc*mpad+r0*kc:], false, a, k, 0, m, pc, kc, mk.mr, 1)
	}
}

// sgemmPackedSrc is sgemmPacked with op(B) given by src, then tail on C.
// When pa is not nil, A comes pre-packed from it (alpha must then be 1) and
// a is unused.
func sgemmPackedSrc(mk *microKernel, transA bool, m, n, k int, alpha float32, a []float32, lda int, pa *packedA, src *bSource, beta float32, c []float32, ldc int, tail cTail) {
	// With beta 0 the first k block writes C instead of adding to it
	// (the kernel's set form, or a copy from the partial-tile buffer),
	// so C is never cleared first.
	set := beta == 0 && k > 0 && alpha != 0 && mk.set != nil
	if !set {
		scaleC(m, n, beta, c, ldc)
	}
	if k == 0 || alpha == 0 {
		if tail.on() {
			tail.apply(c, ldc, 0, m, 0, n)
		}
		return
	}
	mr, nr := mk.mr, mk.nr
	ncMax := min(packNC, roundUp(n, nr))
	step := kStep(k)
	kcMax := min(step, k)
	mcMax := min(packMC/mr*mr, roundUp(m, mr))
	mm := mk.masked
	db, dldb, direct := src.direct()
	direct = direct && mm != nil
	if direct {
		_ = db[(k-1)*dldb+n-1]
	}
	var bp *buf
	if src.pre == nil && !direct {
		bp = getBuf(kcMax * ncMax)
		defer putBuf(bp)
	}
	ap := getBuf(kcMax * mcMax)
	tmp := getBuf(mr * nr)
	defer putBuf(ap)
	defer putBuf(tmp)
	for jc := 0; jc < n; jc += packNC {
		nc := min(packNC, n-jc)
		for pc := 0; pc < k; pc += step {
			kc := min(step, k-pc)
			var bps []float32
			switch {
			case direct:
			case src.pre != nil:
				bps = src.pre[pc*roundUp(n, nr):]
			default:
				bps = bp.s
				src.pack(bps, pc, kc, jc, nc, nr)
			}
			for ic := 0; ic < m; ic += packMC / mr * mr {
				mc := min(packMC/mr*mr, m-ic)
				if pa == nil {
					packA(ap.s, transA, a, lda, ic, mc, pc, kc, mr, alpha)
				}
				// Each A strip (mr×kc) stays in L1 while the B panels
				// stream past it from L2.
				first, last := set && pc == 0, pc+kc >= k
				fn := mk.fn
				if first {
					fn = mk.set
				}
				for ir := 0; ir < mc; ir += mr {
					aStrip := ap.s[ir*kc:]
					if pa != nil {
						aStrip = pa.s[pc*pa.mpad+(pa.row0+ic+ir)*kc:]
					}
					rows := min(mr, mc-ir)
					// Pre-packed A comes from memory (a served model's
					// weights, read once a call): ask for the next strip
					// while this one's panels are computed, a part a panel.
					var next []float32
					if pa != nil {
						next = pa.after(pc, kc, ic+ir, m, k, step, mr)
					}
					panels := (nc + nr - 1) / nr
					per := roundUp((len(next)+panels-1)/panels, 16)
					for jr := 0; jr < nc; jr += nr {
						if lo := jr / nr * per; lo < len(next) {
							prefetchL2(&next[lo], min(per, len(next)-lo))
						}
						cols := min(nr, nc-jr)
						cOff := (ic+ir)*ldc + jc + jr
						// B's panel: packed, kc rows of nr floats, or
						// where it lies.
						var bPanel *float32
						ldb := nr
						if direct {
							bPanel, ldb = &db[pc*dldb+jc+jr], dldb
						} else {
							bPanel = &bps[jr*kc]
						}
						if rows == mr && cols == nr && !direct {
							fn(kc, &aStrip[0], bPanel, &c[cOff], ldc)
							continue
						}
						if rows == mr && mm != nil {
							mm.run(first, kc, &aStrip[0], bPanel, &c[cOff], ldc, ldb, cols, nr)
							continue
						}
						if mm != nil && mm.runShort(first, rows, kc, &aStrip[0], bPanel, &c[cOff], ldc, ldb, cols) {
							continue
						}
						t := tmp.s
						if !first {
							clear(t)
						}
						if mm != nil {
							mm.run(first, kc, &aStrip[0], bPanel, unsafe.SliceData(t), nr, ldb, cols, nr)
						} else {
							fn(kc, &aStrip[0], bPanel, unsafe.SliceData(t), nr)
						}
						for i := 0; i < rows; i++ {
							if first {
								copy(c[cOff+i*ldc:cOff+i*ldc+cols], t[i*nr:i*nr+cols])
								continue
							}
							axpy(1, t[i*nr:i*nr+cols], c[cOff+i*ldc:cOff+i*ldc+cols])
						}
					}
					if last && tail.on() {
						tail.apply(c, ldc, ic+ir, rows, jc, nc)
					}
				}
			}
		}
	}
}

func roundUp(v, m int) int { return (v + m - 1) / m * m }

// kStep is the depth of the k blocks of a product k deep: as many blocks as
// packKC needs, of equal depth (a multiple of 8), so that no block is a
// short remainder whose C updates cost as much as its arithmetic (576
// splits as 3×192, not 256+256+64).
func kStep(k int) int {
	if k <= packKC {
		return max(k, 1)
	}
	blocks := (k + packKC - 1) / packKC
	return min(packKC, roundUp((k+blocks-1)/blocks, 8))
}

// packB writes op(B)[pc:pc+kc, jc:jc+nc] to dst as panels of nr columns,
// each kc rows of nr floats, zero-padding the last panel.
func packB(dst []float32, transB bool, b []float32, ldb, pc, kc, jc, nc, nr int) {
	for jr := 0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		panel := dst[jr*kc : jr*kc+kc*nr]
		if !transB {
			for p := 0; p < kc; p++ {
				d := panel[p*nr : p*nr+nr]
				copy(d, b[(pc+p)*ldb+jc+jr:(pc+p)*ldb+jc+jr+cols])
				clear(d[cols:])
			}
			continue
		}
		if cols < nr {
			clear(panel)
		}
		// Read B's rows contiguously; the strided writes stay in the
		// L1-sized panel.
		for j := 0; j < cols; j++ {
			src := b[(jc+jr+j)*ldb+pc : (jc+jr+j)*ldb+pc+kc]
			for p, v := range src {
				panel[p*nr+j] = v
			}
		}
	}
}

// packA writes alpha·op(A)[ic:ic+mc, pc:pc+kc] to dst as strips of mr rows,
// each kc groups of mr floats, zero-padding the last strip.
func packA(dst []float32, transA bool, a []float32, lda, ic, mc, pc, kc, mr int, alpha float32) {
	for ir := 0; ir < mc; ir += mr {
		rows := min(mr, mc-ir)
		strip := dst[ir*kc : ir*kc+kc*mr]
		if rows < mr {
			clear(strip)
		}
		if transA {
			for p := 0; p < kc; p++ {
				src := a[(pc+p)*lda+ic+ir : (pc+p)*lda+ic+ir+rows]
				d := strip[p*mr : p*mr+rows]
				for i, v := range src {
					d[i] = alpha * v
				}
			}
			continue
		}
		if mr == 12 && rows == 12 && alpha == 1 {
			packA12(strip, a, lda, ic+ir, pc, kc)
			continue
		}
		for i := 0; i < rows; i++ {
			src := a[(ic+ir+i)*lda+pc : (ic+ir+i)*lda+pc+kc]
			for p, v := range src {
				strip[p*mr+i] = alpha * v
			}
		}
	}
}

// packA12 packs a full 12-row strip (rows r0.., columns pc..pc+kc) of a:
// for each column, the 12 rows' values in turn. Walking columns in the
// outer loop writes the strip sequentially and reads each row's cache
// lines in order, where walking rows wrote it with a 48-byte stride.
func packA12(strip, a []float32, lda, r0, pc, kc int) {
	var rows [12][]float32
	for i := range rows {
		rows[i] = a[(r0+i)*lda+pc : (r0+i)*lda+pc+kc]
	}
	strip = strip[:kc*12]
	for p := 0; p < kc; p++ {
		d := strip[p*12 : p*12+12 : p*12+12]
		d[0], d[1], d[2], d[3] = rows[0][p], rows[1][p], rows[2][p], rows[3][p]
		d[4], d[5], d[6], d[7] = rows[4][p], rows[5][p], rows[6][p], rows[7][p]
		d[8], d[9], d[10], d[11] = rows[8][p], rows[9][p], rows[10][p], rows[11][p]
	}
}
