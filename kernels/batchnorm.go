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
// affine map y = scale·x + shift: scale = gamma/√(var+eps),
// shift = beta − mean·scale. scale and shift must hold len(gamma) floats.
func BatchNormFold(gamma, beta, mean, variance []float32, eps float32, scale, shift []float32) {
	for i := range gamma {
		s := gamma[i] / float32(math.Sqrt(float64(variance[i]+eps)))
		scale[i] = s
		shift[i] = beta[i] - mean[i]*s
	}
}

// ScaleShift computes y = act(scale[ch]·x + shift[ch]) per channel: batch
// norm at inference after BatchNormFold. y may alias x.
func ScaleShift(n, c, hw int, x, scale, shift, y []float32, act Activation) {
	checkBN("ScaleShift", n, c, hw, len(x), len(y))
	for i := 0; i < n*c; i++ {
		s, b := scale[i%c], shift[i%c]
		xs, ys := x[i*hw:(i+1)*hw], y[i*hw:(i+1)*hw]
		for j, v := range xs {
			v = s*v + b
			if act == ActReLU && v < 0 {
				v = 0
			}
			ys[j] = v
		}
	}
}

// BatchNormTrainForward normalizes x with its batch statistics:
// y = gamma·(x − mean)/√(var + eps) + beta, var the biased batch variance.
// It writes the batch mean and variance (c floats each; for the running
// averages) and invStd = 1/√(var+eps) (c floats, for the backward pass).
func BatchNormTrainForward(n, c, hw int, x, gamma, beta []float32, eps float32, y, mean, variance, invStd []float32) {
	checkBN("BatchNormTrainForward", n, c, hw, len(x), len(y))
	cnt := float64(n * hw)
	for ch := 0; ch < c; ch++ {
		var s float64
		for b := 0; b < n; b++ {
			for _, v := range x[(b*c+ch)*hw : (b*c+ch+1)*hw] {
				s += float64(v)
			}
		}
		mu := s / cnt
		var ss float64
		for b := 0; b < n; b++ {
			for _, v := range x[(b*c+ch)*hw : (b*c+ch+1)*hw] {
				d := float64(v) - mu
				ss += d * d
			}
		}
		vr := ss / cnt
		is := 1 / math.Sqrt(vr+float64(eps))
		mean[ch], variance[ch], invStd[ch] = float32(mu), float32(vr), float32(is)
		scale := float32(is) * gamma[ch]
		shift := beta[ch] - float32(mu)*scale
		for b := 0; b < n; b++ {
			xs, ys := x[(b*c+ch)*hw:(b*c+ch+1)*hw], y[(b*c+ch)*hw:(b*c+ch+1)*hw]
			for j, v := range xs {
				ys[j] = v*scale + shift
			}
		}
	}
}

// BatchNormTrainBackward computes the gradients of BatchNormTrainForward:
// dx (overwritten), dgamma and dbeta (c floats each, overwritten), from x,
// dy, gamma and the mean and invStd the forward pass wrote.
func BatchNormTrainBackward(n, c, hw int, x, dy, gamma, mean, invStd, dx, dgamma, dbeta []float32) {
	checkBN("BatchNormTrainBackward", n, c, hw, len(x), len(dy), len(dx))
	cnt := float64(n * hw)
	for ch := 0; ch < c; ch++ {
		mu, is := float64(mean[ch]), float64(invStd[ch])
		var sdy, sdyx float64
		for b := 0; b < n; b++ {
			off := (b*c + ch) * hw
			xs, ds := x[off:off+hw], dy[off:off+hw]
			for j, d := range ds {
				sdy += float64(d)
				sdyx += float64(d) * (float64(xs[j]) - mu) * is
			}
		}
		dgamma[ch], dbeta[ch] = float32(sdyx), float32(sdy)
		// dx = gamma·invStd/M · (M·dy − Σdy − x̂·Σ(dy·x̂))
		k := float64(gamma[ch]) * is / cnt
		for b := 0; b < n; b++ {
			off := (b*c + ch) * hw
			xs, ds, out := x[off:off+hw], dy[off:off+hw], dx[off:off+hw]
			for j, d := range ds {
				xh := (float64(xs[j]) - mu) * is
				out[j] = float32(k * (cnt*float64(d) - sdy - xh*sdyx))
			}
		}
	}
}
