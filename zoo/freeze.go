package zoo

import "github.com/fmixzoo/zoo/kernels"

// Freeze declares that the network's parameters will not change: eval-mode
// passes (Forward, Gradients, GradCAM) then pack each convolution's weights
// for the kernels once, on first use, instead of on every call (at batch 1
// packing, mostly the Winograd filter transforms, is most of a
// PreAct-ResNet18 forward pass). The packed copies take about three times
// the convolution weights' memory. TrainStep, LoadStateDict and Init thaw
// the network; after writing Param.Value directly, call Freeze again (it
// repacks) or Thaw. ReadONNX returns frozen networks.
func (n *Net) Freeze() {
	n.frozen = true
	n.packed = map[string]*kernels.PackedConv{}
	n.packedT = map[string]*kernels.PackedConv{}
}

// Thaw undoes Freeze: eval-mode passes read the live weights again.
func (n *Net) Thaw() {
	n.frozen = false
	n.packed, n.packedT = nil, nil
}

// packedConv returns the frozen network's packed convolution of a layer,
// packing it on first use.
func (n *Net) packedConv(name string, p kernels.ConvParams, w []float32) *kernels.PackedConv {
	pc, ok := n.packed[name]
	if !ok {
		pc = kernels.NewPackedConv(p, w)
		n.packed[name] = pc
	}
	return pc
}

// packedConvData returns, for a frozen network's stride-1 convolution, the
// convolution that computes its input gradient: dx is dy convolved with the
// flipped, transposed filters (wt[c][k][r][s] = w[k][c][R−1−r][S−1−s]) and
// padding R−1−pad, packed once like the forward weights. Other layers get
// nil and take kernels.Conv2DBackwardData.
func (n *Net) packedConvData(name string, p kernels.ConvParams, w []float32) *kernels.PackedConv {
	if pc, ok := n.packedT[name]; ok {
		return pc
	}
	var pc *kernels.PackedConv
	if p.StrideH == 1 && p.StrideW == 1 && p.R == p.S && p.PadT < p.R && p.PadL < p.S &&
		p.PadT == p.PadB && p.PadL == p.PadR && p.Group <= 1 && p.DilH <= 1 && p.DilW <= 1 {
		oh, ow := p.OutHW()
		rs := p.R * p.S
		wt := make([]float32, p.K*p.C*rs)
		for k := 0; k < p.K; k++ {
			for c := 0; c < p.C; c++ {
				src := w[(k*p.C+c)*rs : (k*p.C+c+1)*rs]
				dst := wt[(c*p.K+k)*rs : (c*p.K+k+1)*rs]
				for i, v := range src {
					dst[rs-1-i] = v
				}
			}
		}
		pad := p.R - 1 - p.PadT
		q := kernels.ConvParams{N: p.N, C: p.K, H: oh, W: ow, K: p.C, R: p.R, S: p.S,
			StrideH: 1, StrideW: 1, PadT: pad, PadL: pad, PadB: pad, PadR: pad}
		pc = kernels.NewPackedConv(q, wt)
	}
	n.packedT[name] = pc
	return pc
}
