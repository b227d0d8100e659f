package kernels

// Depthwise convolutions (one input channel per group) are a handful of
// multiply-adds per output: a GEMM per group would run one row of a
// 12-row microkernel and pack a patch matrix for it. They are computed
// directly instead, a shifted row of the input at a time.

// depthwise reports whether c takes the direct depthwise path.
func (c conv) depthwise() bool { return c.cg == 1 && c.Group > 1 }

// conv2DDepthwise is Conv2DOpts for depthwise c: channel g of each image
// feeds output channels g·kg … g·kg+kg−1.
func conv2DDepthwise(c conv, x, w, y []float32, o ConvOpts) {
	rs := c.R * c.S
	ParallelRange(c.N*c.K, c.N*c.K*c.ohw*rs, func(lo, hi int) {
		for nk := lo; nk < hi; nk++ {
			n, k := nk/c.K, nk%c.K
			g := k / c.kg
			xin := x[(n*c.C+g)*c.hw:][:c.hw]
			out := y[nk*c.ohw:][:c.ohw]
			wk := w[k*rs:][:rs]
			clear(out)
			for r := 0; r < c.R; r++ {
				for s := 0; s < c.S; s++ {
					wv := wk[r*c.S+s]
					dy, dx := r*c.DilH-c.PadT, s*c.DilW-c.PadL
					// Output columns whose input column lies in the row.
					ox0 := max(0, (-dx+c.StrideW-1)/c.StrideW)
					ox1 := min(c.ow, (c.W-dx+c.StrideW-1)/c.StrideW)
					if ox1 <= ox0 {
						continue
					}
					for oy := 0; oy < c.oh; oy++ {
						iy := oy*c.StrideH + dy
						if iy < 0 || iy >= c.H {
							continue
						}
						row := out[oy*c.ow : (oy+1)*c.ow]
						xr := xin[iy*c.W : (iy+1)*c.W]
						if c.StrideW == 1 {
							src := xr[ox0+dx : ox1+dx]
							dst := row[ox0:ox1]
							for i, v := range src {
								dst[i] += wv * v
							}
							continue
						}
						for ox := ox0; ox < ox1; ox++ {
							row[ox] += wv * xr[ox*c.StrideW+dx]
						}
					}
				}
			}
			epilogueRows(c, n, k, k+1, y, o)
		}
	})
}
