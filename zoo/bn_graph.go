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
	rm := tg.net.byName[l.Name+".running_mean"].Value
	rv := tg.net.byName[l.Name+".running_var"].Value
	nbt := tg.net.byName[l.Name+".num_batches_tracked"].Value
	act := kernels.ActNone
	if relu {
		act = kernels.ActReLU
	}
	if !tg.train {
		// The engine's arithmetic: running statistics folded into a scale
		// and shift, as the exported BatchNormalization is.
		scale, shift := make([]float32, c), make([]float32, c)
		o := tg.op("BatchNormEval", []int{4, 1, 1}, s, func(in [][]float32, o []float32) error {
			kernels.BatchNormFold(in[1], in[2], rm, rv, bnEps, scale, shift)
			kernels.ScaleShift(n, c, hw, in[0], scale, shift, o, act)
			return nil
		})
		o.NoGrad = []bool{false, true, true}
		o.Diff = func(_ G.Nodes, output, grad *G.Node) (G.Nodes, error) {
			// dx = dy·scale, masked by the fused ReLU's output; scale is
			// the forward pass's (output orders this after it).
			b := tg.op("BatchNormEvalGrad", []int{4, 4}, s, func(in [][]float32, o []float32) error {
				y, dy := in[0], in[1]
				kernels.ParallelRange(n*c, len(dy), func(lo, hi int) {
					for bc := lo; bc < hi; bc++ {
						ch, off := bc%c, bc*hw
						if relu {
							// o = scale·dy where y > 0 (z is unused: b = 0).
							kernels.Affine2MaskRow(o[off:off+hw], dy[off:off+hw], dy[off:off+hw], y[off:off+hw], scale[ch], 0, 0)
							continue
						}
						kernels.AffineRow(o[off:off+hw], dy[off:off+hw], scale[ch], 0, kernels.ActNone)
					}
				})
				return nil
			})
			d, err := apply(b, output, grad)
			return G.Nodes{d, nil, nil}, err
		}
		y, err := apply(o, x, p[l.Name+".weight"], p[l.Name+".bias"])
		return y, s, err
	}
	if n*hw < 2 {
		return nil, nil, fmt.Errorf("batchnorm %s: training needs more than one value per channel, got input %v", l.Name, s)
	}
	bn := &kernels.BatchNormTrain{N: n, C: c, HW: hw, Eps: bnEps, Momentum: bnMomentum, Act: act,
		RunMean: rm, RunVar: rv, XHat: make([]float32, s.TotalSize()), InvStd: make([]float32, c)}
	dgamma := make([]float32, c)
	dbeta := make([]float32, c)
	o := tg.op("BatchNormTrain", []int{4, 1, 1}, s, func(in [][]float32, o []float32) error {
		bn.Forward(in[0], in[1], in[2], o)
		nbt[0]++
		return nil
	})
	o.Diff = func(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
		dx := tg.op("BatchNormGrad", []int{4, 4, 1}, s, func(in [][]float32, o []float32) error {
			bn.Backward(in[0], in[1], in[2], o, dgamma, dbeta)
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
