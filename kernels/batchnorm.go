package kernels

import (
	"fmt"
	"math"
)

// BatchNorm kernels work on NCHW tensors seen as n×c×hw: statistics are
// per channel, over the n·hw values of that channel.

func checkBN(name string, n, c, hw int, lens ...int) {
	for _, l := range lens {
		if n < 0 || c < 0 || hw < 0 || l < n*c*hw {
			panic(fmt.Sprintf("kernels: %s: slice of %d floats for n=%d c=%d hw=%d", name, l, n, c, hw))
		}
	}
}

// BatchNormFold turns inference batch-norm parameters into a per-channel
// affine map y = scale·x + shift: scale = gamma/√(var+eps), computed in
// float64 and rounded once, and shift = beta − mean·scale. scale and shift
// must hold len(gamma) floats.
func BatchNormFold(gamma, beta, mean, variance []float32, eps float32, scale, shift []float32) {
	for i := range gamma {
		s := float32(float64(gamma[i]) / math.Sqrt(float64(variance[i])+float64(eps)))
		scale[i] = s
		shift[i] = beta[i] - mean[i]*s
	}
}

// ScaleShift computes y = act(scale[ch]·x + shift[ch]) per channel: batch
// norm at inference after BatchNormFold. y may alias x.
func ScaleShift(n, c, hw int, x, scale, shift, y []float32, act Activation) {
	checkBN("ScaleShift", n, c, hw, len(x), len(y))
	if hw == 0 {
		return
	}
	ParallelRange(n*c, n*c*hw, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			k := i % c
			AffineRow(y[i*hw:(i+1)*hw], x[i*hw:(i+1)*hw], scale[k], shift[k], act)
		}
	})
}

// BatchNormTrain is batch norm in training mode over n×c×hw tensors (as
// PyTorch's BatchNorm2d, or cuDNN's forward-training call): it normalises
// with the batch's statistics and moves the running averages towards them.
// Forward saves what Backward needs in XHat and InvStd.
type BatchNormTrain struct {
	N, C, HW int
	Eps      float64
	// Momentum weighs the batch in the running averages:
	// r = (1 − Momentum)·r + Momentum·batch, the variance unbiased.
	Momentum        float64
	Act             Activation // applied to the output
	RunMean, RunVar []float32  // C floats each, updated by Forward
	XHat            []float32  // N·C·HW floats: the normalised input
	InvStd          []float32  // C floats: 1/√(var + Eps), var the biased batch variance
}

func (b *BatchNormTrain) check(name string, lens ...int) {
	checkBN(name, b.N, b.C, b.HW, append(lens, len(b.XHat))...)
	if b.N*b.HW < 2 || len(b.RunMean) < b.C || len(b.RunVar) < b.C || len(b.InvStd) < b.C {
		panic(fmt.Sprintf("kernels: %s: %d values per channel (need 2) or per-channel slices shorter than C=%d", name, b.N*b.HW, b.C))
	}
}

// Forward writes y = act(gamma·x̂ + beta), x̂ = (x − mean)·InvStd, per
// channel (gamma and beta hold C floats), and updates the running
// averages.
func (b *BatchNormTrain) Forward(x, gamma, beta, y []float32) {
	b.check("BatchNormTrain.Forward", len(x), len(y))
	n, c, hw := b.N, b.C, b.HW
	m := float64(n * hw)
	ParallelRange(c, n*c*hw, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var sum float64
			for i := 0; i < n; i++ {
				sum += float64(SumRow(x[(i*c+ch)*hw : (i*c+ch+1)*hw]))
			}
			mean := sum / m
			var sq float64
			for i := 0; i < n; i++ {
				sq += float64(SumSqDevRow(x[(i*c+ch)*hw:(i*c+ch+1)*hw], float32(mean)))
			}
			variance := sq / m
			is := float32(1 / math.Sqrt(variance+b.Eps))
			b.InvStd[ch] = is
			for i := 0; i < n; i++ {
				off := (i*c + ch) * hw
				AffineRow(b.XHat[off:off+hw], x[off:off+hw], is, -float32(mean)*is, ActNone)
				AffineRow(y[off:off+hw], b.XHat[off:off+hw], gamma[ch], beta[ch], b.Act)
			}
			b.RunMean[ch] = float32((1-b.Momentum)*float64(b.RunMean[ch]) + b.Momentum*mean)
			b.RunVar[ch] = float32((1-b.Momentum)*float64(b.RunVar[ch]) + b.Momentum*variance*m/(m-1))
		}
	})
}

// Backward computes the gradients of Forward from its output y (read only
// with ActReLU, whose gradient is masked by it) and dy: dx (overwritten),
// and dgamma and dbeta (C floats each, overwritten).
func (b *BatchNormTrain) Backward(y, dy, gamma, dx, dgamma, dbeta []float32) {
	b.check("BatchNormTrain.Backward", len(y), len(dy), len(dx))
	n, c, hw := b.N, b.C, b.HW
	m := float32(n * hw)
	relu := b.Act == ActReLU
	ParallelRange(c, n*c*hw, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var sdy, sdyx float64
			for i := 0; i < n; i++ {
				off := (i*c + ch) * hw
				var s, d float32
				if relu {
					s, d = MaskedDotSumRow(dy[off:off+hw], b.XHat[off:off+hw], y[off:off+hw])
				} else {
					s, d = DotSumRow(dy[off:off+hw], b.XHat[off:off+hw])
				}
				sdy += float64(s)
				sdyx += float64(d)
			}
			dgamma[ch], dbeta[ch] = float32(sdyx), float32(sdy)
			// dx = k·(m·dy − Σdy − x̂·Σ(dy·x̂)), k = γ·invstd/m
			k := gamma[ch] * b.InvStd[ch] / m
			mdy, mdyx := float32(sdy), float32(sdyx)
			for i := 0; i < n; i++ {
				off := (i*c + ch) * hw
				if relu {
					Affine2MaskRow(dx[off:off+hw], dy[off:off+hw], b.XHat[off:off+hw], y[off:off+hw], k*m, -k*mdyx, -k*mdy)
					continue
				}
				Affine2Row(dx[off:off+hw], dy[off:off+hw], b.XHat[off:off+hw], k*m, -k*mdyx, -k*mdy)
			}
		}
	})
}
