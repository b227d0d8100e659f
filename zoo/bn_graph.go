package zoo

import (
	"fmt"

	"github.com/fmixzoo/zoo/kernels"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// batchNorm adds a BatchNorm2d: batch statistics and running-average
// updates in training (PyTorch's momentum 0.1, unbiased running variance),
// running statistics in eval.
//
// With relu set the layer is BatchNorm followed by ReLU in one op: the
// ReLU's output is the op's output, and the backward pass masks its
// incoming gradient by it, saving a tensor and two passes each way.
func (tg *tgraph) batchNorm(l Layer, x *G.Node, s tensor.Shape, p map[string]*G.Node, relu bool) (*G.Node, tensor.Shape, error) {
	if len(s) != 4 || s[1] != l.InC {
		return nil, nil, fmt.Errorf("batchnorm %s: input shape %v, want N×%d×H×W", l.Name, s, l.InC)
	}
	n, c, hw := s[0], s[1], s[2]*s[3]
	m := n * hw
	rm := tg.net.byName[l.Name+".running_mean"].Value
	rv := tg.net.byName[l.Name+".running_var"].Value
	nbt := tg.net.byName[l.Name+".num_batches_tracked"].Value
	act := kernels.ActNone
	if relu {
		act = kernels.ActReLU
	}
	if !tg.train {
		o := tg.op("BatchNormEval", []int{4, 1, 1}, s, func(in [][]float32, o []float32) error {
			for ch := 0; ch < c; ch++ {
				scale := in[1][ch] / sqrt32(rv[ch]+bnEps)
				shift := in[2][ch] - rm[ch]*scale
				for b := 0; b < n; b++ {
					off := (b*c + ch) * hw
					kernels.AffineRow(o[off:off+hw], in[0][off:off+hw], scale, shift, act)
				}
			}
			return nil
		})
		o.NoGrad = []bool{false, true, true}
		o.Diff = func(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
			// dx = dy·γ/√(var+ε), masked by the fused ReLU's output.
			b := tg.op("BatchNormEvalGrad", []int{4, 4, 1}, s, func(in [][]float32, o []float32) error {
				y, dy, gamma := in[0], in[1], in[2]
				kernels.ParallelRange(n*c, len(dy), func(lo, hi int) {
					for bc := lo; bc < hi; bc++ {
						ch, off := bc%c, bc*hw
						scale := gamma[ch] / sqrt32(rv[ch]+bnEps)
						if relu {
							// o = scale·dy where y > 0 (z is unused: b = 0).
							kernels.Affine2MaskRow(o[off:off+hw], dy[off:off+hw], dy[off:off+hw], y[off:off+hw], scale, 0, 0)
							continue
						}
						kernels.AffineRow(o[off:off+hw], dy[off:off+hw], scale, 0, kernels.ActNone)
					}
				})
				return nil
			})
			d, err := apply(b, output, grad, inputs[1])
			return G.Nodes{d, nil, nil}, err
		}
		y, err := apply(o, x, p[l.Name+".weight"], p[l.Name+".bias"])
		return y, s, err
	}
	if m < 2 {
		return nil, nil, fmt.Errorf("batchnorm %s: training needs more than one value per channel, got input %v", l.Name, s)
	}
	xhat := make([]float32, s.TotalSize())
	invstd := make([]float32, c)
	dgamma := make([]float32, c)
	dbeta := make([]float32, c)
	o := tg.op("BatchNormTrain", []int{4, 1, 1}, s, func(in [][]float32, o []float32) error {
		x, gamma, beta := in[0], in[1], in[2]
		kernels.ParallelRange(c, len(x), func(lo, hi int) {
			for ch := lo; ch < hi; ch++ {
				var sum float64
				for b := 0; b < n; b++ {
					sum += float64(kernels.SumRow(x[(b*c+ch)*hw : (b*c+ch+1)*hw]))
				}
				mean := sum / float64(m)
				var sq float64
				for b := 0; b < n; b++ {
					sq += float64(kernels.SumSqDevRow(x[(b*c+ch)*hw:(b*c+ch+1)*hw], float32(mean)))
				}
				variance := sq / float64(m)
				is := float32(1 / sqrt64(variance+bnEps))
				invstd[ch] = is
				for b := 0; b < n; b++ {
					off := (b*c + ch) * hw
					kernels.AffineRow(xhat[off:off+hw], x[off:off+hw], is, -float32(mean)*is, kernels.ActNone)
					kernels.AffineRow(o[off:off+hw], xhat[off:off+hw], gamma[ch], beta[ch], act)
				}
				rm[ch] = float32((1-bnMomentum)*float64(rm[ch]) + bnMomentum*mean)
				rv[ch] = float32((1-bnMomentum)*float64(rv[ch]) + bnMomentum*variance*float64(m)/float64(m-1))
			}
		})
		nbt[0]++
		return nil
	})
	o.Diff = func(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
		dx := tg.op("BatchNormGrad", []int{4, 4, 1}, s, func(in [][]float32, o []float32) error {
			y, dy, gamma := in[0], in[1], in[2]
			kernels.ParallelRange(c, len(dy), func(lo, hi int) {
				for ch := lo; ch < hi; ch++ {
					var sdy, sdyx float64
					for b := 0; b < n; b++ {
						off := (b*c + ch) * hw
						var a, d float32
						if relu {
							a, d = kernels.MaskedDotSumRow(dy[off:off+hw], xhat[off:off+hw], y[off:off+hw])
						} else {
							a, d = kernels.DotSumRow(dy[off:off+hw], xhat[off:off+hw])
						}
						sdy += float64(a)
						sdyx += float64(d)
					}
					dgamma[ch], dbeta[ch] = float32(sdyx), float32(sdy)
					// dx = k·(m·dy − Σdy − x̂·Σ(dy·x̂)), k = γ·invstd/m
					k := gamma[ch] * invstd[ch] / float32(m)
					mdy, mdyx := float32(sdy), float32(sdyx)
					for b := 0; b < n; b++ {
						off := (b*c + ch) * hw
						if relu {
							kernels.Affine2MaskRow(o[off:off+hw], dy[off:off+hw], xhat[off:off+hw], y[off:off+hw], k*float32(m), -k*mdyx, -k*mdy)
							continue
						}
						kernels.Affine2Row(o[off:off+hw], dy[off:off+hw], xhat[off:off+hw], k*float32(m), -k*mdyx, -k*mdy)
					}
				}
			})
			return nil
		})
		gx, err := apply(dx, output, grad, inputs[1])
		if err != nil {
			return nil, err
		}
		// dgamma and dbeta are by-products of the data gradient; reading
		// gx orders them after it.
		dg := tg.op("BatchNormGradGamma", []int{4}, tensor.Shape{c}, func(_ [][]float32, o []float32) error { copy(o, dgamma); return nil })
		db := tg.op("BatchNormGradBeta", []int{4}, tensor.Shape{c}, func(_ [][]float32, o []float32) error { copy(o, dbeta); return nil })
		gg, err := apply(dg, gx)
		if err != nil {
			return nil, err
		}
		gb, err := apply(db, gx)
		return G.Nodes{gx, gg, gb}, err
	}
	y, err := apply(o, x, p[l.Name+".weight"], p[l.Name+".bias"])
	return y, s, err
}

// shakeDrop adds PyramidNet's ShakeDrop. Training: one gate per forward pass
// ~ Bernoulli(1-P); an open gate passes x through; a closed one multiplies
// example b by α_b ~ U(-1, 1) going forward and its gradient by
// β_b ~ U(0, 1) going back. Eval: x·(1-P).
func (tg *tgraph) shakeDrop(l Layer, x *G.Node, s tensor.Shape) (*G.Node, tensor.Shape, error) {
	per := s.TotalSize() / s[0]
	if !tg.train {
		scale := float32(1 - l.P)
		o := tg.op("ShakeDropEval", []int{len(s)}, s, func(in [][]float32, o []float32) error {
			for i, v := range in[0] {
				o[i] = v * scale
			}
			return nil
		})
		o.Diff = func(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
			b := tg.op("ShakeDropEvalGrad", []int{len(s)}, s, func(in [][]float32, o []float32) error {
				for i, v := range in[0][:len(o)] {
					o[i] = v * scale
				}
				return nil
			})
			d, err := apply(b, grad)
			return G.Nodes{d}, err
		}
		y, err := apply(o, x)
		return y, s, err
	}
	open := true
	beta := make([]float32, s[0])
	o := tg.op("ShakeDrop", []int{len(s)}, s, func(in [][]float32, o []float32) error {
		open = tg.rng.Float64() < 1-l.P
		if open {
			copy(o, in[0])
			return nil
		}
		for b := range beta {
			alpha := float32(2*tg.rng.Float64() - 1)
			beta[b] = float32(tg.rng.Float64())
			for i, v := range in[0][b*per : (b+1)*per] {
				o[b*per+i] = v * alpha
			}
		}
		return nil
	})
	o.Diff = func(_ G.Nodes, output, grad *G.Node) (G.Nodes, error) {
		b := tg.op("ShakeDropGrad", []int{len(s), len(s)}, s, func(in [][]float32, o []float32) error {
			if open {
				copy(o, in[1])
				return nil
			}
			for bi, bv := range beta {
				for i, v := range in[1][bi*per : (bi+1)*per] {
					o[bi*per+i] = v * bv
				}
			}
			return nil
		})
		d, err := apply(b, output, grad)
		return G.Nodes{d}, err
	}
	y, err := apply(o, x)
	return y, s, err
}
