package hub

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
)

// MaxImagePixels bounds the images Preprocess accepts.
const MaxImagePixels = 1 << 28

// ErrImage is returned (wrapped) for images Preprocess cannot use.
var ErrImage = errors.New("unusable image")

// Preprocess turns img into the model's input, C×H×W float32 in row-major
// order, following the entry's Input: grey (luma 0.299R+0.587G+0.114B) or
// RGB by channel count; antialiased bilinear resize so the shorter side is
// Input.Resize (or straight to H×W when Resize is 0); centre crop to H×W;
// division by Input.Scale; per-channel (v-mean)/std. Transparent pixels are
// taken without their alpha, as PIL's convert("RGB") does.
func (m *Model) Preprocess(img image.Image) ([]float32, error) {
	return preprocess(img, m.entry.Input, nil)
}

// preprocess writes into dst when it has room for C×H×W values.
func preprocess(img image.Image, in Input, dst []float32) ([]float32, error) {
	if img == nil {
		return nil, fmt.Errorf("hub: preprocess: %w: nil image", ErrImage)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 || int64(w)*int64(h) > MaxImagePixels {
		return nil, fmt.Errorf("hub: preprocess: %w: size %dx%d (want 1 to %d pixels)", ErrImage, w, h, MaxImagePixels)
	}
	c, oh, ow := in.Shape[0], in.Shape[1], in.Shape[2]
	src := toPlanes(img, c)

	rh, rw := oh, ow
	if in.Resize > 0 {
		if w <= h {
			rw, rh = in.Resize, int(float64(in.Resize)*float64(h)/float64(w))
		} else {
			rh, rw = in.Resize, int(float64(in.Resize)*float64(w)/float64(h))
		}
		rh, rw = max(rh, oh), max(rw, ow)
	}
	planes := resize(src, c, h, w, rh, rw)

	top := int(math.Round(float64(rh-oh) / 2))
	left := int(math.Round(float64(rw-ow) / 2))
	n := c * oh * ow
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	for ch := range c {
		mean, inv := float32(in.Mean[ch]), float32(1/in.Std[ch])
		scale := float32(1 / in.Scale)
		for y := range oh {
			row := planes[ch*rh*rw+(y+top)*rw+left:]
			out := dst[ch*oh*ow+y*ow:]
			for x := range ow {
				out[x] = (row[x]*scale - mean) * inv
			}
		}
	}
	return dst, nil
}

// toPlanes converts img to c planes (1: luma, 3: R, G, B) of 0-255 floats.
func toPlanes(img image.Image, c int) []float32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]float32, c*w*h)
	put := func(i int, r, g, bl uint8) {
		if c == 1 {
			out[i] = 0.299*float32(r) + 0.587*float32(g) + 0.114*float32(bl)
			return
		}
		out[i], out[w*h+i], out[2*w*h+i] = float32(r), float32(g), float32(bl)
	}
	switch im := img.(type) {
	case *image.Gray:
		for y := range h {
			row := im.Pix[y*im.Stride : y*im.Stride+w]
			for x, v := range row {
				put(y*w+x, v, v, v)
			}
		}
	case *image.YCbCr:
		for y := range h {
			for x := range w {
				yi := im.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := im.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(im.Y[yi], im.Cb[ci], im.Cr[ci])
				put(y*w+x, r, g, bl)
			}
		}
	case *image.NRGBA:
		for y := range h {
			row := im.Pix[y*im.Stride : y*im.Stride+4*w]
			for x := range w {
				put(y*w+x, row[4*x], row[4*x+1], row[4*x+2])
			}
		}
	default:
		for y := range h {
			for x := range w {
				p := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				put(y*w+x, p.R, p.G, p.B)
			}
		}
	}
	return out
}

// resize resamples c planes of h×w to rh×rw with a triangle (bilinear)
// filter widened by the scale factor when shrinking, as PIL does.
func resize(src []float32, c, h, w, rh, rw int) []float32 {
	if h == rh && w == rw {
		return src
	}
	tmp := make([]float32, c*h*rw)
	xs := filterTable(w, rw)
	for p := range c * h {
		in, out := src[p*w:(p+1)*w], tmp[p*rw:(p+1)*rw]
		for x, t := range xs {
			var s float32
			for k, wt := range t.weights {
				s += in[t.start+k] * wt
			}
			out[x] = s
		}
	}
	dst := make([]float32, c*rh*rw)
	ys := filterTable(h, rh)
	for ch := range c {
		plane, out := tmp[ch*h*rw:(ch+1)*h*rw], dst[ch*rh*rw:(ch+1)*rh*rw]
		for y, t := range ys {
			row := out[y*rw : (y+1)*rw]
			for k, wt := range t.weights {
				in := plane[(t.start+k)*rw : (t.start+k+1)*rw]
				for x := range row {
					row[x] += in[x] * wt
				}
			}
		}
	}
	return dst
}

type taps struct {
	start   int
	weights []float32
}

// filterTable gives, for each of out output samples, the input samples and
// normalised triangle-filter weights that make it.
func filterTable(in, out int) []taps {
	scale := float64(in) / float64(out)
	support := max(scale, 1)
	t := make([]taps, out)
	for i := range t {
		center := (float64(i) + 0.5) * scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), in)
		ws := make([]float32, 0, hi-lo)
		var sum float64
		for j := lo; j < hi; j++ {
			wt := max(0, 1-math.Abs((float64(j)-center+0.5)/support))
			ws = append(ws, float32(wt))
			sum += wt
		}
		if sum > 0 {
			for k := range ws {
				ws[k] = float32(float64(ws[k]) / sum)
			}
		}
		t[i] = taps{start: lo, weights: ws}
	}
	return t
}
