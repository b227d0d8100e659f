package zoo

import (
	"fmt"
	"math"
)

// CAMOptions chooses Grad-CAM's classes and layer.
type CAMOptions struct {
	// Classes has one class per batch row; nil explains each row's top-1
	// class (found in the same pass).
	Classes []int
	// Layer is the activation to explain (Net.LayerNames); "" is
	// Net.CAMLayer, the last convolutional stage.
	Layer string
}

// CAM is one image's Grad-CAM explanation.
type CAM struct {
	Class  int       // the class explained
	Logits []float32 // the image's logits (eval mode)
	// H, W are the input's height and width; Map is H×W, row-major, in
	// [0, 1].
	H, W int
	Map  []float32
}

// GradCAM explains the network's class scores on x (batch × C × H × W, the
// network's normalised input) with Grad-CAM (Selvaraju et al., 2017): at
// the layer's activation A (K channels of h×w), channel weights are the
// spatial means of ∂score_c/∂A, the map is ReLU(Σ_k w_k·A_k), upsampled
// bilinearly to H×W (half-pixel centres, PyTorch's F.interpolate with
// align_corners=False) and min-max normalised to [0, 1] per image (a
// constant map, e.g. all zero after the ReLU, becomes 0). One eval-mode
// forward and backward pass (Gradients) serves the whole batch.
func (n *Net) GradCAM(x []float32, batch int, o CAMOptions) ([]CAM, error) {
	layer := o.Layer
	if layer == "" {
		layer = n.camLayer
	}
	g, err := n.Gradients(x, batch, GradOptions{Classes: o.Classes, Top1: o.Classes == nil, Layer: layer})
	if err != nil {
		return nil, fmt.Errorf("zoo: grad-cam: %w", err)
	}
	if len(g.ActShape) != 4 {
		return nil, fmt.Errorf("%w: grad-cam: layer %q has shape %v, not N×C×H×W", ErrInput, layer, g.ActShape)
	}
	k, h, w := g.ActShape[1], g.ActShape[2], g.ActShape[3]
	H, W := n.input[1], n.input[2]
	classes := n.args.NumClasses
	cams := make([]CAM, batch)
	for b := range cams {
		off := b * k * h * w
		small := camMap(g.Act[off:off+k*h*w], g.ActGrad[off:off+k*h*w], k, h, w)
		m := make([]float32, H*W)
		Upsample(m, H, W, small, h, w)
		normalize(m)
		cams[b] = CAM{Class: g.Classes[b], Logits: g.Logits[b*classes : (b+1)*classes], H: H, W: W, Map: m}
	}
	return cams, nil
}

// camMap is ReLU(Σ_k mean(dA_k)·A_k) over one image's K×h×w activation.
func camMap(act, grad []float32, k, h, w int) []float32 {
	hw := h * w
	out := make([]float64, hw)
	for c := 0; c < k; c++ {
		var s float64
		for _, v := range grad[c*hw : (c+1)*hw] {
			s += float64(v)
		}
		wk := s / float64(hw)
		for i, v := range act[c*hw : (c+1)*hw] {
			out[i] += wk * float64(v)
		}
	}
	m := make([]float32, hw)
	for i, v := range out {
		m[i] = float32(math.Max(v, 0))
	}
	return m
}

// Upsample resizes src (sh×sw) into dst (dh×dw) bilinearly with half-pixel
// centres: PyTorch's F.interpolate(mode='bilinear', align_corners=False)
// (source coordinate (d+0.5)·s/d − 0.5, clamped at 0; edges replicate).
func Upsample(dst []float32, dh, dw int, src []float32, sh, sw int) {
	ys := bilinearTaps(dh, sh)
	xs := bilinearTaps(dw, sw)
	for y, ty := range ys {
		r0, r1 := src[ty.i0*sw:(ty.i0+1)*sw], src[ty.i1*sw:(ty.i1+1)*sw]
		for x, tx := range xs {
			top := (1-tx.l)*r0[tx.i0] + tx.l*r0[tx.i1]
			bot := (1-tx.l)*r1[tx.i0] + tx.l*r1[tx.i1]
			dst[y*dw+x] = (1-ty.l)*top + ty.l*bot
		}
	}
}

type tap struct {
	i0, i1 int
	l      float32
}

// bilinearTaps follows ATen's area_pixel_compute_source_index and
// upsample_bilinear2d for one axis.
func bilinearTaps(out, in int) []tap {
	scale := float32(in) / float32(out)
	taps := make([]tap, out)
	for d := range taps {
		src := scale*(float32(d)+0.5) - 0.5
		if src < 0 {
			src = 0
		}
		i0 := int(src)
		i1 := i0
		if i0 < in-1 {
			i1 = i0 + 1
		}
		taps[d] = tap{i0: i0, i1: i1, l: src - float32(i0)}
	}
	return taps
}

// normalize maps m's range onto [0, 1]; a constant m becomes 0.
func normalize(m []float32) {
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range m {
		lo, hi = min(lo, v), max(hi, v)
	}
	if !(hi > lo) {
		clear(m)
		return
	}
	inv := 1 / (hi - lo)
	for i, v := range m {
		m[i] = (v - lo) * inv
	}
}
