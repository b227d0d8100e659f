package vision

import (
	"errors"
	"fmt"
	"image"
	"image/color"
)

// Planes is an 8-bit image in planar layout: C planes (1: grey; 3: R, G,
// B) of H rows of W samples each, row-major.
type Planes struct {
	Pix     []uint8
	C, H, W int
}

// MaxPixels bounds the images Convert accepts (width × height).
const MaxPixels = 1 << 28

// ErrImage is returned (wrapped) for images that cannot be converted.
var ErrImage = errors.New("unusable image")

// Convert turns img into c planes as PIL's img.convert("L") (c = 1) or
// img.convert("RGB") (c = 3) would, given the image PIL would have opened
// from the same file:
//
//   - *image.YCbCr: libjpeg's default RGB (see JPEGToRGB);
//   - *image.Gray: as is (replicated for RGB);
//   - *image.Gray16: PIL opens 16-bit grey PNGs as mode "I", whose
//     conversion clips to 0–255 (it does not scale);
//   - *image.RGBA64, *image.NRGBA64: the high byte of each sample, as PIL's
//     "RGB;16B" / "RGBA;16B" readers keep;
//   - *image.NRGBA and palettes: the colour without its alpha (PIL drops
//     alpha; it does not composite over a background);
//   - *image.RGBA: un-premultiplied to its straight colour;
//   - *image.CMYK (CMYK JPEGs): PIL's integer CMYK → RGB;
//   - anything else through color.NRGBAModel.
//
// Grey from colour is PIL's integer ITU-R 601-2 luma.
func Convert(img image.Image, c int) (Planes, error) {
	if img == nil {
		return Planes{}, fmt.Errorf("vision: convert: %w: nil image", ErrImage)
	}
	if c != 1 && c != 3 {
		return Planes{}, fmt.Errorf("vision: convert: %w: %d channels (want 1 or 3)", ErrImage, c)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 || int64(w)*int64(h) > MaxPixels {
		return Planes{}, fmt.Errorf("vision: convert: %w: size %dx%d (want 1 to %d pixels)", ErrImage, w, h, MaxPixels)
	}
	if g, ok := img.(*image.Gray); ok {
		p := Planes{Pix: make([]uint8, c*w*h), C: c, H: h, W: w}
		for y := range h {
			row := g.Pix[g.PixOffset(b.Min.X, b.Min.Y+y):][:w]
			for ch := range c {
				copy(p.Pix[(ch*h+y)*w:], row)
			}
		}
		return p, nil
	}
	var rgb Planes
	if ycc, ok := img.(*image.YCbCr); ok {
		rgb = JPEGToRGB(ycc)
	} else {
		rgb = toRGB(img)
	}
	if c == 3 {
		return rgb, nil
	}
	return Luma(rgb), nil
}

// Luma converts RGB planes to one grey plane with PIL's convert("L")
// arithmetic: (19595 R + 38470 G + 7471 B + 0x8000) >> 16.
func Luma(p Planes) Planes {
	if p.C == 1 {
		return p
	}
	n := p.H * p.W
	out := Planes{Pix: make([]uint8, n), C: 1, H: p.H, W: p.W}
	r, g, b := p.Pix[:n], p.Pix[n:2*n], p.Pix[2*n:3*n]
	for i := range out.Pix {
		out.Pix[i] = uint8((19595*uint32(r[i]) + 38470*uint32(g[i]) + 7471*uint32(b[i]) + 0x8000) >> 16)
	}
	return out
}

// toRGB converts any image but YCbCr and Gray to RGB planes.
func toRGB(img image.Image) Planes {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	n := w * h
	p := Planes{Pix: make([]uint8, 3*n), C: 3, H: h, W: w}
	r, g, bl := p.Pix[:n], p.Pix[n:2*n], p.Pix[2*n:]
	for y := range h {
		for x := range w {
			i := y*w + x
			switch im := img.(type) {
			case *image.NRGBA:
				s := im.Pix[im.PixOffset(b.Min.X+x, b.Min.Y+y):]
				r[i], g[i], bl[i] = s[0], s[1], s[2]
			case *image.RGBA:
				s := im.Pix[im.PixOffset(b.Min.X+x, b.Min.Y+y):]
				if s[3] == 255 {
					r[i], g[i], bl[i] = s[0], s[1], s[2]
					continue
				}
				c := color.NRGBAModel.Convert(color.RGBA{s[0], s[1], s[2], s[3]}).(color.NRGBA)
				r[i], g[i], bl[i] = c.R, c.G, c.B
			case *image.RGBA64:
				s := im.Pix[im.PixOffset(b.Min.X+x, b.Min.Y+y):]
				r[i], g[i], bl[i] = s[0], s[2], s[4]
			case *image.NRGBA64:
				s := im.Pix[im.PixOffset(b.Min.X+x, b.Min.Y+y):]
				r[i], g[i], bl[i] = s[0], s[2], s[4]
			case *image.CMYK: // PIL's cmyk2rgb: (255-K) - C·(255-K)/255, rounded its way
				s := im.Pix[im.PixOffset(b.Min.X+x, b.Min.Y+y):]
				nk := 255 - int32(s[3])
				mul := func(v uint8) uint8 {
					t := int32(v)*nk + 128
					return clamp255(nk - ((t>>8)+t)>>8)
				}
				r[i], g[i], bl[i] = mul(s[0]), mul(s[1]), mul(s[2])
			case *image.Gray16:
				s := im.Pix[im.PixOffset(b.Min.X+x, b.Min.Y+y):]
				v := uint8(255)
				if s[0] == 0 {
					v = s[1]
				}
				r[i], g[i], bl[i] = v, v, v
			default:
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				r[i], g[i], bl[i] = c.R, c.G, c.B
			}
		}
	}
	return p
}
