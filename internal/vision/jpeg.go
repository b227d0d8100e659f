package vision

import "image"

// libjpeg's YCbCr → RGB tables (jdcolor.c, build_ycc_rgb_table): 16-bit
// fixed point, red and blue rounded per table entry, green summed from two
// scaled entries and shifted (floor) once.
var crR, cbB, crG, cbG [256]int32

func init() {
	const scaleBits = 16
	const half = 1 << (scaleBits - 1)
	fix := func(x float64) int32 { return int32(x*(1<<scaleBits) + 0.5) }
	for i := range 256 {
		x := int32(i - 128)
		crR[i] = (fix(1.40200)*x + half) >> scaleBits
		cbB[i] = (fix(1.77200)*x + half) >> scaleBits
		crG[i] = -fix(0.71414) * x
		cbG[i] = -fix(0.34414)*x + half
	}
}

func clamp255(v int32) uint8 {
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return uint8(v)
}

// JPEGToRGB converts the planes image/jpeg decoded into the RGB pixels
// libjpeg(-turbo) gives by default (what PIL and so torchvision see):
// chroma upsampled with libjpeg's "fancy" triangle filters (h2v1, h1v2,
// h2v2; box replication for 4:1:1 and 4:1:0, and for h2 chroma planes
// two samples wide or less, as libjpeg does), edges replicated, then the
// fixed-point YCbCr → RGB tables. A YCbCr image whose bounds do not start at
// (0, 0) (a sub-image) has lost the chroma siting of its file; it is
// converted with chroma replicated instead.
func JPEGToRGB(m *image.YCbCr) Planes {
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	n := w * h
	p := Planes{Pix: make([]uint8, 3*n), C: 3, H: h, W: w}
	cb, cr := make([]uint8, n), make([]uint8, n)
	hs, vs := 1, 1
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		hs = 2
	case image.YCbCrSubsampleRatio420:
		hs, vs = 2, 2
	case image.YCbCrSubsampleRatio440:
		vs = 2
	case image.YCbCrSubsampleRatio411:
		hs = 4
	case image.YCbCrSubsampleRatio410:
		hs, vs = 4, 2
	}
	if b.Min != (image.Point{}) {
		for y := range h {
			for x := range w {
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				cb[y*w+x], cr[y*w+x] = m.Cb[ci], m.Cr[ci]
			}
		}
	} else {
		cw, chh := (w+hs-1)/hs, (h+vs-1)/vs
		upsample(m.Cb, m.CStride, cw, chh, hs, vs, cb, w, h)
		upsample(m.Cr, m.CStride, cw, chh, hs, vs, cr, w, h)
	}
	r, g, bl := p.Pix[:n], p.Pix[n:2*n], p.Pix[2*n:]
	for y := range h {
		yrow := m.Y[m.YOffset(b.Min.X, b.Min.Y+y):][:w]
		for x, yv := range yrow {
			i := y*w + x
			Y, u, v := int32(yv), cb[i], cr[i]
			r[i] = clamp255(Y + crR[v])
			g[i] = clamp255(Y + (cbG[u]+crG[v])>>16)
			bl[i] = clamp255(Y + cbB[u])
		}
	}
	return p
}

// upsample expands one chroma plane (cw×ch real samples, rows stride
// apart) by hs×vs into dst (w×h) with libjpeg's default method for that
// factor (jdsample.c).
func upsample(src []uint8, stride, cw, ch, hs, vs int, dst []uint8, w, h int) {
	row := func(y int) []uint8 { // edge rows replicated, as jdmainct.c does
		y = min(max(y, 0), ch-1)
		return src[y*stride : y*stride+cw]
	}
	line := make([]uint8, hs*cw)
	sums := make([]int32, cw)
	for y := range h {
		cy := y / vs
		switch {
		case hs == 2 && vs == 2 && cw > 2: // h2v2_fancy_upsample
			near, far := row(cy), row(cy-1)
			if y%2 == 1 {
				far = row(cy + 1)
			}
			for j := range cw {
				sums[j] = 3*int32(near[j]) + int32(far[j])
			}
			for j, s := range sums {
				if j == 0 {
					line[0] = uint8((s*4 + 8) >> 4)
				} else {
					line[2*j] = uint8((s*3 + sums[j-1] + 8) >> 4)
				}
				if j == cw-1 {
					line[2*j+1] = uint8((s*4 + 7) >> 4)
				} else {
					line[2*j+1] = uint8((s*3 + sums[j+1] + 7) >> 4)
				}
			}
		case hs == 2 && vs == 1 && cw > 2: // h2v1_fancy_upsample
			in := row(cy)
			for j := range cw {
				v := 3 * int32(in[j])
				if j == 0 {
					line[0] = in[0]
				} else {
					line[2*j] = uint8((v + int32(in[j-1]) + 1) >> 2)
				}
				if j == cw-1 {
					line[2*j+1] = in[j]
				} else {
					line[2*j+1] = uint8((v + int32(in[j+1]) + 2) >> 2)
				}
			}
		case hs == 1 && vs == 2: // h1v2_fancy_upsample
			near, far, bias := row(cy), row(cy-1), int32(1)
			if y%2 == 1 {
				far, bias = row(cy+1), 2
			}
			for j := range cw {
				line[j] = uint8((3*int32(near[j]) + int32(far[j]) + bias) >> 2)
			}
		default: // full size, or box replication (h2v1_upsample, int_upsample)
			in := row(cy)
			for j, v := range in {
				for k := range hs {
					line[j*hs+k] = v
				}
			}
		}
		copy(dst[y*w:(y+1)*w], line[:w])
	}
}
