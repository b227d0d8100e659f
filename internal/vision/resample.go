package vision

import "math"

// precisionBits is Pillow's PRECISION_BITS for 8-bit resampling: 32 - 8 - 2.
const precisionBits = 32 - 8 - 2

// coeffs holds, for each output sample, the first input sample and the
// fixed-point weights of the inputs that make it (Pillow's bounds and kk).
type coeffs struct {
	start []int
	n     []int
	k     [][]int32
}

// bilinearCoeffs is Pillow's precompute_coeffs with the bilinear (triangle)
// filter followed by normalize_coeffs_8bpc, for resampling inSize samples
// to outSize.
func bilinearCoeffs(inSize, outSize int) coeffs {
	scale := float64(inSize) / float64(outSize)
	filterscale := max(scale, 1)
	support := 1.0 * filterscale
	ss := 1 / filterscale
	ksize := int(math.Ceil(support))*2 + 1
	c := coeffs{start: make([]int, outSize), n: make([]int, outSize), k: make([][]int32, outSize)}
	flat := make([]int32, outSize*ksize) // one allocation for every output's weights
	w := make([]float64, 0, ksize)
	for xx := range outSize {
		center := (float64(xx) + 0.5) * scale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		w = w[:0]
		var ww float64
		for x := range xmax {
			v := math.Abs((float64(x+xmin) - center + 0.5) * ss)
			if v < 1 {
				v = 1 - v
			} else {
				v = 0
			}
			w = append(w, v)
			ww += v
		}
		k := flat[xx*ksize : xx*ksize+max(min(xmax, ksize), 0)]
		for x, v := range w {
			if ww != 0 {
				v /= ww
			}
			if v < 0 {
				k[x] = int32(-0.5 + v*(1<<precisionBits))
			} else {
				k[x] = int32(0.5 + v*(1<<precisionBits))
			}
		}
		c.start[xx], c.n[xx], c.k[xx] = xmin, max(xmax, 0), k
	}
	return c
}

// clip8 is Pillow's clip8: a fixed-point sum back to an 8-bit sample.
func clip8(v int32) uint8 { return clamp255(v >> precisionBits) }

// Resize resamples p to h×w with Pillow's bilinear filter (Image.resize with
// Image.BILINEAR on an "L" or "RGB" image): antialiased when shrinking,
// horizontal pass first, each pass rounded to 8 bits. It returns p itself
// when the size is unchanged. h and w must be positive.
func Resize(p Planes, h, w int) Planes {
	if p.H == h && p.W == w {
		return p
	}
	if p.W != w {
		p = resizeH(p, w)
	}
	if p.H != h {
		p = resizeV(p, h)
	}
	return p
}

func resizeH(p Planes, w int) Planes {
	c := bilinearCoeffs(p.W, w)
	out := Planes{Pix: make([]uint8, p.C*p.H*w), C: p.C, H: p.H, W: w}
	for r := range p.C * p.H {
		in, o := p.Pix[r*p.W:(r+1)*p.W], out.Pix[r*w:(r+1)*w]
		for xx := range w {
			ss := int32(1 << (precisionBits - 1))
			src := in[c.start[xx]:]
			for x, k := range c.k[xx] {
				ss += int32(src[x]) * k
			}
			o[xx] = clip8(ss)
		}
	}
	return out
}

func resizeV(p Planes, h int) Planes {
	c := bilinearCoeffs(p.H, h)
	out := Planes{Pix: make([]uint8, p.C*h*p.W), C: p.C, H: h, W: p.W}
	acc := make([]int32, p.W)
	for ch := range p.C {
		plane := p.Pix[ch*p.H*p.W : (ch+1)*p.H*p.W]
		for yy := range h {
			for x := range acc {
				acc[x] = 1 << (precisionBits - 1)
			}
			for y, k := range c.k[yy] {
				row := plane[(c.start[yy]+y)*p.W : (c.start[yy]+y+1)*p.W]
				for x, v := range row {
					acc[x] += int32(v) * k
				}
			}
			o := out.Pix[(ch*h+yy)*p.W : (ch*h+yy+1)*p.W]
			for x, v := range acc {
				o[x] = clip8(v)
			}
		}
	}
	return out
}

// ResizedSize is torchvision's Resize(n) rule for an h×w image: the shorter
// side becomes n and the longer int(n·long/short) (truncated, computed as
// Python does in float64).
func ResizedSize(h, w, n int) (rh, rw int) {
	short, long := h, w
	if w <= h {
		short, long = w, h
	}
	nl := int(float64(n*long) / float64(short))
	if w <= h {
		return nl, n
	}
	return n, nl
}

// CenterCropOffsets is torchvision's CenterCrop placement of a th×tw window
// in an h×w image: int(round((h - th) / 2.0)), rounding halves to even.
func CenterCropOffsets(h, w, th, tw int) (top, left int) {
	return int(math.RoundToEven(float64(h-th) / 2)), int(math.RoundToEven(float64(w-tw) / 2))
}
