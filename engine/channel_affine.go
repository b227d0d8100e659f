package engine

import "github.com/fmixzoo/zoo/kernels"

// channelRows locates each channel's rows in a value that may be a
// channel Concat read through its parts (see value.parts): the step that
// reads it takes the parts as its first inputs.
type channelRows struct {
	parts        []*value // the Concat's parts, or the value alone
	part, within []int    // per channel: its part, and its channel there
	inner        int      // floats per row
}

func channelRowsOf(x *value) *channelRows {
	r := &channelRows{parts: x.parts, inner: shapeSize(x.shape[2:])}
	if r.parts == nil {
		r.parts = []*value{x}
	}
	for p, v := range r.parts {
		for k := range v.shape[1] {
			r.part, r.within = append(r.part, p), append(r.within, k)
		}
	}
	return r
}

// row is channel k of image img, d the reading step's data.
func (r *channelRows) row(d [][]float32, img, k int) []float32 {
	p := r.part[k]
	at := (img*r.parts[p].shape[1] + r.within[k]) * r.inner
	return d[p][at : at+r.inner]
}

// batchNormParts is batch norm of a Concat along the channel axis read
// from the Concat's parts, the Concat never written: each output row (one
// channel of one image) is the affine map of the row it came from, as
// kernels.ScaleShift computes it.
func batchNormParts(c *opCtx, x *value, params []*value, fold func(g, b, m, v []float32) ([]float32, []float32),
	scale, shift []float32, act kernels.Activation) *value {
	n, ch := x.shape[0], x.shape[1]
	rows := channelRowsOf(x)
	np, inner := len(rows.parts), rows.inner
	in := append(append([]*value(nil), rows.parts...), params...)
	return c.emitFull("BatchNormalization", in, x.shape, func(d [][]float32, y []float32) {
		sc, sh := scale, shift
		if sc == nil {
			sc, sh = fold(d[np], d[np+1], d[np+2], d[np+3])
		}
		kernels.ParallelRange(n*ch, n*ch*inner, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				kernels.AffineRow(y[i*inner:(i+1)*inner], rows.row(d, i/ch, i%ch), sc[i%ch], sh[i%ch], act)
			}
		})
	})
}

// channelAffine is an inference BatchNormalization with constant
// statistics (and its fused Relu, if any) of the value rows locates.
type channelAffine struct {
	rows         *channelRows
	scale, shift []float32
	act          kernels.Activation
}

// tiles reports whether a pooling window tiles its input: as wide and
// high as its strides, undilated, unpadded.
func tiles(g window2d) bool {
	return g.kh == g.sh && g.kw == g.sw && g.dh == 1 && g.dw == 1 && g.pt+g.pl+g.pb+g.pr == 0
}

// affinePool is the average pool g, which tiles its input, of x, the
// output of a BatchNormalization (x.affine) that no other operation
// reads: one pass maps each input plane into a scratch row and averages
// it there, summing each window as kernels.AvgPool2D does, so the map is
// never written out and its step is pruned. DenseNet's transitions wrote
// out and read back their whole growing maps for this.
func (c *opCtx) affinePool(x *value, g window2d) *value {
	af := x.affine
	n, ch := x.shape[0], x.shape[1]
	hw, ohw := g.h*g.w, g.oh*g.ow
	div := float32(g.kh * g.kw)
	return c.emitFull("BatchNormalization+AveragePool", af.rows.parts, g.outShape(n, ch, len(x.shape)-2), func(d [][]float32, y []float32) {
		kernels.ParallelRange(n*ch, n*ch*hw, func(lo, hi int) {
			plane := make([]float32, hw)
			for i := lo; i < hi; i++ {
				k := i % ch
				kernels.AffineRow(plane, af.rows.row(d, i/ch, k), af.scale[k], af.shift[k], af.act)
				out := y[i*ohw : (i+1)*ohw]
				for oy := range g.oh {
					for ox := range g.ow {
						var s float32
						for ty := range g.kh {
							row := plane[(oy*g.kh+ty)*g.w+ox*g.kw:][:g.kw]
							for _, v := range row {
								s += v
							}
						}
						out[oy*g.ow+ox] = s / div
					}
				}
			}
		})
	})
}
