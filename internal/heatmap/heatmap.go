// Package heatmap draws Grad-CAM explanations: a map in [0, 1] as a jet
// colour ramp, blended over the image the network saw. zoo-serve's explain
// endpoint and zoo-train gradcam draw with it, so both show the same thing.
//
// Inputs are plain slices in the network's layout (C × H × W, row-major,
// after the model's normalisation); Input maps them back to pixels.
package heatmap

import (
	"image"
	"image/color"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Input turns one preprocessed input (C × H × W, C = 1 or 3) back into an
// image. With mean and std (one per channel, as the model's preprocessing
// subtracted and divided by, on pixels scaled to [0, 1]) it inverts them
// exactly; without (nil), each channel is stretched from its own minimum
// and maximum to [0, 255]. Grey inputs become grey RGB.
func Input(x []float32, c, h, w int, mean, std []float64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	hw := h * w
	var planes [3][]uint8
	for ch := 0; ch < c && ch < 3; ch++ {
		p := x[ch*hw : (ch+1)*hw]
		scale, shift := 1.0, 0.0
		if ch < len(mean) && ch < len(std) {
			scale, shift = std[ch], mean[ch]
		} else {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, v := range p {
				lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
			}
			if hi > lo {
				scale, shift = 1/(hi-lo), -lo/(hi-lo)
			} else {
				scale, shift = 0, 0.5
			}
		}
		q := make([]uint8, hw)
		for i, v := range p {
			q[i] = to8(float64(v)*scale + shift)
		}
		planes[ch] = q
	}
	for i := 0; i < hw; i++ {
		r := planes[0][i]
		g, b := r, r
		if c >= 3 {
			g, b = planes[1][i], planes[2][i]
		}
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = r, g, b, 255
	}
	return img
}

// Jet is the jet colour ramp at v in [0, 1]: blue, cyan, yellow, red.
func Jet(v float32) color.RGBA {
	f := 4 * float64(v)
	ch := func(centre float64) uint8 { return to8(1.5 - math.Abs(f-centre)) }
	return color.RGBA{R: ch(3), G: ch(2), B: ch(1), A: 255}
}

// Overlay blends the jet colours of m (H × W in [0, 1], the size of img)
// over img: alpha·jet + (1−alpha)·img.
func Overlay(img *image.RGBA, m []float32, alpha float64) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(b)
	w := b.Dx()
	for i := range m {
		j := Jet(m[i])
		p := img.PixOffset(b.Min.X+i%w, b.Min.Y+i/w)
		o := out.PixOffset(b.Min.X+i%w, b.Min.Y+i/w)
		for k, c := range [3]uint8{j.R, j.G, j.B} {
			out.Pix[o+k] = to8((alpha*float64(c) + (1-alpha)*float64(img.Pix[p+k])) / 255)
		}
		out.Pix[o+3] = 255
	}
	return out
}

// Row places images side by side, gap pixels apart on white, scaling each
// to height h (nearest neighbour, so small inputs stay crisp).
func Row(h, gap int, imgs ...image.Image) *image.RGBA {
	width := 0
	for i, im := range imgs {
		if i > 0 {
			width += gap
		}
		width += scaledWidth(im, h)
	}
	out := white(width, h)
	x := 0
	for _, im := range imgs {
		b := im.Bounds()
		sw := scaledWidth(im, h)
		for y := 0; y < h; y++ {
			sy := b.Min.Y + y*b.Dy()/h
			for dx := 0; dx < sw; dx++ {
				out.Set(x+dx, y, im.At(b.Min.X+dx*b.Dx()/sw, sy))
			}
		}
		x += sw + gap
	}
	return out
}

// Column stacks images top to bottom, gap pixels apart, left-aligned on
// white.
func Column(gap int, imgs ...image.Image) *image.RGBA {
	w, h := 0, 0
	for i, im := range imgs {
		w = max(w, im.Bounds().Dx())
		if i > 0 {
			h += gap
		}
		h += im.Bounds().Dy()
	}
	out := white(w, h)
	y := 0
	for _, im := range imgs {
		b := im.Bounds()
		for dy := 0; dy < b.Dy(); dy++ {
			for dx := 0; dx < b.Dx(); dx++ {
				out.Set(dx, y+dy, im.At(b.Min.X+dx, b.Min.Y+dy))
			}
		}
		y += b.Dy() + gap
	}
	return out
}

func scaledWidth(im image.Image, h int) int {
	b := im.Bounds()
	if b.Dy() == 0 {
		return 0
	}
	return max(1, b.Dx()*h/b.Dy())
}

func to8(v float64) uint8 {
	v = math.Round(255 * v)
	if !(v > 0) {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// Label draws text in black on a white w×h box, vertically centred, in
// the 7×13 bitmap face (ASCII; other runes show as boxes).
func Label(text string, w, h int) *image.RGBA {
	img := white(w, h)
	d := font.Drawer{Dst: img, Src: image.Black, Face: basicfont.Face7x13,
		Dot: fixed.P(4, (h+basicfont.Face7x13.Ascent-basicfont.Face7x13.Descent)/2)}
	d.DrawString(text)
	return img
}

// white is an opaque white w×h canvas.
func white(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	return img
}
