// Package nn holds what the training graph (package zoo) and the inference
// engine share beyond package kernels: GEMM shorthands over kernels.Sgemm,
// a convolution's output geometry, and pooling with its backward pass, over
// row-major float32 slices.
package nn

import (
	"github.com/fmixzoo/zoo/kernels"
	"math"
)

// GemmNN computes C = A·B (+C when acc), A m×k, B k×n, C m×n, all dense.
func GemmNN(m, n, k int, a, b, c []float32, acc bool) {
	kernels.Sgemm(false, false, m, n, k, 1, a, k, b, n, beta(acc), c, n)
}

// GemmNT computes C = A·Bᵀ (+C when acc), A m×k, B n×k.
func GemmNT(m, n, k int, a, b, c []float32, acc bool) {
	kernels.Sgemm(false, true, m, n, k, 1, a, k, b, k, beta(acc), c, n)
}

// GemmTN computes C = Aᵀ·B (+C when acc), A k×m, B k×n.
func GemmTN(m, n, k int, a, b, c []float32, acc bool) {
	kernels.Sgemm(true, false, m, n, k, 1, a, m, b, n, beta(acc), c, n)
}

func beta(acc bool) float32 {
	if acc {
		return 1
	}
	return 0
}

// ConvGeom is one convolution's geometry (square kernel, symmetric padding).
type ConvGeom struct {
	N, C, H, W, K, R, Stride, Pad int
	OH, OW                        int
}

// NewConvGeom computes the output size of a convolution.
func NewConvGeom(n, c, h, w, k, r, stride, pad int) ConvGeom {
	return ConvGeom{N: n, C: c, H: h, W: w, K: k, R: r, Stride: stride, Pad: pad,
		OH: (h+2*pad-r)/stride + 1, OW: (w+2*pad-r)/stride + 1}
}

// PoolGeom is a K×K pooling window geometry. Ceil selects ceil_mode output
// sizes; windows are clipped to the input (padding never counted).
type PoolGeom struct {
	N, C, H, W, K, Stride, Pad int
	OH, OW                     int
}

// NewPoolGeom computes a pooling output size as PyTorch does.
func NewPoolGeom(n, c, h, w, k, stride, pad int, ceil bool) PoolGeom {
	out := func(in int) int {
		num := in + 2*pad - k
		o := num/stride + 1
		if ceil && num%stride != 0 {
			o++
			if (o-1)*stride >= in+pad { // PyTorch: the last window must start inside the input or left padding
				o--
			}
		}
		return o
	}
	return PoolGeom{N: n, C: c, H: h, W: w, K: k, Stride: stride, Pad: pad, OH: out(h), OW: out(w)}
}

// Window is the input range [lo, hi) output position o reads along a dimension of size in.
func (g PoolGeom) Window(o, in int) (lo, hi int) {
	lo = o*g.Stride - g.Pad
	hi = min(lo+g.K, in)
	return max(lo, 0), hi
}

// MaxForward max-pools x into y, recording each maximum's index in arg.
func (g PoolGeom) MaxForward(x, y []float32, arg []int32) {
	kernels.ParallelRange(g.N*g.C, g.N*g.C*g.OH*g.OW*g.K*g.K, func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			xp := x[nc*g.H*g.W:]
			for oy := 0; oy < g.OH; oy++ {
				y0, y1 := g.Window(oy, g.H)
				for ox := 0; ox < g.OW; ox++ {
					x0, x1 := g.Window(ox, g.W)
					best, at := float32(math.Inf(-1)), int32(-1)
					for iy := y0; iy < y1; iy++ {
						for ix := x0; ix < x1; ix++ {
							if v := xp[iy*g.W+ix]; v > best || at < 0 {
								best, at = v, int32(iy*g.W+ix)
							}
						}
					}
					o := nc*g.OH*g.OW + oy*g.OW + ox
					y[o], arg[o] = best, at
				}
			}
		}
	})
}

// MaxBackward routes dy to the recorded maxima.
func (g PoolGeom) MaxBackward(dy []float32, arg []int32, dx []float32) {
	clear(dx)
	for nc := 0; nc < g.N*g.C; nc++ {
		for i := 0; i < g.OH*g.OW; i++ {
			o := nc*g.OH*g.OW + i
			if arg[o] >= 0 {
				dx[nc*g.H*g.W+int(arg[o])] += dy[o]
			}
		}
	}
}

// AvgForward average-pools x into y over clipped windows.
func (g PoolGeom) AvgForward(x, y []float32) {
	kernels.ParallelRange(g.N*g.C, g.N*g.C*g.OH*g.OW*g.K*g.K, func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			xp := x[nc*g.H*g.W:]
			for oy := 0; oy < g.OH; oy++ {
				y0, y1 := g.Window(oy, g.H)
				for ox := 0; ox < g.OW; ox++ {
					x0, x1 := g.Window(ox, g.W)
					var s float32
					for iy := y0; iy < y1; iy++ {
						for ix := x0; ix < x1; ix++ {
							s += xp[iy*g.W+ix]
						}
					}
					y[nc*g.OH*g.OW+oy*g.OW+ox] = s / float32((y1-y0)*(x1-x0))
				}
			}
		}
	})
}

// AvgBackward spreads dy evenly over each window.
func (g PoolGeom) AvgBackward(dy, dx []float32) {
	clear(dx)
	for nc := 0; nc < g.N*g.C; nc++ {
		dp := dx[nc*g.H*g.W:]
		for oy := 0; oy < g.OH; oy++ {
			y0, y1 := g.Window(oy, g.H)
			for ox := 0; ox < g.OW; ox++ {
				x0, x1 := g.Window(ox, g.W)
				d := dy[nc*g.OH*g.OW+oy*g.OW+ox] / float32((y1-y0)*(x1-x0))
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						dp[iy*g.W+ix] += d
					}
				}
			}
		}
	}
}
