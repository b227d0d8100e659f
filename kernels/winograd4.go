package kernels

import (
	"math"
	"math/bits"
)

// Winograd F(4×4, 3×3) (Lavin & Gray, 2016): each 4×4 block of outputs is
// computed from the 6×6 input patch under it as Y = Aᵀ·[U ⊙ V]·A, with
// U = G·g·Gᵀ and V = Bᵀ·d·B:
//
//	Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
//	G  = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1]
//	Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
//
// 36 multiplies per tile and channel pair for 16 outputs (2.25 an output,
// against 4 for F(2×2, 3×3) and 9 direct), as 36 GEMMs run the same way as
// F(2×2)'s 16 (winoBlock), with fewer transformed values per output to
// move as well. The cost is rounding: the transforms multiply by up to 8
// and divide by 24, so results differ from the direct sum by a few times
// more than F(2×2)'s. AVX-512 only (the transforms read and write the
// image straight, wino_amd64.s); elsewhere F(2×2) runs.

// wino4On lets tests and benchmarks compare against F(2×2).
var wino4On = true

// Where F(4×4) runs instead of F(2×2) (for weights packed once and kept:
// conv2DImplicit): enough channels that the products outweigh the
// transforms, and two 16-tile panels or more. Two threads,
// alternating in one process (BenchmarkWinograd4), GFLOP/s of the direct
// method, F(4×4) against F(2×2): batch 64, PreAct-ResNet18's 3×3 layers
// with 64 / 128 / 256 / 512 channels 569/544, 756/584, 714/671, 870/631;
// batch 8, ResNet-101's 3×3 stride-1 layers 675/577, 853/673, 828/672,
// 804/559. At batch 1 (16 to 196 tiles) the two were within noise of each
// other, in the layers and in the networks (a threshold of 16 tiles against
// 64: PreAct-ResNet18, ResNet-101, WRN-28-10, PyramidNet-272 no faster),
// and F(4×4)'s filters take 36/16 the memory of F(2×2)'s, so it is kept to
// products of 32 tiles or more: ResNet-101's 7×7 layers at batch 8 (32
// tiles, gathered) 933/561 and 899/562.
const (
	wino4MinChannels = 64
	wino4MinTiles    = 32
)

// wino4 reports whether c (c.winograd()) takes F(4×4, 3×3) with mk.
func (c *conv) wino4(mk *microKernel) bool {
	return wino4On && hasMaskedCopy && mk.mr == 16 && mk.nr == 16 &&
		c.C >= wino4MinChannels && c.K >= wino4MinChannels && c.N*c.tiles4PerImage() >= wino4MinTiles
}

// tileGrid4 is the number of 4×4 output tiles down and across an image.
func (c *conv) tileGrid4() (ty, tx int) { return (c.oh + 3) / 4, (c.ow + 3) / 4 }

func (c *conv) tiles4PerImage() int {
	ty, tx := c.tileGrid4()
	return ty * tx
}

// wino4Size is the floats packWino4 needs for c and mk.
func (c *conv) wino4Size(mk *microKernel) int { return 36 * roundUp(c.K, mk.mr) * c.C }

// wino4Filters writes U = G·g·Gᵀ of filters [lo, hi) (of the kc = K·C 3×3
// filters in w) to u, which holds 36 K×C matrices, one per ξ = 6i+j.
func wino4Filters(w []float32, lo, hi, kc int, u []float32) {
	u = u[:36*kc]
	for kci := lo; kci < hi; kci++ {
		g := w[kci*9 : kci*9+9 : kci*9+9]
		var t [6][3]float32 // G·g
		for j := 0; j < 3; j++ {
			t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j] = wino4G(g[j], g[3+j], g[6+j])
		}
		for i := 0; i < 6; i++ {
			r0, r1, r2, r3, r4, r5 := wino4G(t[i][0], t[i][1], t[i][2])
			o := 6*i*kc + kci
			u[o], u[o+kc], u[o+2*kc], u[o+3*kc], u[o+4*kc], u[o+5*kc] = r0, r1, r2, r3, r4, r5
		}
	}
}

// wino4G is G·(g0, g1, g2), in float64 and rounded once.
func wino4G(g0, g1, g2 float32) (r0, r1, r2, r3, r4, r5 float32) {
	a, b, c := float64(g0), float64(g1), float64(g2)
	return float32(a / 4), float32(-(a + b + c) / 6), float32(-(a - b + c) / 6),
		float32(a/24 + b/12 + c/6), float32(a/24 - b/12 + c/6), g2
}

// packWino4 is packWino for F(4×4): dst must hold 36·roundUp(K, mk.mr)·C
// floats and be zero.
func packWino4(mk *microKernel, w []float32, K, C int, dst []float32) winoPack {
	return packWinoFilters(mk, w, K, C, dst, 36, wino4Filters)
}

// inputDirect4 is input for F(4×4): patches read straight from the image,
// up to 16 tiles along a tile row at a time.
func (wb *winoBlock) inputDirect4(v []float32, c0, c1, t0, nt int) {
	c, nr := wb.c, wb.mk.nr
	vs := wb.vStride()
	tY, tX := c.tileGrid4()
	forTileRunsIn(tY, tX, t0, nt, func(j int) int { return 16 - j%16 }, func(j, n, img, ty, tx int) {
		iy0, ix0 := 4*ty-c.PadT, 4*tx-c.PadL
		rows := 0
		for a := range 6 {
			if iy := iy0 + a; iy >= 0 && iy < c.H {
				rows |= 1 << a
			}
		}
		// The run's patches cover 4n+2 columns from ix0, loaded 16 at a time.
		var masks [5]uint32
		for q := range masks {
			masks[q] = laneMask(ix0+16*q, min(16, max(0, 4*n+2-16*q)), c.W)
		}
		base := img*c.C*c.hw + iy0*c.W + ix0
		// Check that the lanes the loads keep lie in x.
		if lo, hi := maskSpan16(masks[:]); rows != 0 && hi >= lo {
			_ = wb.x[base+(c1-1)*c.hw+(bits.Len(uint(rows))-1)*c.W+hi]
			_ = wb.x[base+c0*c.hw+bits.TrailingZeros(uint(rows))*c.W+lo]
		}
		wb.channelRuns(c0, c1, j, func(ch, cn, off int) {
			_ = v[off+(cn-1)*nr+35*vs+n-1]
			wino4InputX(&wb.x[0], base+ch*c.hw, c.W, c.hw, cn, &masks, rows, &v[off], nr, vs, uint32(1)<<n-1)
		})
	})
}

// maskSpan16 is the first and last column (from the run's first) that
// the loads of 16 columns each keep under masks; hi < lo when they keep
// none.
func maskSpan16(masks []uint32) (lo, hi int) {
	lo, hi = 1<<30, -1
	for q, m := range masks {
		if m != 0 {
			lo = min(lo, 16*q+bits.TrailingZeros32(m))
			hi = max(hi, 16*q+bits.Len32(m)-1)
		}
	}
	return lo, hi
}

// wino4GatherMaxTX is the longest tile row (in tiles) whose patches
// inputGather4 gathers rather than inputDirect4 loads a run at a time:
// runs of a short row fill few of a vector's 16 lanes. At 7 tiles (28×28,
// ResNet-101 at batch 8) gathering was 783 and 801 GFLOP/s of the direct
// method against runs' 750 and 778; at 8 (32×32, PreAct-ResNet18 at batch
// 64) 529 and 513 against 581 and 563.
const wino4GatherMaxTX = 7

// wino4Unit is up to 16 consecutive tiles of a block, anywhere in the
// batch, as wino4InputG gathers them: each lane's patch origin (from
// channel 0 of x) and the lanes of each of the 36 patch positions that lie
// in the image; lo and hi bound the elements read (hi < 0: none).
type wino4Unit struct {
	offs   [16]int32
	masks  [36]uint16
	lo, hi int
}

// gather4 reports whether c's F(4×4) input gathers its patches.
func (c *conv) gather4() bool {
	_, tX := c.tileGrid4()
	return tX <= wino4GatherMaxTX && c.N*c.C*c.hw < math.MaxInt32
}

// units4 describes tiles [t0, t0+nt) in units of 16 (the last shorter).
func (c *conv) units4(t0, nt int, dst []wino4Unit) []wino4Unit {
	tY, tX := c.tileGrid4()
	tpi := tY * tX
	for j := 0; j < nt; j += 16 {
		u := wino4Unit{lo: math.MaxInt, hi: -1}
		var rowm, colm [6]uint16
		for l := range min(16, nt-j) {
			t := t0 + j + l
			img, r := t/tpi, t%tpi
			iy0, ix0 := 4*(r/tX)-c.PadT, 4*(r%tX)-c.PadL
			off := img*c.C*c.hw + iy0*c.W + ix0
			u.offs[l] = int32(off)
			a0, a1 := max(0, -iy0), min(6, c.H-iy0) // rows and columns in the image
			b0, b1 := max(0, -ix0), min(6, c.W-ix0)
			for a := a0; a < a1; a++ {
				rowm[a] |= 1 << l
			}
			for b := b0; b < b1; b++ {
				colm[b] |= 1 << l
			}
			if a0 < a1 && b0 < b1 {
				u.lo = min(u.lo, off+a0*c.W+b0)
				u.hi = max(u.hi, off+(a1-1)*c.W+b1-1)
			}
		}
		for a := range 6 {
			for b := range 6 {
				u.masks[6*a+b] = rowm[a] & colm[b]
			}
		}
		dst = append(dst, u)
	}
	return dst
}

// inputGather4 is input for F(4×4) on maps with short tile rows: 16
// tiles a unit wherever they lie (units, from units4 over the block's
// tiles).
func (wb *winoBlock) inputGather4(v []float32, units []wino4Unit, c0, c1, nt int) {
	c, nr := wb.c, wb.mk.nr
	vs := wb.vStride()
	for ui := range units {
		u := &units[ui]
		j := 16 * ui
		n := min(16, nt-j)
		if u.hi >= 0 {
			_ = wb.x[u.hi+(c1-1)*c.hw]
			_ = wb.x[u.lo+c0*c.hw]
		}
		wb.channelRuns(c0, c1, j, func(ch, cn, off int) {
			_ = v[off+(cn-1)*nr+35*vs+n-1]
			wino4InputG(&wb.x[ch*c.hw], &u.offs, &u.masks, c.W, c.hw, cn, &v[off], nr, vs, uint32(1)<<n-1)
		})
	}
}

// wino4OutUnit is up to 16 consecutive tiles of a block as wino4OutputG
// writes them: each lane's output tile (its first element in channel 0's
// plane) and, per tile row r, the columns of each lane's row r that lie in
// the image (none past the image or for unused lanes). The layout is
// wino4_amd64's: offs at 0, masks at 128.
type wino4OutUnit struct {
	offs  [16]int64
	masks [4][16]uint16
	last  int // the largest element written, from channel 0's plane (-1: none)
}

// outUnits4 describes output tiles [t0, t0+nt) in units of 16.
func (c *conv) outUnits4(t0, nt int, dst []wino4OutUnit) []wino4OutUnit {
	tY, tX := c.tileGrid4()
	tpi := tY * tX
	for j := 0; j < nt; j += 16 {
		u := wino4OutUnit{last: -1}
		for l := range min(16, nt-j) {
			t := t0 + j + l
			img, r := t/tpi, t%tpi
			oy, ox := 4*(r/tX), 4*(r%tX)
			u.offs[l] = int64((img*c.K*c.oh+oy)*c.ow + ox)
			rows, cols := min(4, c.oh-oy), min(4, c.ow-ox)
			for a := range rows {
				u.masks[a][l] = uint16(1)<<cols - 1
			}
			u.last = max(u.last, int(u.offs[l])+(rows-1)*c.ow+cols-1)
		}
		dst = append(dst, u)
	}
	return dst
}

// outputGather4 is output for F(4×4) on maps with short tile rows:
// output channels [k0, k1), 16 tiles a unit wherever they lie.
func (wb *winoBlock) outputGather4(m []float32, units []wino4OutUnit, k0, k1, nt int) {
	c, o, pb := wb.c, wb.o, wb.pb
	ms := wb.mStride()
	var bias *float32
	if o.Bias != nil {
		bias = &o.Bias[k0:k1][0]
	}
	for ui := range units {
		u := &units[ui]
		j := 16 * ui
		if u.last < 0 {
			continue
		}
		base := k0 * c.ohw
		last := base + (k1-k0-1)*c.ohw + u.last
		_ = wb.y[last]
		_ = m[35*ms+(k1-1)*pb+j+15]
		var res *float32
		if o.Residual != nil {
			_ = o.Residual[last]
			res = &o.Residual[base]
		}
		wino4OutputG(&m[k0*pb+j], ms, pb, &wb.y[base], c.ohw, c.ow, u, k1-k0, bias, res, o.Act == ActReLU)
	}
}
