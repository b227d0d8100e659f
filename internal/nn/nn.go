// Package nn holds the CPU kernels the training graph (package zoo) and
// the inference engine share: GEMM variants (over package kernels' packed,
// register-blocked SGEMM), convolution by im2col, pooling and softmax
// cross-entropy, over row-major float32 slices.
package nn

import (
	"github.com/fmixzoo/zoo/kernels"
	"math"
	"runtime"
	"sync"
)

// Parallel runs fn over [0, n) in contiguous chunks on up to GOMAXPROCS
// goroutines when work (a rough flop count) makes that worthwhile.
func Parallel(n int, work int, fn func(lo, hi int)) {
	procs := runtime.GOMAXPROCS(0)
	if procs > n {
		procs = n
	}
	if procs <= 1 || work < 1<<16 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + procs - 1) / procs
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, hi)
	}
	wg.Wait()
}

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

// Im2col writes one image's patches as a (C·R·R) × (OH·OW) matrix.
func (g ConvGeom) Im2col(x, col []float32) {
	ohw := g.OH * g.OW
	for c := 0; c < g.C; c++ {
		xc := x[c*g.H*g.W:]
		for ky := 0; ky < g.R; ky++ {
			for kx := 0; kx < g.R; kx++ {
				row := col[((c*g.R+ky)*g.R+kx)*ohw:][:ohw]
				i := 0
				for oy := 0; oy < g.OH; oy++ {
					iy := oy*g.Stride - g.Pad + ky
					if iy < 0 || iy >= g.H {
						for ox := 0; ox < g.OW; ox++ {
							row[i] = 0
							i++
						}
						continue
					}
					xr := xc[iy*g.W:]
					for ox := 0; ox < g.OW; ox++ {
						ix := ox*g.Stride - g.Pad + kx
						if ix < 0 || ix >= g.W {
							row[i] = 0
						} else {
							row[i] = xr[ix]
						}
						i++
					}
				}
			}
		}
	}
}

// Col2im adds a patch matrix back into one image's gradient.
func (g ConvGeom) Col2im(col, dx []float32) {
	ohw := g.OH * g.OW
	for c := 0; c < g.C; c++ {
		dc := dx[c*g.H*g.W:]
		for ky := 0; ky < g.R; ky++ {
			for kx := 0; kx < g.R; kx++ {
				row := col[((c*g.R+ky)*g.R+kx)*ohw:][:ohw]
				i := 0
				for oy := 0; oy < g.OH; oy++ {
					iy := oy*g.Stride - g.Pad + ky
					if iy < 0 || iy >= g.H {
						i += g.OW
						continue
					}
					dr := dc[iy*g.W:]
					for ox := 0; ox < g.OW; ox++ {
						ix := ox*g.Stride - g.Pad + kx
						if ix >= 0 && ix < g.W {
							dr[ix] += row[i]
						}
						i++
					}
				}
			}
		}
	}
}

// ColSize is the length of Im2col's patch matrix for one image.
func (g ConvGeom) ColSize() int { return g.C * g.R * g.R * g.OH * g.OW }

// Forward computes y[N,K,OH,OW] = conv(x, w) + bias.
func (g ConvGeom) Forward(x, w, bias, y, col []float32) {
	crr, ohw := g.C*g.R*g.R, g.OH*g.OW
	for n := 0; n < g.N; n++ {
		xn := x[n*g.C*g.H*g.W:]
		yn := y[n*g.K*ohw : (n+1)*g.K*ohw]
		if g.R == 1 && g.Stride == 1 && g.Pad == 0 {
			GemmNN(g.K, ohw, crr, w, xn[:crr*ohw], yn, false)
		} else {
			g.Im2col(xn, col)
			GemmNN(g.K, ohw, crr, w, col, yn, false)
		}
		if bias != nil {
			for k := 0; k < g.K; k++ {
				b := bias[k]
				for i := range yn[k*ohw : (k+1)*ohw] {
					yn[k*ohw+i] += b
				}
			}
		}
	}
}

// BackwardData computes dx = convᵀ(dy, w).
func (g ConvGeom) BackwardData(dy, w, dx, col []float32) {
	crr, ohw := g.C*g.R*g.R, g.OH*g.OW
	clear(dx)
	for n := 0; n < g.N; n++ {
		dyn := dy[n*g.K*ohw : (n+1)*g.K*ohw]
		dxn := dx[n*g.C*g.H*g.W : (n+1)*g.C*g.H*g.W]
		if g.R == 1 && g.Stride == 1 && g.Pad == 0 {
			GemmTN(crr, ohw, g.K, w, dyn, dxn, false)
			continue
		}
		GemmTN(crr, ohw, g.K, w, dyn, col, false)
		g.Col2im(col, dxn)
	}
}

// BackwardFilter computes dw = Σ_n dy_n · col(x_n)ᵀ; dbias = Σ dy when dbias != nil.
func (g ConvGeom) BackwardFilter(x, dy, dw, col []float32) {
	crr, ohw := g.C*g.R*g.R, g.OH*g.OW
	clear(dw)
	for n := 0; n < g.N; n++ {
		xn := x[n*g.C*g.H*g.W:]
		dyn := dy[n*g.K*ohw : (n+1)*g.K*ohw]
		if g.R == 1 && g.Stride == 1 && g.Pad == 0 {
			GemmNT(g.K, crr, ohw, dyn, xn[:crr*ohw], dw, true)
			continue
		}
		g.Im2col(xn, col)
		GemmNT(g.K, crr, ohw, dyn, col, dw, true)
	}
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
	Parallel(g.N*g.C, g.N*g.C*g.OH*g.OW*g.K*g.K, func(lo, hi int) {
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
	Parallel(g.N*g.C, g.N*g.C*g.OH*g.OW*g.K*g.K, func(lo, hi int) {
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

// SoftmaxCrossEntropy returns the mean over the batch of
// -Σ_c t[c]·log softmax(z)[c] and writes its gradient w.r.t. z into dz.
func SoftmaxCrossEntropy(z, t []float32, batch, classes int, dz []float32) float32 {
	var loss float64
	for b := 0; b < batch; b++ {
		zr, tr, dr := z[b*classes:(b+1)*classes], t[b*classes:(b+1)*classes], dz[b*classes:(b+1)*classes]
		m := zr[0]
		for _, v := range zr {
			m = max(m, v)
		}
		var s float64
		for _, v := range zr {
			s += math.Exp(float64(v - m))
		}
		logS := math.Log(s)
		var tsum float64
		for c, v := range zr {
			logp := float64(v-m) - logS
			loss -= float64(tr[c]) * logp
			tsum += float64(tr[c])
			dr[c] = float32(math.Exp(logp))
		}
		for c := range dr {
			dr[c] = (dr[c]*float32(tsum) - tr[c]) / float32(batch)
		}
	}
	return float32(loss / float64(batch))
}

// GemmNNSerial is GemmNN for callers that already split work across cores
// (kernels.Sgemm decides itself how many goroutines a product is worth).
func GemmNNSerial(m, n, k int, a, b, c []float32, acc bool) {
	GemmNN(m, n, k, a, b, c, acc)
}
