package kernels

import (
	"fmt"
	"runtime"
	"sync/atomic"
)

// ConvParams describes a 2-D convolution over NCHW input x (N×C×H×W) with
// weights w (K×(C/Group)×R×S) producing y (N×K×OH×OW). Pads are given per
// side (top, left, bottom, right). A zero stride, dilation or group count
// means 1.
type ConvParams struct {
	N, C, H, W             int
	K, R, S                int
	StrideH, StrideW       int
	PadT, PadL, PadB, PadR int
	DilH, DilW             int
	Group                  int
}

// OutHW returns the output height and width:
// OH = (H + PadT + PadB − DilH·(R−1) − 1)/StrideH + 1, likewise OW.
func (p ConvParams) OutHW() (oh, ow int) {
	p = p.norm()
	oh = (p.H+p.PadT+p.PadB-p.DilH*(p.R-1)-1)/p.StrideH + 1
	ow = (p.W+p.PadL+p.PadR-p.DilW*(p.S-1)-1)/p.StrideW + 1
	return oh, ow
}

// Activation is the elementwise function a kernel applies to its output.
type Activation int

// The activations Conv2D can fuse.
const (
	ActNone Activation = iota // identity
	ActReLU                   // max(0, x)
)

func (p ConvParams) norm() ConvParams {
	one := func(v *int) {
		if *v == 0 {
			*v = 1
		}
	}
	one(&p.StrideH)
	one(&p.StrideW)
	one(&p.DilH)
	one(&p.DilW)
	one(&p.Group)
	return p
}

// conv is a validated ConvParams with its derived sizes.
type conv struct {
	ConvParams
	oh, ow    int
	cg, kg    int // channels and filters per group
	crs       int // cg·R·S, the GEMM depth
	ohw, hw   int
	pointwise bool // 1×1, stride 1, no pad: the input is already the im2col matrix
}

func newConv(name string, p ConvParams) conv {
	p = p.norm()
	if p.N < 0 || p.C <= 0 || p.H <= 0 || p.W <= 0 || p.K <= 0 || p.R <= 0 || p.S <= 0 ||
		p.StrideH < 0 || p.StrideW < 0 || p.DilH < 0 || p.DilW < 0 || p.Group < 0 ||
		p.PadT < 0 || p.PadL < 0 || p.PadB < 0 || p.PadR < 0 {
		panic(fmt.Sprintf("kernels: %s: invalid params %+v", name, p))
	}
	if p.C%p.Group != 0 || p.K%p.Group != 0 {
		panic(fmt.Sprintf("kernels: %s: C=%d and K=%d must divide by Group=%d", name, p.C, p.K, p.Group))
	}
	c := conv{ConvParams: p}
	c.oh, c.ow = p.OutHW()
	if c.oh <= 0 || c.ow <= 0 {
		panic(fmt.Sprintf("kernels: %s: empty output %d×%d for %+v", name, c.oh, c.ow, p))
	}
	c.cg, c.kg = p.C/p.Group, p.K/p.Group
	c.crs = c.cg * p.R * p.S
	c.ohw, c.hw = c.oh*c.ow, p.H*p.W
	c.pointwise = p.R == 1 && p.S == 1 && p.StrideH == 1 && p.StrideW == 1 &&
		p.PadT == 0 && p.PadL == 0 && p.PadB == 0 && p.PadR == 0
	return c
}

func (c conv) check(name string, lx, lw, ly int) {
	need := func(what string, got, want int) {
		if got < want {
			panic(fmt.Sprintf("kernels: %s: len(%s)=%d, need %d", name, what, got, want))
		}
	}
	need("x", lx, c.N*c.C*c.hw)
	need("w", lw, c.K*c.crs)
	need("y", ly, c.N*c.K*c.ohw)
}

// inGroup, outGroup and filterGroup are group g's part of image n of an
// input-shaped tensor (cg×H×W), of image n of an output-shaped one
// (kg×OH×OW) and of the filters (kg×crs).
func (c conv) inGroup(x []float32, n, g int) []float32 {
	return x[(n*c.C+g*c.cg)*c.hw:][:c.cg*c.hw]
}

func (c conv) outGroup(y []float32, n, g int) []float32 {
	return y[(n*c.K+g*c.kg)*c.ohw:][:c.kg*c.ohw]
}

func (c conv) filterGroup(w []float32, g int) []float32 {
	return w[g*c.kg*c.crs:][:c.kg*c.crs]
}

// colBuf returns scratch for one group's patch matrix, or nil when c is
// pointwise (its input is its own patch matrix).
func (c conv) colBuf() *buf {
	if c.pointwise {
		return nil
	}
	return getBuf(c.crs * c.ohw)
}

// patches returns the crs×ohw patch matrix of group g of image n of x:
// that part of x itself when c is pointwise, else im2col's, in col.
func (c conv) patches(x []float32, n, g int, col *buf) []float32 {
	xg := c.inGroup(x, n, g)
	if c.pointwise {
		return xg
	}
	c.im2col(xg, col.s)
	return col.s
}

// patchRows calls f for every row segment of one group's crs×ohw patch
// matrix col (channel ci, kernel tap r, s, output row oy) with the row of
// x (cg×H×W) it reads, nil for a row in the padding, and the column of
// that row its first element reads.
func (c conv) patchRows(x, col []float32, f func(seg, xr []float32, ix int)) {
	for ci := 0; ci < c.cg; ci++ {
		xc := x[ci*c.hw : (ci+1)*c.hw]
		for r := 0; r < c.R; r++ {
			for s := 0; s < c.S; s++ {
				row := col[((ci*c.R+r)*c.S+s)*c.ohw:][:c.ohw]
				dy, dx := r*c.DilH-c.PadT, s*c.DilW-c.PadL
				for oy := 0; oy < c.oh; oy++ {
					var xr []float32
					if iy := oy*c.StrideH + dy; iy >= 0 && iy < c.H {
						xr = xc[iy*c.W : (iy+1)*c.W]
					}
					f(row[oy*c.ow:(oy+1)*c.ow], xr, dx)
				}
			}
		}
	}
}

// im2col writes the crs×ohw patch matrix of one group's input x (cg×H×W).
func (c conv) im2col(x, col []float32) {
	c.patchRows(x, col, func(seg, xr []float32, ix int) { gatherRow(seg, xr, ix, c.StrideW) })
}

// gatherRow writes d[i] = xr[ix + i·stride], zero where that falls
// outside xr: one row of a patch matrix from one input row.
func gatherRow(d, xr []float32, ix, stride int) {
	if stride == 1 {
		// Contiguous run: zeros, a copy, zeros.
		lo, hi := max(0, -ix), min(len(d), len(xr)-ix)
		if hi <= lo {
			clear(d)
			return
		}
		clear(d[:lo])
		copy(d[lo:hi], xr[ix+lo:ix+hi])
		clear(d[hi:])
		return
	}
	for i := range d {
		if xi := ix + i*stride; xi >= 0 && xi < len(xr) {
			d[i] = xr[xi]
		} else {
			d[i] = 0
		}
	}
}

// col2im adds the crs×ohw patch matrix col back into one group's dx.
func (c conv) col2im(col, dx []float32) {
	c.patchRows(dx, col, func(seg, xr []float32, ix int) {
		for i, v := range seg {
			if xi := ix + i*c.StrideW; xi >= 0 && xi < len(xr) {
				xr[xi] += v
			}
		}
	})
}

// parallelImages runs f(n, threads) for every image n of the batch: images
// are spread over the cores when there are several, otherwise the single
// image gets all the cores for its GEMMs.
func parallelImages(nImages int, f func(n, threads int)) {
	t := runtime.GOMAXPROCS(0)
	if nImages < 2 || t < 2 {
		for n := 0; n < nImages; n++ {
			f(n, t)
		}
		return
	}
	parallelFor(t, nImages, func(_, n int) { f(n, 1) })
}

// parallelFor runs f(w, i) for every i in [0, n) on up to t goroutines
// (w numbers them), each taking the next i when it is done with one: on
// a shared machine a core slowed by another process does less of the
// work instead of holding up the rest. Which w runs which i varies from
// call to call, so f must not make results depend on w.
func parallelFor(t, n int, f func(w, i int)) {
	t = min(t, n)
	if t <= 1 {
		for i := 0; i < n; i++ {
			f(0, i)
		}
		return
	}
	var next atomic.Int64
	runWorkers(t, func(w int) {
		for {
			i := int(next.Add(1)) - 1
			if i >= n {
				return
			}
			f(w, i)
		}
	})
}

func maxProcs() int { return runtime.GOMAXPROCS(0) }

// parallelWorkers runs f(worker, n, threads) for n in [0, nImages) on t
// workers, image n going to worker n mod t.
func parallelWorkers(t, nImages int, f func(worker, n, threads int)) {
	if t <= 1 {
		for n := 0; n < nImages; n++ {
			f(0, n, maxProcs())
		}
		return
	}
	runWorkers(t, func(w int) {
		for n := w; n < nImages; n += t {
			f(w, n, 1)
		}
	})
}

// patchSeg is a run of panel columns [j, j+n) that lie on one output row
// of one image: output positions (oy, ox..ox+n-1) of the image at x[img:].
type patchSeg struct{ j, n, img, oy, ox int }

// patchTap is one row of an im2col matrix: its offset in x relative to the
// input position of its output position (channel, row and column shift
// folded in), its row shift dy, its kernel column s and its channel's
// offset ch. packTapRows reads the first three, so the layout is fixed.
type patchTap struct{ lin, dy, s, ch int }

// tapTable fills taps with the im2col rows row0, row0+1, … of c.
func (c *conv) tapTable(taps []patchTap, row0 int) {
	rs := c.R * c.S
	ci, rr := row0/rs, row0%rs
	r, s := rr/c.S, rr%c.S
	for p := range taps {
		dy, dx := r*c.DilH-c.PadT, s*c.DilW-c.PadL
		taps[p] = patchTap{lin: ci*c.hw + dy*c.W + dx, dy: dy, s: s, ch: ci * c.hw}
		if s++; s == c.S {
			s = 0
			if r++; r == c.R {
				r = 0
				ci++
			}
		}
	}
}

// maxMaskedS is the widest kernel the masked packing path handles.
const maxMaskedS = 16

// packPatches packs rows [pc, pc+kc) and columns [jc, jc+nc) of the
// im2col matrix of one group's input into panels of nr columns, as packB
// does for a stored matrix. Columns run over the output positions of
// consecutive images: image i of the group starts at x[i*imgStride].
// kc must not exceed packKC.
func (c *conv) packPatches(dst, x []float32, imgStride, pc, kc, jc, nc, nr int) {
	var taps [packKC]patchTap
	c.tapTable(taps[:kc], pc)
	var segs [32]patchSeg // cols ≤ nr ≤ 32, one column at least per run
	whole := c.wholeImageRuns(nr)
	for jr := 0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		panel := dst[jr*kc : jr*kc+kc*nr]
		if cols < nr {
			clear(panel)
		}
		// Split the panel's columns into runs along output rows (along
		// images where the rows of one image lie end to end).
		j0 := jc + jr
		img, pos := j0/c.ohw, j0%c.ohw
		ns := 0
		for j := 0; j < cols; {
			n := min(cols-j, c.ow-pos%c.ow)
			if whole {
				n = min(cols-j, c.ohw-pos)
			}
			segs[ns] = patchSeg{j: j, n: n, img: img * imgStride, oy: pos / c.ow, ox: pos % c.ow}
			ns++
			j += n
			if pos += n; pos == c.ohw {
				pos = 0
				img++
			}
		}
		c.packSegs(panel, x, kc, nr, segs[:ns], taps[:kc])
	}
}

// wholeImageRuns reports whether packSegs takes runs of columns that
// cross output rows: the input of a pointwise convolution is its own patch
// matrix, so one image's positions lie in one run of x, and splitting them
// at each output row (of 14 or 7 columns in ResNet's last stages) made a
// 32-column panel three to five passes over its kc rows.
func (c *conv) wholeImageRuns(nr int) bool {
	return c.pointwise && c.maskedPackOK() && nr <= 32
}

// maskedPackOK reports whether c's patches are packed with AVX-512 masked
// loads (packTapRows, packTapRows2).
func (c *conv) maskedPackOK() bool {
	return hasMaskedCopy && (c.StrideW == 1 || c.StrideW == 2) && c.S <= maxMaskedS
}

// inputMasks sets, for each kernel column s, the lanes i < n of the input
// row run starting at column ix0+dx(s) that lie inside the row (0 ≤
// ix0+dx(s)+i < W): those come from x, the rest are zeros.
func (c *conv) inputMasks(masks *[maxMaskedS]uint32, ix0, n int) {
	for s := range c.S {
		ix := ix0 + s*c.DilW - c.PadL
		if lo, hi := max(0, -ix), min(n, c.W-ix); hi > lo {
			masks[s] = uint32(1<<uint(hi)-1) &^ uint32(1<<uint(lo)-1)
		}
	}
}

// inputMasks2 sets, for each kernel column s, the lanes t < 2n of the
// input row run starting at column ix0+dx(s) that lie inside the row, for
// packTapRows2 (which keeps the even lanes).
func (c *conv) inputMasks2(masks *[maxMaskedS]uint64, ix0, n int) {
	for s := range c.S {
		masks[s] = 0
		ix := ix0 + s*c.DilW - c.PadL
		if lo, hi := max(0, -ix), min(2*n, c.W-ix); hi > lo {
			masks[s] = uint64(1<<uint(hi)-1) &^ uint64(1<<uint(lo)-1)
		}
	}
}

// packSegs fills the columns of segs in every row of one panel.
func (c *conv) packSegs(panel, x []float32, kc, nr int, segs []patchSeg, taps []patchTap) {
	fast := c.maskedPackOK() && nr <= 32
	for _, sg := range segs {
		iy0, ix0 := sg.oy*c.StrideH, sg.ox*c.StrideW
		if fast && c.StrideW == 2 {
			var masks [maxMaskedS]uint64
			c.inputMasks2(&masks, ix0, sg.n)
			_ = panel[(kc-1)*nr+sg.j+sg.n-1]
			packTapRows2(&panel[sg.j], nr, &x[0], kc, &taps[0], &masks[0],
				sg.img+iy0*c.W+ix0, iy0, c.H, uint32(1<<uint(sg.n)-1))
			continue
		}
		if fast {
			var masks [maxMaskedS]uint32
			if c.pointwise {
				// no padding; the run may cross output rows
				masks[0] = uint32(1<<uint(sg.n) - 1)
			} else {
				c.inputMasks(&masks, ix0, sg.n)
			}
			_ = panel[(kc-1)*nr+sg.j+sg.n-1]
			packTapRows(&panel[sg.j], nr, &x[0], kc, &taps[0], &masks[0],
				sg.img+iy0*c.W+ix0, iy0, c.H, uint32(1<<uint(sg.n)-1))
			continue
		}
		for p, tp := range taps {
			d := panel[p*nr+sg.j : p*nr+sg.j+sg.n]
			iy := iy0 + tp.dy
			if iy < 0 || iy >= c.H {
				clear(d)
				continue
			}
			gatherRow(d, x[sg.img+tp.ch+iy*c.W:][:c.W], ix0+tp.s*c.DilW-c.PadL, c.StrideW)
		}
	}
}

// packPatchesT packs rows [pc, pc+kc) and columns [jc, jc+nc) of the
// transposed im2col matrix of one image's group input x (rows are output
// positions, columns are taps) into panels of nr columns, as packB does.
func (c *conv) packPatchesT(dst, x []float32, pc, kc, jc, nc, nr int) {
	rs := c.R * c.S
	for jr := 0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		panel := dst[jr*kc : jr*kc+kc*nr]
		if cols < nr {
			clear(panel)
		}
		for jj := 0; jj < cols; jj++ {
			tap := jc + jr + jj
			ci, rr := tap/rs, tap%rs
			r, s := rr/c.S, rr%c.S
			offY, offX := r*c.DilH-c.PadT, s*c.DilW-c.PadL
			xc := x[ci*c.hw : (ci+1)*c.hw]
			for p := 0; p < kc; {
				pos := pc + p
				oy, ox := pos/c.ow, pos%c.ow
				seg := min(kc-p, c.ow-ox)
				iy := oy*c.StrideH + offY
				if iy < 0 || iy >= c.H {
					for i := 0; i < seg; i++ {
						panel[(p+i)*nr+jj] = 0
					}
					p += seg
					continue
				}
				xr := xc[iy*c.W : (iy+1)*c.W]
				for i := 0; i < seg; i++ {
					ix := (ox+i)*c.StrideW + offX
					var v float32
					if ix >= 0 && ix < c.W {
						v = xr[ix]
					}
					panel[(p+i)*nr+jj] = v
				}
				p += seg
			}
		}
	}
}
