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
	cw, chh := (w+hs-1)/hs, (h+vs-1)/vs
	// One row of upsampled chroma at a time: no full-size chroma planes.
	ub, vb := newUpsampler(m.Cb, m.CStride, cw, chh, hs, vs), newUpsampler(m.Cr, m.CStride, cw, chh, hs, vs)
	cb, cr := make([]uint8, max(w, hs*cw)), make([]uint8, max(w, hs*cw))
	r, g, bl := p.Pix[:n], p.Pix[n:2*n], p.Pix[2*n:]
	for y := range h {
		if b.Min != (image.Point{}) {
			for x := range w {
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				cb[x], cr[x] = m.Cb[ci], m.Cr[ci]
			}
		} else {
			ub.row(y, cb)
			vb.row(y, cr)
		}
		yrow := m.Y[m.YOffset(b.Min.X, b.Min.Y+y):][:w]
		for x, yv := range yrow {
			i := y*w + x
			Y, u, v := int32(yv), cb[x], cr[x]
			r[i] = clamp255(Y + crR[v])
			g[i] = clamp255(Y + (cbG[u]+crG[v])>>16)
			bl[i] = clamp255(Y + cbB[u])
		}
	}
	return p
}

// upsampler expands one chroma plane (cw×ch real samples, rows stride
// apart) by hs×vs, a row at a time, with libjpeg's default method for that
// factor (jdsample.c).
type upsampler struct {
	src                    []uint8
	stride, cw, ch, hs, vs int
	sums                   []int32
}

func newUpsampler(src []uint8, stride, cw, ch, hs, vs int) *upsampler {
	return &upsampler{src: src, stride: stride, cw: cw, ch: ch, hs: hs, vs: vs, sums: make([]int32, cw)}
}

// in returns chroma row y, edge rows replicated as jdmainct.c does.
func (u *upsampler) in(y int) []uint8 {
	y = min(max(y, 0), u.ch-1)
	return u.src[y*u.stride : y*u.stride+u.cw]
}

// row writes output row y (hs×cw samples) into line.
func (u *upsampler) row(y int, line []uint8) {
	cw, cy := u.cw, y/u.vs
	switch {
	case u.hs == 2 && u.vs == 2 && cw > 2: // h2v2_fancy_upsample
		near, far := u.in(cy), u.in(cy-1)
		if y%2 == 1 {
			far = u.in(cy + 1)
		}
		sums := u.sums
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
	case u.hs == 2 && u.vs == 1 && cw > 2: // h2v1_fancy_upsample
		in := u.in(cy)
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
	case u.hs == 1 && u.vs == 2: // h1v2_fancy_upsample
		near, far, bias := u.in(cy), u.in(cy-1), int32(1)
		if y%2 == 1 {
			far, bias = u.in(cy+1), 2
		}
		for j := range cw {
			line[j] = uint8((3*int32(near[j]) + int32(far[j]) + bias) >> 2)
		}
	default: // full size, or box replication (h2v1_upsample, int_upsample)
		for j, v := range u.in(cy) {
			for k := range u.hs {
				line[j*u.hs+k] = v
			}
		}
	}
}
