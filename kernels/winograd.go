package kernels

import (
	"math/bits"
)

// Winograd F(2×2, 3×3) for 3×3 convolutions with stride 1 (Lavin & Gray,
// "Fast Algorithms for Convolutional Neural Networks", 2016). Each 2×2
// block of outputs ("tile") is computed from the 4×4 input patch d under it
// as Y = Aᵀ·[U ⊙ V]·A with U = G·g·Gᵀ (the filter, transformed once) and
// V = Bᵀ·d·B: 16 multiplies per tile and channel pair instead of 36. Summed
// over input channels, the 16 elementwise products become 16 independent
// GEMMs, M_ξ = U_ξ · V_ξ (K×C times C×tiles, ξ = 4i+j the position in the
// transformed tile), run by the same microkernels as the direct path.
//
// The transforms only add and subtract (and halve, for U), so the result
// differs from the direct sum by rounding of the same order.
//
// Work is done in blocks of tiles small enough that the block's V (16×C
// rows) and M (16×K rows) mostly stay in L2:
//  1. the 4×4 input patches of 16 channels at a time are packed as the
//     im2col matrix of a 4×4, stride-2 convolution (the packing the direct
//     path uses, vectorized), and transformed into V, laid out as the
//     packed B panels of the 16 GEMMs;
//  2. the GEMMs run over pre-packed U;
//  3. each output channel's 16 M rows are transformed back to 2×2 tiles,
//     scattered to NCHW with the epilogue applied.

// winogradOn lets tests and benchmarks compare against the direct path.
var winogradOn = true

// Below these sizes the direct path is at least as fast: too few channels
// for the transforms to pay off, or too few tiles to fill a microkernel.
const (
	winoMinChannels = 16
	winoMinTiles    = 16
)

// winograd reports whether c takes the Winograd path.
func (c *conv) winograd() bool {
	return winogradOn && activeKernel != nil && c.R == 3 && c.S == 3 &&
		c.StrideH == 1 && c.StrideW == 1 && c.DilH == 1 && c.DilW == 1 && c.Group == 1 &&
		c.C >= winoMinChannels && c.K >= winoMinChannels && c.N*c.tilesPerImage() >= winoMinTiles
}

// tileGrid is the number of 2×2 output tiles down and across an image.
func (c *conv) tileGrid() (ty, tx int) { return (c.oh + 1) / 2, (c.ow + 1) / 2 }

func (c *conv) tilesPerImage() int {
	ty, tx := c.tileGrid()
	return ty * tx
}

// patchConv is the 4×4, stride-2 convolution whose im2col matrix holds
// c's input patches: column t is tile t, rows 16·ci … 16·ci+15 are input
// channel ci's 4×4 patch in row-major order (zeros outside the image).
func (c *conv) patchConv() conv {
	ty, tx := c.tileGrid()
	return newConv("winograd", ConvParams{N: 1, C: c.C, H: c.H, W: c.W, K: 1, R: 4, S: 4,
		StrideH: 2, StrideW: 2, PadT: c.PadT, PadL: c.PadL,
		PadB: 2*ty + 2 - c.H - c.PadT, PadR: 2*tx + 2 - c.W - c.PadL})
}

// winoFilters writes U = G·g·Gᵀ of filters [lo, hi) (of the kc = K·C
// 3×3 filters in w) to u, which holds 16 K×C matrices, one per ξ.
// G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1].
func winoFilters(w []float32, lo, hi, kc int, u []float32) {
	u = u[:16*kc]
	for kci := lo; kci < hi; kci++ {
		g := w[kci*9 : kci*9+9 : kci*9+9]
		var t [4][3]float32 // G·g
		for j := 0; j < 3; j++ {
			g0, g1, g2 := g[j], g[3+j], g[6+j]
			t[0][j], t[1][j], t[2][j], t[3][j] = g0, 0.5*(g0+g1+g2), 0.5*(g0-g1+g2), g2
		}
		for i := 0; i < 4; i++ {
			g0, g1, g2 := t[i][0], t[i][1], t[i][2]
			o := 4*i*kc + kci
			u[o], u[o+kc], u[o+2*kc], u[o+3*kc] = g0, 0.5*(g0+g1+g2), 0.5*(g0-g1+g2), g2
		}
	}
}

// winoPack is U packed for one microkernel: 16 whole packed A matrices
// (packWhole), mpad×C each, one after the other.
type winoPack struct {
	s    []float32
	mpad int
}

// packWino packs filters w (K×C×3×3) for mk into dst, which must hold
// 16·roundUp(K, mk.mr)·C floats and be zero.
func packWino(mk *microKernel, w []float32, K, C int, dst []float32) winoPack {
	return packWinoFilters(mk, w, K, C, dst, 16, winoFilters)
}

// packWinoFilters packs filters w (K×C×3×3), transformed by filters into
// xis matrices (winoFilters: 16, wino4Filters: 36), for mk into dst, which
// must hold xis·roundUp(K, mk.mr)·C floats and be zero. The filters are
// transformed a block of output channels at a time, through scratch space
// of one size (winoFilterScratch floats) whatever the layer: a
// whole-layer buffer regrew from layer to layer and left a layer's worth
// of garbage each time (90 MB over PyramidNet-272's first run).
func packWinoFilters(mk *microKernel, w []float32, K, C int, dst []float32, xis int, filters func(w []float32, lo, hi, kc int, u []float32)) winoPack {
	mpad := roundUp(K, mk.mr)
	rows := max(mk.mr, winoFilterScratch/(xis*C)/mk.mr*mk.mr)
	u := getBuf(max(winoFilterScratch, xis*rows*C))
	defer putBuf(u)
	for k0 := 0; k0 < K; k0 += rows {
		m := min(rows, K-k0)
		kc := m * C
		// Training transforms the filters twice a step (forward and data
		// gradient): both cores do it.
		ParallelRange(kc, xis*kc, func(lo, hi int) { filters(w[k0*C*9:], lo, hi, kc, u.s) })
		ParallelRange(xis, xis*kc, func(lo, hi int) {
			for xi := lo; xi < hi; xi++ {
				packRows(mk, dst[xi*mpad*C:], u.s[xi*kc:], k0, m, mpad, C)
			}
		})
	}
	return winoPack{s: dst, mpad: mpad}
}

// winoFilterScratch is the scratch floats packWino transforms filters into.
const winoFilterScratch = 1 << 18

// winoSize is the floats packWino needs for c and mk.
func (c *conv) winoSize(mk *microKernel) int { return 16 * roundUp(c.K, mk.mr) * c.C }

// winoKernel is the microkernel for a Winograd product over p tiles: the
// 16×16 one (AVX-512) where it runs. Its 16-column panels make blocks of 32 tiles,
// and it has no 12-row strips to pad K = 64 to 72. Alternating best-of-6
// in one process (go test -bench 'Conv2D$/packed/'), 12×32 → 16×16:
// batch 1, 64 channels 356 → 322 µs; batch 64, 64 / 128 / 256 channels
// 21.6 / 17.8 / 20.7 → 20.1 / 16.8 / 16.2 ms.
func winoKernel(p int) *microKernel {
	for _, mk := range cpuKernels {
		if mk.mr == 16 && mk.nr == 16 && p >= mk.nr {
			return mk
		}
	}
	return kernelFor(p)
}

// conv2DWinograd is Conv2DOpts for c (c.winograd()) with U packed for mk
// in u.
func conv2DWinograd(c conv, mk *microKernel, u winoPack, x, y []float32, o ConvOpts) {
	conv2DWinogradF(c, mk, u, x, y, o, false)
}

// conv2DWinogradF is conv2DWinograd, or with f4 the F(4×4, 3×3) form
// (winograd4.go) with U packed by packWino4.
func conv2DWinogradF(c conv, mk *microKernel, u winoPack, x, y []float32, o ConvOpts, f4 bool) {
	var tc conv
	tiles, xis := c.N*c.tilesPerImage(), 16
	if f4 {
		tiles, xis = c.N*c.tiles4PerImage(), 36
	} else {
		tc = c.patchConv()
	}
	t := maxProcs()
	nr := mk.nr
	// Blocks of two B panels of tiles (32 tiles with the 16×16 kernel;
	// one panel when that leaves fewer than four blocks a core): measured
	// on PreAct-ResNet18's layers at batch 1 and 64 with the 12×32 kernel,
	// 32–128 tiles were within noise of each other and 350 clearly slower
	// (V and M then outgrow L2); with the 16×16 kernel, 64 was no better
	// than 32 and one panel at batch 1 no better than two (engine runs
	// alternating in one process: faster in 45% of 800 pairs).
	pbMax := 2 * nr
	if tiles < 4*t*pbMax {
		pbMax = nr
	}
	nb := (tiles + pbMax - 1) / pbMax
	if nb < t && tiles >= t*nr {
		nb = t
	}
	if nb > t {
		nb = roundUp(nb, t)
	}
	pb := roundUp((tiles+nb-1)/nb, nr)
	nb = (tiles + pb - 1) / pb
	wb := &winoBlock{c: &c, tc: &tc, mk: mk, u: u, x: x, y: y, o: o, pb: pb, xis: xis, f4: f4, g4: f4 && c.gather4()}
	if nb >= t && t > 1 {
		parallelFor(t, nb, func(_, b int) {
			s := wb.scratch(1)
			defer s.release()
			wb.run(s, b*pb, min(pb, tiles-b*pb), 1)
		})
		return
	}
	s := wb.scratch(t)
	defer s.release()
	for b := 0; b < nb; b++ {
		wb.run(s, b*pb, min(pb, tiles-b*pb), t)
	}
}

// winoBlock is one Winograd convolution call, run a block of pb tiles
// at a time.
type winoBlock struct {
	c, tc *conv
	mk    *microKernel
	u     winoPack
	x, y  []float32
	o     ConvOpts
	pb    int  // tiles per block, a multiple of mk.nr
	xis   int  // the transformed tile's size: 16, or 36 for F(4×4, 3×3)
	f4    bool // F(4×4, 3×3) (winograd4.go)
	g4    bool // F(4×4) gathering its input (gather4)
}

// vStride and mStride are the floats between V's (and M's) xis matrices:
// their size, padded so that the matrices do not start a multiple of
// 4 KiB apart (the transforms touch all 16 at once, and rows that far
// apart would compete for the same L1 sets).
func (wb *winoBlock) vStride() int { return roundUp(wb.c.C*wb.pb, 1024) + 32 }
func (wb *winoBlock) mStride() int { return roundUp(wb.u.mpad*wb.pb, 1024) + 32 }

// winoScratch is a block's working space: V, M and one patch panel
// buffer per thread.
type winoScratch struct {
	v, m  *buf
	stage []*buf
	units []wino4Unit    // the block's tiles, for inputGather4
	outs  []wino4OutUnit // and for outputGather4
}

func (wb *winoBlock) scratch(threads int) *winoScratch {
	s := &winoScratch{v: getBuf(wb.xis * wb.vStride()), m: getBuf(wb.xis * wb.mStride())}
	for range threads {
		if hasMaskedCopy || wb.f4 {
			s.stage = append(s.stage, &buf{}) // inputDirect needs no panel
			continue
		}
		s.stage = append(s.stage, getBuf(packKC*wb.pb))
	}
	return s
}

func (s *winoScratch) release() {
	putBuf(s.v)
	putBuf(s.m)
	for _, b := range s.stage {
		if b.s != nil {
			putBuf(b)
		}
	}
}

// winoChunk is the input channels transformed per patch panel (16 rows
// each, packKC rows in all).
const winoChunk = packKC / 16

// run computes tiles [t0, t0+nt) of the output on threads goroutines,
// each stage split in more parts than threads, taken dynamically: the
// input transform by channels, then the products and the output transform
// together by output channels (a part's rows of M are its own, so no
// synchronisation is needed between the two).
func (wb *winoBlock) run(s *winoScratch, t0, nt, threads int) {
	c, mr := wb.c, wb.mk.mr
	chunks := (c.C + winoChunk - 1) / winoChunk
	if wb.g4 {
		s.units = c.units4(t0, nt, s.units[:0])
		s.outs = c.outUnits4(t0, nt, s.outs[:0])
	}
	parallelFor(threads, chunks, func(w, ch int) {
		if wb.g4 {
			c0 := ch * winoChunk
			wb.inputGather4(s.v.s, s.units, c0, min(c.C, c0+winoChunk), nt)
			return
		}
		wb.input(s.stage[w].s, s.v.s, ch*winoChunk, min(winoChunk, c.C-ch*winoChunk), t0, nt)
	})
	strips := wb.u.mpad / mr
	parts := min(strips, 4*threads)
	if threads <= 1 {
		parts = 1
	}
	parallelFor(threads, parts, func(_, i int) {
		r0, r1 := strips*i/parts*mr, strips*(i+1)/parts*mr
		for xi := 0; xi < wb.xis; xi++ {
			wb.gemm(s.v.s, s.m.s, xi, r0, r1, nt)
		}
		if k0, k1 := min(r0, c.K), min(r1, c.K); k0 < k1 {
			if wb.g4 {
				wb.outputGather4(s.m.s, s.outs, k0, k1, nt)
				return
			}
			wb.output(s.m.s, k0, k1, t0, nt)
		}
	})
}

// input transforms channels [c0, c0+cn) of tiles [t0, t0+nt) into V.
func (wb *winoBlock) input(stage, v []float32, c0, cn, t0, nt int) {
	c, nr, pb := wb.c, wb.mk.nr, wb.pb
	if wb.f4 {
		wb.inputDirect4(v, c0, c0+cn, t0, nt)
		return
	}
	if hasMaskedCopy {
		wb.inputDirect(v, c0, c0+cn, t0, nt)
		return
	}
	kc := 16 * cn
	wb.tc.packPatches(stage, wb.x, c.C*c.hw, 16*c0, kc, t0, nt, nr)
	step := kStep(c.C)
	for jr := 0; jr < pb; jr += nr {
		panel := stage[jr*kc:]
		for ci := 0; ci < cn; ci++ {
			ch := c0 + ci
			pc := ch / step * step
			bk := min(step, c.C-pc)
			off := pc*pb + jr*bk + (ch-pc)*nr
			winoInputRows(panel[16*ci*nr:], nr, v[off:], wb.vStride(), nr)
		}
	}
}

// inputDirect is input on AVX-512: patches are read straight from the
// image, up to 16 tiles along a tile row at a time, no patch panel.
func (wb *winoBlock) inputDirect(v []float32, c0, c1, t0, nt int) {
	c, nr := wb.c, wb.mk.nr
	vs := wb.vStride()
	// Runs within one 16-lane group of a panel row.
	c.forTileRuns(t0, nt, func(j int) int { return 16 - j%16 }, func(j, n, img, ty, tx int) {
		iy0, ix0 := 2*ty-c.PadT, 2*tx-c.PadL
		rows := 0
		for a := range 4 {
			if iy := iy0 + a; iy >= 0 && iy < c.H {
				rows |= 1 << a
			}
		}
		masks := [2]uint32{laneMask(ix0, 2*n, c.W), laneMask(ix0+2, 2*n, c.W)}
		base := img*c.C*c.hw + iy0*c.W + ix0
		// Check that the lanes the loads keep lie in x.
		if lo, hi := maskSpan(masks); rows != 0 && hi >= lo {
			_ = wb.x[base+(c1-1)*c.hw+(bits.Len(uint(rows))-1)*c.W+hi]
			_ = wb.x[base+c0*c.hw+bits.TrailingZeros(uint(rows))*c.W+lo]
		}
		wb.channelRuns(c0, c1, j, func(ch, cn, off int) {
			_ = v[off+(cn-1)*nr+15*vs+n-1]
			winoInputX(&wb.x[0], base+ch*c.hw, c.W, c.hw, cn, &masks, rows, &v[off], nr, vs, uint32(1)<<n-1)
		})
	})
}

// channelRuns calls f for the runs of channels [c0, c1) that lie in one k
// block of V (kStep(C) channels deep), with ch the run's first channel, cn
// its length and off where channel ch of the tile at block column j
// starts in V's matrices.
func (wb *winoBlock) channelRuns(c0, c1, j int, f func(ch, cn, off int)) {
	c, nr := wb.c, wb.mk.nr
	step := kStep(c.C)
	for ch := c0; ch < c1; {
		pc := ch / step * step
		bk := min(step, c.C-pc)
		end := min(c1, pc+bk)
		f(ch, end-ch, pc*wb.pb+j/nr*nr*bk+(ch-pc)*nr+j%nr)
		ch = end
	}
}

// forTileRuns calls f for the runs of tiles [t0, t0+nt) that lie along one
// tile row of one image, split further where split(j) (the longest run
// starting at block column j) says: j is the run's first column in the
// block, n its length, and (img, ty, tx) its first tile.
func (c *conv) forTileRuns(t0, nt int, split func(j int) int, f func(j, n, img, ty, tx int)) {
	tY, tX := c.tileGrid()
	forTileRunsIn(tY, tX, t0, nt, split, f)
}

// forTileRunsIn is forTileRuns over a grid of tY×tX tiles an image.
func forTileRunsIn(tY, tX, t0, nt int, split func(j int) int, f func(j, n, img, ty, tx int)) {
	tpi := tY * tX
	img, r := t0/tpi, t0%tpi
	ty, tx := r/tX, r%tX
	for j := 0; j < nt; {
		n := min(nt-j, tX-tx, split(j))
		f(j, n, img, ty, tx)
		j += n
		if tx += n; tx == tX {
			tx = 0
			if ty++; ty == tY {
				ty = 0
				img++
			}
		}
	}
}

// maskSpan is the first and last column (from the run's first) that
// winoInputX's loads keep under masks; hi < lo when they keep none.
func maskSpan(masks [2]uint32) (lo, hi int) {
	lo, hi = 64, -1
	for i, m := range masks {
		if m != 0 {
			lo = min(lo, 2*i+bits.TrailingZeros32(m))
			hi = max(hi, 2*i+bits.Len32(m)-1)
		}
	}
	return lo, hi
}

// laneMask sets the lanes i < n with 0 ≤ ix+i < w.
func laneMask(ix, n, w int) uint32 {
	lo, hi := max(0, -ix), min(n, w-ix)
	if hi <= lo {
		return 0
	}
	return uint32(uint64(1)<<uint(hi)-1) &^ uint32(uint64(1)<<uint(lo)-1)
}

// gemm computes rows [r0, r1) (whole strips) of M_ξ = U_ξ·V_ξ for the
// block's first nt tiles (columns): the panels that hold some, the last
// with mk.cols when it holds colsN or fewer.
func (wb *winoBlock) gemm(v, m []float32, xi, r0, r1, nt int) {
	c, mk, pb, mpad := wb.c, wb.mk, wb.pb, wb.u.mpad
	mx := m[xi*wb.mStride():][:mpad*pb]
	if mk.set == nil {
		clear(mx[r0*pb : r1*pb])
	}
	vx := v[xi*wb.vStride():][:c.C*pb]
	ux := wb.u.s[xi*mpad*c.C:][:mpad*c.C]
	step := kStep(c.C)
	full, rest := roundUp(nt, mk.nr), 0
	if r := nt % mk.nr; mk.cols != nil && r > 0 && r <= colsN {
		full, rest = nt-r, r
	}
	for pc := 0; pc < c.C; pc += step {
		kc := min(step, c.C-pc)
		fn := mk.fn
		if pc == 0 && mk.set != nil {
			fn = mk.set // M is not cleared: the first k block sets it
		}
		for ir := r0; ir < r1; ir += mk.mr {
			a := ux[pc*mpad+ir*kc:]
			for jr := 0; jr < full; jr += mk.nr {
				fn(kc, &a[0], &vx[pc*pb+jr*kc], &mx[ir*pb+jr], pb)
			}
		}
		if rest > 0 {
			wb.gemmCols(ux[pc*mpad:], vx[pc*pb+full*kc:], mx[full:], kc, r0, r1, rest, pc == 0)
		}
	}
}

// gemmCols adds the product of strips [r0, r1) of the packed k block a
// (kc deep) and the first n ≤ colsN columns of panel b to M's rows (set
// them when first), four strips a call.
func (wb *winoBlock) gemmCols(a, b, m []float32, kc, r0, r1, n int, first bool) {
	mr, pb := wb.mk.mr, wb.pb
	var out [4 * colsN * 16]float32 // mk.cols is the 16×16 kernel's
	_ = b[(kc-1)*wb.mk.nr+colsN-1]
	for ir := r0; ir < r1; ir += 4 * mr {
		// Fewer than four strips left: the last is read again in place
		// of the missing ones, its copies not written.
		var strips [4]*float32
		ns := min(4, (r1-ir)/mr)
		_ = a[(ir+ns*mr)*kc-1]
		for s := range strips {
			strips[s] = &a[(ir+min(s, ns-1)*mr)*kc]
		}
		wb.mk.cols(kc, strips[0], strips[1], strips[2], strips[3], &b[0], &out[0])
		for s := range ns {
			for j := range n {
				col := out[(s*colsN+j)*mr:][:mr]
				for i, v := range col {
					at := &m[(ir+s*mr+i)*pb+j]
					if first {
						*at = v
					} else {
						*at += v
					}
				}
			}
		}
	}
}

// output transforms output channels [k0, k1) of the block back and writes
// them to y with the epilogue.
func (wb *winoBlock) output(m []float32, k0, k1, t0, nt int) {
	c, o, pb := wb.c, wb.o, wb.pb
	if hasMaskedCopy || wb.f4 {
		wb.outputDirect(m, k0, k1, t0, nt)
		return
	}
	var yt [4 * 512]float32 // pb is at most 2·32
	relu := o.Act == ActReLU
	noSplit := func(int) int { return nt }
	for k := k0; k < k1; k++ {
		winoOutputRows(m[k*pb:], wb.mStride(), yt[:], pb, nt)
		var bv float32
		if o.Bias != nil {
			bv = o.Bias[k]
		}
		c.forTileRuns(t0, nt, noSplit, func(j, n, img, ty, tx int) {
			ox, mw := 2*tx, min(2*n, c.ow-2*tx)
			for a := 0; a < 2 && 2*ty+a < c.oh; a++ {
				off := ((img*c.K+k)*c.oh+2*ty+a)*c.ow + ox
				var res []float32
				if o.Residual != nil {
					res = o.Residual[off : off+mw]
				}
				winoScatterRow(wb.y[off:off+mw], yt[2*a*pb+j:][:n], yt[(2*a+1)*pb+j:][:n], res, bv, relu)
			}
		})
	}
}

// outputDirect is output on AVX-512: up to 16 tiles along a tile row at a
// time, all of [k0, k1) in one call, transformed and written straight to y
// (winoOutputX, or wino4OutputX for F(4×4): the same arguments over 4×4
// tiles and 36 rows of M).
func (wb *winoBlock) outputDirect(m []float32, k0, k1, t0, nt int) {
	c, o, pb := wb.c, wb.o, wb.pb
	ms := wb.mStride()
	var bias *float32
	if o.Bias != nil {
		bias = &o.Bias[k0:k1][0]
	}
	ts, kernel := 2, winoOutputX
	tY, tX := c.tileGrid()
	if wb.f4 {
		ts, kernel = 4, wino4OutputX
		tY, tX = c.tileGrid4()
	}
	forTileRunsIn(tY, tX, t0, nt, func(int) int { return 16 }, func(j, n, img, ty, tx int) {
		ox := ts * tx
		cnt, rows := min(ts*n, c.ow-ox), min(ts, c.oh-ts*ty)
		off := ((img*c.K+k0)*c.oh+ts*ty)*c.ow + ox
		last := off + (k1-k0-1)*c.ohw + (rows-1)*c.ow + cnt - 1
		_ = wb.y[last]
		_ = m[(wb.xis-1)*ms+(k1-1)*pb+j+15]
		var res *float32
		if o.Residual != nil {
			_ = o.Residual[last]
			res = &o.Residual[off]
		}
		kernel(&m[k0*pb+j], ms, pb, &wb.y[off], c.ohw, c.ow, rows, cnt, k1-k0, bias, res, o.Act == ActReLU)
	})
}

// winoScatterRow writes dst[i] = act(z[i] + bias + res[i]), where z
// interleaves y0 and y1 (z[2j] = y0[j], z[2j+1] = y1[j]); res may be nil.
func winoScatterRow(dst, y0, y1, res []float32, bias float32, relu bool) {
	m := len(dst)
	if m == 0 {
		return
	}
	_, _ = y0[(m-1)/2], y1[(m-1)/2]
	for i := range dst {
		v := y0[i/2]
		if i%2 == 1 {
			v = y1[i/2]
		}
		v += bias
		if res != nil {
			v += res[i]
		}
		if relu && v < 0 {
			v = 0
		}
		dst[i] = v
	}
}

// winoInputRows computes V = Bᵀ·d·B for n tiles: d's 16 rows (4×4
// positions, row-major) are at src[q·sstride:], V's 16 rows at
// dst[ξ·dstride:]. Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].
func winoInputRows(src []float32, sstride int, dst []float32, dstride, n int) {
	for j := 0; j < n; j++ {
		var d [16]float32
		for q := range d {
			d[q] = src[q*sstride+j]
		}
		var t [16]float32 // Bᵀ·d
		for b := 0; b < 4; b++ {
			d0, d1, d2, d3 := d[b], d[4+b], d[8+b], d[12+b]
			t[b], t[4+b], t[8+b], t[12+b] = d0-d2, d1+d2, d2-d1, d1-d3
		}
		for a := 0; a < 4; a++ {
			t0, t1, t2, t3 := t[4*a], t[4*a+1], t[4*a+2], t[4*a+3]
			o := 4 * a * dstride
			dst[o+j] = t0 - t2
			dst[o+dstride+j] = t1 + t2
			dst[o+2*dstride+j] = t2 - t1
			dst[o+3*dstride+j] = t1 - t3
		}
	}
}

// winoOutputRows computes Y = Aᵀ·M·A for n tiles: M's 16 rows are at
// src[ξ·sstride:], Y's four (2×2 positions, row-major) go to dst[q·dstride:].
// Aᵀ = [1 1 1 0; 0 1 −1 −1].
func winoOutputRows(src []float32, sstride int, dst []float32, dstride, n int) {
	for j := 0; j < n; j++ {
		var m [16]float32
		for q := range m {
			m[q] = src[q*sstride+j]
		}
		var t [8]float32 // Aᵀ·M, 2×4
		for b := 0; b < 4; b++ {
			m0, m1, m2, m3 := m[b], m[4+b], m[8+b], m[12+b]
			t[b], t[4+b] = m0+m1+m2, m1-m2-m3
		}
		for a := 0; a < 2; a++ {
			t0, t1, t2, t3 := t[4*a], t[4*a+1], t[4*a+2], t[4*a+3]
			dst[2*a*dstride+j] = t0 + t1 + t2
			dst[(2*a+1)*dstride+j] = t1 - t2 - t3
		}
	}
}
