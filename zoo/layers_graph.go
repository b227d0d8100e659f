package zoo

import (
	"fmt"
	"github.com/fmixzoo/zoo/kernels"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// layer adds one layer's forward op (and, through its diff, its backward
// ops) to the graph. first reports that the layer reads the network input,
// which takes no gradient.
func (tg *tgraph) layer(l Layer, in []*G.Node, s []tensor.Shape, p map[string]*G.Node, first bool) (*G.Node, tensor.Shape, error) {
	switch l.Kind {
	case Conv:
		return tg.conv(l, in[0], s[0], p, first)
	case BatchNorm:
		return tg.batchNorm(l, in[0], s[0], p, false)
	case ReLU:
		return tg.relu(in[0], s[0])
	case Add:
		if !s[0].Eq(s[1]) {
			return nil, nil, fmt.Errorf("add: shapes %v and %v differ", s[0], s[1])
		}
		o := tg.op("Add", []int{len(s[0]), len(s[1])}, s[0], func(in [][]float32, out []float32) error {
			a, b := in[0][:len(out)], in[1][:len(out)]
			kernels.ParallelRange(len(out), len(out), func(lo, hi int) {
				for i := lo; i < hi; i++ {
					out[i] = a[i] + b[i]
				}
			})
			return nil
		})
		o.Diff = func(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) { return G.Nodes{grad, grad}, nil }
		y, err := apply(o, in[0], in[1])
		return y, s[0], err
	case MaxPool, AvgPool, GlobalAvgPool:
		return tg.pool(l, in[0], s[0])
	case Flatten:
		out := tensor.Shape{s[0][0], s[0].TotalSize() / s[0][0]}
		o := tg.op("Flatten", []int{len(s[0])}, out, func(in [][]float32, o []float32) error { copy(o, in[0]); return nil })
		o.Diff = func(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
			b := tg.op("Unflatten", []int{2}, s[0], func(in [][]float32, o []float32) error { copy(o, in[0]); return nil })
			d, err := apply(b, grad)
			return G.Nodes{d}, err
		}
		y, err := apply(o, in[0])
		return y, out, err
	case Linear:
		return tg.linear(l, in[0], s[0], p)
	case PadChannels:
		return tg.padChannels(l, in[0], s[0])
	case ShakeDrop:
		return tg.shakeDrop(l, in[0], s[0])
	case Concat:
		return tg.concat(in, s)
	}
	return nil, nil, fmt.Errorf("no training op for %v", l.Kind)
}

func (tg *tgraph) conv(l Layer, x *G.Node, s tensor.Shape, p map[string]*G.Node, first bool) (*G.Node, tensor.Shape, error) {
	if len(s) != 4 || s[1] != l.InC {
		return nil, nil, fmt.Errorf("conv %s: input shape %v, want N×%d×H×W", l.Name, s, l.InC)
	}
	kp := kernels.ConvParams{N: s[0], C: s[1], H: s[2], W: s[3], K: l.Out, R: l.K, S: l.K,
		StrideH: l.Stride, StrideW: l.Stride, PadT: l.Pad, PadL: l.Pad, PadB: l.Pad, PadR: l.Pad}
	oh, ow := kp.OutHW()
	if oh < 1 || ow < 1 {
		return nil, nil, fmt.Errorf("conv %s: input %v too small", l.Name, s)
	}
	out := tensor.Shape{s[0], l.Out, oh, ow}
	w := p[l.Name+".weight"]
	ins := []*G.Node{x, w}
	dims := []int{4, 4}
	if l.Bias {
		ins, dims = append(ins, p[l.Name+".bias"]), append(dims, 1)
	}
	o := tg.op("Conv", dims, out, func(in [][]float32, o []float32) error {
		var bias []float32
		if len(in) == 3 {
			bias = in[2]
		}
		if !tg.train && tg.net.frozen {
			tg.net.packedConv(l.Name, kp, in[1]).Conv2D(kp.N, in[0], o, kernels.ConvOpts{Bias: bias})
			return nil
		}
		kernels.Conv2D(kp, in[0], in[1], bias, o, kernels.ActNone)
		return nil
	})
	// Eval-mode graphs (Net.Gradients) differentiate activations only.
	o.NoGrad = []bool{first, !tg.train, !tg.train}
	o.Diff = func(inputs G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		grads := make(G.Nodes, len(inputs))
		var err error
		if !first {
			dx := tg.op("ConvGradData", []int{4, 4}, s, func(in [][]float32, o []float32) error {
				if !tg.train && tg.net.frozen {
					if pc := tg.net.packedConvData(l.Name, kp, in[1]); pc != nil {
						pc.Conv2D(kp.N, in[0], o, kernels.ConvOpts{})
						return nil
					}
				}
				kernels.Conv2DBackwardData(kp, in[0], in[1], o)
				return nil
			})
			if grads[0], err = apply(dx, grad, inputs[1]); err != nil {
				return nil, err
			}
		}
		if !tg.train {
			return grads, nil
		}
		dw := tg.op("ConvGradFilter", []int{4, 4}, tensor.Shape{l.Out, l.InC, l.K, l.K}, func(in [][]float32, o []float32) error {
			kernels.Conv2DBackwardFilter(kp, in[0], in[1], o)
			return nil
		})
		if grads[1], err = apply(dw, inputs[0], grad); err != nil {
			return nil, err
		}
		if l.Bias {
			ohw := oh * ow
			db := tg.op("ConvGradBias", []int{4}, tensor.Shape{l.Out}, func(in [][]float32, o []float32) error {
				clear(o)
				for n := 0; n < kp.N; n++ {
					for k := range o {
						for _, v := range in[0][(n*l.Out+k)*ohw : (n*l.Out+k+1)*ohw] {
							o[k] += v
						}
					}
				}
				return nil
			})
			if grads[2], err = apply(db, grad); err != nil {
				return nil, err
			}
		}
		return grads, nil
	}
	y, err := apply(o, ins...)
	return y, out, err
}

func (tg *tgraph) relu(x *G.Node, s tensor.Shape) (*G.Node, tensor.Shape, error) {
	o := tg.op("ReLU", []int{len(s)}, s, func(in [][]float32, o []float32) error {
		x := in[0]
		kernels.ParallelRange(len(x), len(x), func(lo, hi int) { kernels.ReLURow(o[lo:hi], x[lo:hi]) })
		return nil
	})
	o.Diff = func(_ G.Nodes, output, grad *G.Node) (G.Nodes, error) {
		b := tg.op("ReLUGrad", []int{len(s), len(s)}, s, func(in [][]float32, o []float32) error {
			y, dy := in[0], in[1][:len(in[0])]
			kernels.ParallelRange(len(y), len(y), func(lo, hi int) { kernels.ReLUGradRow(o[lo:hi], y[lo:hi], dy[lo:hi]) })
			return nil
		})
		d, err := apply(b, output, grad)
		return G.Nodes{d}, err
	}
	y, err := apply(o, x)
	return y, s, err
}

func (tg *tgraph) pool(l Layer, x *G.Node, s tensor.Shape) (*G.Node, tensor.Shape, error) {
	if len(s) != 4 {
		return nil, nil, fmt.Errorf("%v: input shape %v is not N×C×H×W", l.Kind, s)
	}
	n, c, h, w := s[0], s[1], s[2], s[3]
	p := kernels.PoolParams{N: n, C: c, H: h, W: w, R: l.K, S: l.K, StrideH: l.Stride, StrideW: l.Stride,
		PadT: l.Pad, PadL: l.Pad, PadB: l.Pad, PadR: l.Pad, Ceil: l.Ceil}
	oh, ow := 1, 1
	if l.Kind != GlobalAvgPool {
		oh, ow = p.OutHW()
	}
	if oh < 1 || ow < 1 {
		return nil, nil, fmt.Errorf("%v: input %v smaller than the window", l.Kind, s)
	}
	out := tensor.Shape{n, c, oh, ow}
	var fwd func(x, y []float32)
	var bwd func(dy, dx []float32)
	switch l.Kind {
	case MaxPool:
		arg := make([]int32, out.TotalSize()) // the taps the gradient goes to
		fwd = func(x, y []float32) { kernels.MaxPool2D(p, x, y, arg) }
		bwd = func(dy, dx []float32) { kernels.MaxPool2DBackward(p, dy, arg, dx) }
	case AvgPool:
		fwd = func(x, y []float32) { kernels.AvgPool2D(p, x, y) }
		bwd = func(dy, dx []float32) { kernels.AvgPool2DBackward(p, dy, dx) }
	default:
		fwd = func(x, y []float32) { kernels.GlobalAvgPool(n*c, h*w, x, y) }
		bwd = func(dy, dx []float32) { kernels.GlobalAvgPoolBackward(n*c, h*w, dy, dx) }
	}
	o := tg.op(l.Kind.String(), []int{4}, out, func(in [][]float32, o []float32) error { fwd(in[0], o); return nil })
	o.Diff = func(_ G.Nodes, output, grad *G.Node) (G.Nodes, error) {
		b := tg.op(l.Kind.String()+"Grad", []int{4, 4}, s, func(in [][]float32, o []float32) error { bwd(in[1], o); return nil })
		d, err := apply(b, output, grad)
		return G.Nodes{d}, err
	}
	y, err := apply(o, x)
	return y, out, err
}

func (tg *tgraph) linear(l Layer, x *G.Node, s tensor.Shape, p map[string]*G.Node) (*G.Node, tensor.Shape, error) {
	if len(s) != 2 || s[1] != l.InC {
		return nil, nil, fmt.Errorf("linear %s: input shape %v, want N×%d", l.Name, s, l.InC)
	}
	n, in, outF := s[0], l.InC, l.Out
	out := tensor.Shape{n, outF}
	o := tg.op("Linear", []int{2, 2, 1}, out, func(v [][]float32, o []float32) error {
		kernels.Sgemm(false, true, n, outF, in, 1, v[0], in, v[1], in, 0, o, outF)
		for i := 0; i < n; i++ {
			for j, b := range v[2] {
				o[i*outF+j] += b
			}
		}
		return nil
	})
	o.NoGrad = []bool{false, !tg.train, !tg.train}
	o.Diff = func(inputs G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		dx := tg.op("LinearGradInput", []int{2, 2}, s, func(v [][]float32, o []float32) error {
			kernels.Sgemm(false, false, n, in, outF, 1, v[0], outF, v[1], in, 0, o, in)
			return nil
		})
		if !tg.train {
			gx, err := apply(dx, grad, inputs[1])
			return G.Nodes{gx, nil, nil}, err
		}
		dw := tg.op("LinearGradWeight", []int{2, 2}, tensor.Shape{outF, in}, func(v [][]float32, o []float32) error {
			kernels.Sgemm(true, false, outF, in, n, 1, v[0], outF, v[1], in, 0, o, in)
			return nil
		})
		db := tg.op("LinearGradBias", []int{2}, tensor.Shape{outF}, func(v [][]float32, o []float32) error {
			clear(o)
			for i := 0; i < n; i++ {
				for j := range o {
					o[j] += v[0][i*outF+j]
				}
			}
			return nil
		})
		gx, err := apply(dx, grad, inputs[1])
		if err != nil {
			return nil, err
		}
		gw, err := apply(dw, grad, inputs[0])
		if err != nil {
			return nil, err
		}
		gb, err := apply(db, grad)
		return G.Nodes{gx, gw, gb}, err
	}
	y, err := apply(o, x, p[l.Name+".weight"], p[l.Name+".bias"])
	return y, out, err
}

func (tg *tgraph) padChannels(l Layer, x *G.Node, s tensor.Shape) (*G.Node, tensor.Shape, error) {
	if len(s) != 4 || s[1] > l.Out {
		return nil, nil, fmt.Errorf("pad channels: input %v wider than %d", s, l.Out)
	}
	out := tensor.Shape{s[0], l.Out, s[2], s[3]}
	plane := s[1] * s[2] * s[3]
	full := l.Out * s[2] * s[3]
	o := tg.op("PadChannels", []int{4}, out, func(in [][]float32, o []float32) error {
		clear(o)
		for n := 0; n < s[0]; n++ {
			copy(o[n*full:n*full+plane], in[0][n*plane:(n+1)*plane])
		}
		return nil
	})
	o.Diff = func(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		b := tg.op("PadChannelsGrad", []int{4}, s, func(in [][]float32, o []float32) error {
			for n := 0; n < s[0]; n++ {
				copy(o[n*plane:(n+1)*plane], in[0][n*full:n*full+plane])
			}
			return nil
		})
		d, err := apply(b, grad)
		return G.Nodes{d}, err
	}
	y, err := apply(o, x)
	return y, out, err
}

func (tg *tgraph) concat(in []*G.Node, s []tensor.Shape) (*G.Node, tensor.Shape, error) {
	a, b := s[0], s[1]
	if len(a) != 4 || len(b) != 4 || a[0] != b[0] || a[2] != b[2] || a[3] != b[3] {
		return nil, nil, fmt.Errorf("concat: shapes %v and %v", a, b)
	}
	out := tensor.Shape{a[0], a[1] + b[1], a[2], a[3]}
	pa, pb := a[1]*a[2]*a[3], b[1]*b[2]*b[3]
	o := tg.op("Concat", []int{4, 4}, out, func(in [][]float32, o []float32) error {
		for n := 0; n < a[0]; n++ {
			copy(o[n*(pa+pb):], in[0][n*pa:(n+1)*pa])
			copy(o[n*(pa+pb)+pa:], in[1][n*pb:(n+1)*pb])
		}
		return nil
	})
	o.Diff = func(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		da := tg.op("ConcatGradA", []int{4}, a, func(in [][]float32, o []float32) error {
			for n := 0; n < a[0]; n++ {
				copy(o[n*pa:(n+1)*pa], in[0][n*(pa+pb):])
			}
			return nil
		})
		db := tg.op("ConcatGradB", []int{4}, b, func(in [][]float32, o []float32) error {
			for n := 0; n < a[0]; n++ {
				copy(o[n*pb:(n+1)*pb], in[0][n*(pa+pb)+pa:])
			}
			return nil
		})
		ga, err := apply(da, grad)
		if err != nil {
			return nil, err
		}
		gb, err := apply(db, grad)
		return G.Nodes{ga, gb}, err
	}
	y, err := apply(o, in[0], in[1])
	return y, out, err
}
