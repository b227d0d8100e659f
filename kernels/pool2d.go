package kernels

import (
	"fmt"
	"math"
)

// PoolParams describes a 2-D pooling window R×S over NCHW input x
// (N×C×H×W) producing y (N×C×OH×OW). A zero stride means 1. Padded taps
// never win a max; they count towards an average only with
// CountIncludePad (PyTorch's default, ONNX's count_include_pad=1).
type PoolParams struct {
	N, C, H, W             int
	R, S                   int
	StrideH, StrideW       int
	PadT, PadL, PadB, PadR int
	CountIncludePad        bool
}

// OutHW returns the output height and width (floor mode).
func (p PoolParams) OutHW() (oh, ow int) {
	return p.conv().OutHW()
}

func (p PoolParams) conv() ConvParams {
	return ConvParams{N: p.N, C: p.C, H: p.H, W: p.W, K: p.C, R: p.R, S: p.S,
		StrideH: p.StrideH, StrideW: p.StrideW, PadT: p.PadT, PadL: p.PadL, PadB: p.PadB, PadR: p.PadR, Group: p.C}
}

// check validates p and the slice lengths and returns the output size.
func (p PoolParams) check(name string, lx, ly int) (oh, ow int) {
	c := newConv(name, p.conv())
	if lx < p.N*p.C*p.H*p.W || ly < p.N*p.C*c.ohw {
		panic(fmt.Sprintf("kernels: %s: len(x)=%d len(y)=%d too short for %+v", name, lx, ly, p))
	}
	return c.oh, c.ow
}

// window calls f(o, y0, y1, x0, x1) for every flat output position o with
// the in-image rows [y0, y1) and columns [x0, x1) of its window.
func (p PoolParams) window(oh, ow int, f func(o, y0, y1, x0, x1 int)) {
	sh, sw := max(p.StrideH, 1), max(p.StrideW, 1)
	for oy := 0; oy < oh; oy++ {
		y0 := oy*sh - p.PadT
		y1 := min(y0+p.R, p.H)
		y0 = max(y0, 0)
		for ox := 0; ox < ow; ox++ {
			x0 := ox*sw - p.PadL
			x1 := min(x0+p.S, p.W)
			x0 = max(x0, 0)
			f(oy*ow+ox, y0, y1, x0, x1)
		}
	}
}

// MaxPool2D writes the window maxima of x to y. A window with no in-image
// tap yields -Inf.
func MaxPool2D(p PoolParams, x, y []float32) {
	oh, ow := p.check("MaxPool2D", len(x), len(y))
	hw, ohw := p.H*p.W, oh*ow
	for nc := 0; nc < p.N*p.C; nc++ {
		xc, yc := x[nc*hw:(nc+1)*hw], y[nc*ohw:(nc+1)*ohw]
		p.window(oh, ow, func(o, y0, y1, x0, x1 int) {
			m := float32(math.Inf(-1))
			for iy := y0; iy < y1; iy++ {
				for _, v := range xc[iy*p.W+x0 : iy*p.W+x1] {
					if v > m {
						m = v
					}
				}
			}
			yc[o] = m
		})
	}
}

// MaxPool2DBackward writes to dx the gradient of max pooling: each dy goes
// to the first tap (in row-major order) holding its window's maximum in x.
// dx is overwritten.
func MaxPool2DBackward(p PoolParams, x, dy, dx []float32) {
	oh, ow := p.check("MaxPool2DBackward", len(x), len(dy))
	if len(dx) < len(x[:p.N*p.C*p.H*p.W]) {
		panic("kernels: MaxPool2DBackward: dx shorter than x")
	}
	hw, ohw := p.H*p.W, oh*ow
	clear(dx[:p.N*p.C*hw])
	for nc := 0; nc < p.N*p.C; nc++ {
		xc, dxc, dyc := x[nc*hw:(nc+1)*hw], dx[nc*hw:(nc+1)*hw], dy[nc*ohw:(nc+1)*ohw]
		p.window(oh, ow, func(o, y0, y1, x0, x1 int) {
			best, arg := float32(math.Inf(-1)), -1
			for iy := y0; iy < y1; iy++ {
				for ix := x0; ix < x1; ix++ {
					if v := xc[iy*p.W+ix]; v > best || arg < 0 {
						best, arg = v, iy*p.W+ix
					}
				}
			}
			if arg >= 0 {
				dxc[arg] += dyc[o]
			}
		})
	}
}

func (p PoolParams) divisor(y0, y1, x0, x1 int) float32 {
	if p.CountIncludePad {
		return float32(p.R * p.S)
	}
	return float32(max((y1-y0)*(x1-x0), 1))
}

// AvgPool2D writes the window averages of x to y.
func AvgPool2D(p PoolParams, x, y []float32) {
	oh, ow := p.check("AvgPool2D", len(x), len(y))
	hw, ohw := p.H*p.W, oh*ow
	for nc := 0; nc < p.N*p.C; nc++ {
		xc, yc := x[nc*hw:(nc+1)*hw], y[nc*ohw:(nc+1)*ohw]
		p.window(oh, ow, func(o, y0, y1, x0, x1 int) {
			var s float32
			for iy := y0; iy < y1; iy++ {
				for _, v := range xc[iy*p.W+x0 : iy*p.W+x1] {
					s += v
				}
			}
			yc[o] = s / p.divisor(y0, y1, x0, x1)
		})
	}
}

// AvgPool2DBackward writes to dx (N×C×H×W, overwritten) the gradient of
// average pooling given dy.
func AvgPool2DBackward(p PoolParams, dy, dx []float32) {
	oh, ow := p.check("AvgPool2DBackward", len(dx), len(dy))
	hw, ohw := p.H*p.W, oh*ow
	clear(dx[:p.N*p.C*hw])
	for nc := 0; nc < p.N*p.C; nc++ {
		dxc, dyc := dx[nc*hw:(nc+1)*hw], dy[nc*ohw:(nc+1)*ohw]
		p.window(oh, ow, func(o, y0, y1, x0, x1 int) {
			g := dyc[o] / p.divisor(y0, y1, x0, x1)
			for iy := y0; iy < y1; iy++ {
				row := dxc[iy*p.W+x0 : iy*p.W+x1]
				for i := range row {
					row[i] += g
				}
			}
		})
	}
}
