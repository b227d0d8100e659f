package kernels

import (
	"fmt"
	"math"
)

// PoolParams describes a 2-D pooling window R×S over NCHW input x
// (N×C×H×W) producing y (N×C×OH×OW). A zero stride or dilation means 1.
// Taps outside the input never win a max. They count towards an average
// only with CountIncludePad (PyTorch's default, ONNX's
// count_include_pad=1), and then only those inside the padded input: with
// Ceil the last window may reach past the bottom or right padding.
type PoolParams struct {
	N, C, H, W             int
	R, S                   int
	StrideH, StrideW       int
	PadT, PadL, PadB, PadR int
	DilH, DilW             int
	// Ceil rounds the output size up (PyTorch's ceil_mode), keeping only
	// windows that start inside the input or its top or left padding.
	Ceil            bool
	CountIncludePad bool
}

// OutHW returns the output height and width:
// OH = (H + PadT + PadB − DilH·(R−1) − 1)/StrideH + 1, rounded down or,
// with Ceil, up; likewise OW.
func (p PoolParams) OutHW() (oh, ow int) {
	p = p.norm()
	return poolOut(p.H, p.R, p.StrideH, p.PadT, p.PadB, p.DilH, p.Ceil),
		poolOut(p.W, p.S, p.StrideW, p.PadL, p.PadR, p.DilW, p.Ceil)
}

func poolOut(in, k, stride, padBegin, padEnd, dil int, ceil bool) int {
	num := in + padBegin + padEnd - dil*(k-1) - 1
	if num < 0 {
		return 0
	}
	o := num/stride + 1
	if ceil && num%stride != 0 {
		o++
		if (o-1)*stride >= in+padBegin {
			o--
		}
	}
	return o
}

func (p PoolParams) norm() PoolParams {
	p.StrideH, p.StrideW = max(p.StrideH, 1), max(p.StrideW, 1)
	p.DilH, p.DilW = max(p.DilH, 1), max(p.DilW, 1)
	return p
}

// check validates p and the lengths of the input-sized and output-sized
// slices and returns p normalised and its output size.
func (p PoolParams) check(name string, lx, ly int) (q PoolParams, oh, ow int) {
	q = p.norm()
	oh, ow = q.OutHW()
	if q.N < 0 || q.C < 0 || q.H < 0 || q.W < 0 || q.R <= 0 || q.S <= 0 ||
		q.PadT < 0 || q.PadL < 0 || q.PadB < 0 || q.PadR < 0 {
		panic(fmt.Sprintf("kernels: %s: invalid params %+v", name, p))
	}
	if lx < q.N*q.C*q.H*q.W || ly < q.N*q.C*oh*ow {
		panic(fmt.Sprintf("kernels: %s: slices of %d and %d floats too short for %+v", name, lx, ly, p))
	}
	return q, oh, ow
}

// axis is one spatial dimension of a pooling window.
type axis struct{ stride, padBegin, padEnd, dil, k, in int }

// span is output position o's window along a: tap t reads coordinate
// at + t·dil, and taps [lo, hi) fall inside the input (none when hi ≤ lo).
func (a axis) span(o int) (at, lo, hi int) {
	at = o*a.stride - a.padBegin
	if a.dil == 1 {
		return at, max(0, -at), min(a.k, a.in-at)
	}
	return at, max(0, (-at+a.dil-1)/a.dil), min(a.k, (a.in-at+a.dil-1)/a.dil)
}

// padded is the number of taps of the window starting at at that lie
// inside the padded input.
func (a axis) padded(at int) int {
	return min(a.k, (a.in+a.padEnd-at+a.dil-1)/a.dil)
}

// window is normalised PoolParams as the loops read them, small enough
// for closures to hold a copy.
type window struct {
	rows, cols axis
	includePad bool
}

func (p PoolParams) window() window {
	return window{rows: axis{p.StrideH, p.PadT, p.PadB, p.DilH, p.R, p.H},
		cols: axis{p.StrideW, p.PadL, p.PadR, p.DilW, p.S, p.W}, includePad: p.CountIncludePad}
}

// eachRow calls f for every output row oy of every channel plane nc of p,
// the planes spread over the cores, with the row's window span.
func (p PoolParams) eachRow(oh, ow int, f func(nc, oy, iy, ylo, yhi int)) {
	rows := p.window().rows
	ParallelRange(p.N*p.C, p.N*p.C*oh*ow*p.R*p.S, func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			for oy := 0; oy < oh; oy++ {
				iy, ylo, yhi := rows.span(oy)
				f(nc, oy, iy, ylo, yhi)
			}
		}
	})
}

// divisor is what the sum of the window at (iy, ix) with in-input taps
// [ylo, yhi)×[xlo, xhi) is divided by: 0 for a window with nothing to
// average.
func (w window) divisor(iy, ylo, yhi, ix, xlo, xhi int) float32 {
	if w.includePad {
		return float32(w.rows.padded(iy) * w.cols.padded(ix))
	}
	return float32(max(yhi-ylo, 0) * max(xhi-xlo, 0))
}

// MaxPool2D writes the window maxima of x to y (NaN when a window holds
// one; −Inf when no tap of a window lies inside the input). When arg is
// not nil (as long as y) it receives, for MaxPool2DBackward, the index
// within its H×W plane of each window's first largest tap, or −1.
func MaxPool2D(p PoolParams, x, y []float32, arg []int32) {
	p, oh, ow := p.check("MaxPool2D", len(x), len(y))
	hw, ohw := p.H*p.W, oh*ow
	if arg != nil && len(arg) < p.N*p.C*ohw {
		panic("kernels: MaxPool2D: arg shorter than y")
	}
	win := p.window()
	if arg == nil && win.rows.dil == 1 && win.cols.dil == 1 && p.R > 1 {
		maxPoolRows(p, win, x, y, oh, ow)
		return
	}
	p.eachRow(oh, ow, func(nc, oy, iy, ylo, yhi int) {
		xc := x[nc*hw : (nc+1)*hw]
		w, dy, dx := win.cols.in, win.rows.dil, win.cols.dil
		for ox := 0; ox < ow; ox++ {
			ix, xlo, xhi := win.cols.span(ox)
			// at follows the first largest tap by a conditional move, not
			// a branch on random data.
			m, at := float32(math.Inf(-1)), -1
			if ylo < yhi && xlo < xhi {
				at = (iy+ylo*dy)*w + ix + xlo*dx
			}
			for ty := ylo; ty < yhi; ty++ {
				row := (iy+ty*dy)*w + ix
				for tx := xlo; tx < xhi; tx++ {
					i := row + tx*dx
					v := xc[i]
					if v > m {
						at = i
					}
					m = max(m, v)
				}
			}
			o := nc*ohw + oy*ow + ox
			y[o] = m
			if arg != nil {
				arg[o] = int32(at)
			}
		}
	})
}

// maxPoolRows is MaxPool2D without arg and without dilation, a window's
// rows first: the maximum down the window's input rows, a whole row at a
// time, then along it for each output (AVX-512 for both, and for the
// 3-wide stride-2 window along the row). max orders −0 below +0 and
// propagates NaN, as VRANGEPS does, so neither the order nor the path
// changes the result. ResNet-101's 3×3 stride-2 pool over 64×112×112 at
// batch 1, in the network, one core: 3.1 ms taking each window's nine
// taps in turn, 1.4 ms a row at a time in Go.
func maxPoolRows(p PoolParams, win window, x, y []float32, oh, ow int) {
	hw, ohw := p.H*p.W, oh*ow
	// The row with its left padding in front (rowp[pl+i] = row[i]) and, for
	// the 3-wide stride-2 kernel, −Inf wherever a window reaches past it.
	pl := max(p.PadL, 0)
	s32 := hasMaxRange && p.S == 3 && p.StrideW == 2
	n := max(pl+p.W, 2*ow+1)
	ParallelRange(p.N*p.C, p.N*p.C*oh*ow*p.R*p.S, func(lo, hi int) {
		t := getBuf(n)
		defer putBuf(t)
		rowp := t.s[:n]
		for i := range rowp {
			rowp[i] = float32(math.Inf(-1))
		}
		row := rowp[pl : pl+p.W]
		for nc := lo; nc < hi; nc++ {
			xc := x[nc*hw : (nc+1)*hw]
			yc := y[nc*ohw : (nc+1)*ohw]
			for oy := 0; oy < oh; oy++ {
				yr := yc[oy*ow : (oy+1)*ow]
				iy, ylo, yhi := win.rows.span(oy)
				if ylo >= yhi {
					for i := range yr {
						yr[i] = float32(math.Inf(-1))
					}
					continue
				}
				copy(row, xc[(iy+ylo)*p.W:(iy+ylo+1)*p.W])
				for ty := ylo + 1; ty < yhi; ty++ {
					src := xc[(iy+ty)*p.W : (iy+ty+1)*p.W]
					if hasMaxRange {
						maxRowInto(&row[0], &src[0], len(row))
						continue
					}
					for i, v := range src {
						row[i] = max(row[i], v)
					}
				}
				if s32 && ow > 0 {
					maxPool3s2Row(&yr[0], &rowp[0], ow)
					continue
				}
				for ox := range yr {
					ix, xlo, xhi := win.cols.span(ox)
					m := float32(math.Inf(-1))
					lo := min(ix+xlo, p.W) // an empty span when the window lies in the padding
					for _, v := range row[lo:max(ix+xhi, lo)] {
						m = max(m, v)
					}
					yr[ox] = m
				}
			}
		}
	})
}

// MaxPool2DBackward writes to dx (N×C×H×W, overwritten) the gradient of
// max pooling: each dy goes to the tap MaxPool2D recorded in arg.
func MaxPool2DBackward(p PoolParams, dy []float32, arg []int32, dx []float32) {
	p, oh, ow := p.check("MaxPool2DBackward", len(dx), len(dy))
	hw, ohw := p.H*p.W, oh*ow
	if len(arg) < p.N*p.C*ohw {
		panic("kernels: MaxPool2DBackward: arg shorter than dy")
	}
	ParallelRange(p.N*p.C, p.N*p.C*(hw+ohw), func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			dxc := dx[nc*hw : (nc+1)*hw]
			clear(dxc)
			for o, at := range arg[nc*ohw : (nc+1)*ohw] {
				if at >= 0 {
					dxc[at] += dy[nc*ohw+o]
				}
			}
		}
	})
}

// AvgPool2D writes the window averages of x to y (0 for a window with
// nothing to average).
func AvgPool2D(p PoolParams, x, y []float32) {
	p, oh, ow := p.check("AvgPool2D", len(x), len(y))
	hw, ohw := p.H*p.W, oh*ow
	win := p.window()
	p.eachRow(oh, ow, func(nc, oy, iy, ylo, yhi int) {
		xc := x[nc*hw : (nc+1)*hw]
		w, dy, dx := win.cols.in, win.rows.dil, win.cols.dil
		for ox := 0; ox < ow; ox++ {
			ix, xlo, xhi := win.cols.span(ox)
			var s float32
			for ty := ylo; ty < yhi; ty++ {
				row := (iy+ty*dy)*w + ix
				for tx := xlo; tx < xhi; tx++ {
					s += xc[row+tx*dx]
				}
			}
			if d := win.divisor(iy, ylo, yhi, ix, xlo, xhi); d > 0 {
				s /= d
			}
			y[nc*ohw+oy*ow+ox] = s
		}
	})
}

// AvgPool2DBackward writes to dx (N×C×H×W, overwritten) the gradient of
// average pooling given dy.
func AvgPool2DBackward(p PoolParams, dy, dx []float32) {
	p, oh, ow := p.check("AvgPool2DBackward", len(dx), len(dy))
	hw, ohw := p.H*p.W, oh*ow
	clear(dx[:p.N*p.C*hw])
	win := p.window()
	p.eachRow(oh, ow, func(nc, oy, iy, ylo, yhi int) {
		dxc := dx[nc*hw : (nc+1)*hw]
		w, sy, sx := win.cols.in, win.rows.dil, win.cols.dil
		for ox := 0; ox < ow; ox++ {
			ix, xlo, xhi := win.cols.span(ox)
			d := win.divisor(iy, ylo, yhi, ix, xlo, xhi)
			if d == 0 {
				continue
			}
			g := dy[nc*ohw+oy*ow+ox] / d
			for ty := ylo; ty < yhi; ty++ {
				row := (iy+ty*sy)*w + ix
				for tx := xlo; tx < xhi; tx++ {
					dxc[row+tx*sx] += g
				}
			}
		}
	})
}

// GlobalAvgPool writes to y[i] the mean of row i of x, for rows of inner
// floats (an N×C×spatial tensor has N·C rows), summing in float64; an
// empty row's mean is NaN.
func GlobalAvgPool(rows, inner int, x, y []float32) {
	checkRows("GlobalAvgPool", rows, inner, len(x), len(y))
	for i := range y[:rows] {
		var s float64
		for _, v := range x[i*inner : (i+1)*inner] {
			s += float64(v)
		}
		y[i] = float32(s / float64(inner))
	}
}

// GlobalAvgPoolBackward writes to dx (rows × inner, overwritten) the
// gradient of GlobalAvgPool: dy[i]/inner across row i.
func GlobalAvgPoolBackward(rows, inner int, dy, dx []float32) {
	checkRows("GlobalAvgPoolBackward", rows, inner, len(dx), len(dy))
	for i, d := range dy[:rows] {
		g := d / float32(inner)
		row := dx[i*inner : (i+1)*inner]
		for j := range row {
			row[j] = g
		}
	}
}

// GlobalMaxPool writes to y[i] the largest value of row i of x (NaN when
// the row holds one, −Inf when it is empty), for rows of inner floats.
func GlobalMaxPool(rows, inner int, x, y []float32) {
	checkRows("GlobalMaxPool", rows, inner, len(x), len(y))
	for i := range y[:rows] {
		m := float32(math.Inf(-1))
		for _, v := range x[i*inner : (i+1)*inner] {
			m = max(m, v)
		}
		y[i] = m
	}
}

func checkRows(name string, rows, inner, lx, ly int) {
	if rows < 0 || inner < 0 || lx < rows*inner || ly < rows {
		panic(fmt.Sprintf("kernels: %s: %d rows of %d with slices of %d and %d floats", name, rows, inner, lx, ly))
	}
}
